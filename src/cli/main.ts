/**
 * The invbench command line (`deno task invbench <command>`). Exit codes: 0 success,
 * 2 invalid input (bad flags, unknown backend), 1 unexpected failure.
 */
import { Command, CommanderError } from "commander";
import { envFingerprint } from "../run/env.ts";
import { TensorError } from "../tensor/tensor.ts";

export const EXIT = { ok: 0, failure: 1, invalidInput: 2 } as const;

export function buildCli(): Command {
  const program = new Command("invbench")
    .description("Benchmark harness for post-training augmentation invariance")
    .exitOverride();
  program
    .command("env")
    .description("print the environment fingerprint (OS, CPU, Deno/V8, onnxruntime, WebGPU adapter, backend)")
    .option("--backend <kind>", "backend to resolve: auto|cpu|webgpu", "auto")
    .action(async (opts: { backend: string }) => {
      console.log(JSON.stringify(await envFingerprint(opts.backend), null, 2));
    });
  return program;
}

if (import.meta.main) {
  try {
    await buildCli().parseAsync(Deno.args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) Deno.exit(e.exitCode === 0 ? EXIT.ok : EXIT.invalidInput);
    if (e instanceof TensorError) {
      console.error(`invbench: ${e.message}`);
      Deno.exit(EXIT.invalidInput);
    }
    throw e;
  }
}
