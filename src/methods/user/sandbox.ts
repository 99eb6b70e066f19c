/**
 * Runs a method file in trace_process.ts: a separate Deno process with no permissions at all
 * (`--no-prompt`, no --allow flags, `--deny-import`, `--no-remote`, `--no-npm`), with string
 * evaluation disabled in V8 and a capped heap. Each request has a time limit; a file that does not
 * answer in time (an endless loop) is killed and refused. A process rather than a Worker: Deno's
 * `Worker.terminate()` does not stop a worker that is busy in a loop, and a process can be killed.
 * What comes back is plain data, checked here before anything uses it.
 */
import { z } from "zod";
import type { BatchShape, GraphArg, GraphOut, LossGraph } from "./graph.ts";
import type { RefusalKind, TraceReply, TraceRequest } from "./trace_process.ts";
import { fileURLToPath } from "node:url";
import { USER_OP_NAMES } from "./ops_table.ts";

/** Milliseconds a method file gets to load, and to trace each request. */
export const SANDBOX_TIMEOUT_MS = 10_000;

/** Why the sandbox refused a file: what it tried, in words. */
export class SandboxRefusal extends Error {
  constructor(readonly kind: RefusalKind | "timeout" | "crash", message: string) {
    super(message);
    this.name = "SandboxRefusal";
  }
}

const GraphArgSchema: z.ZodType<GraphArg> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.strictObject({ tensor: z.number().int().nonnegative() }),
    z.strictObject({ index: z.number().int().nonnegative() }),
    z.strictObject({ floats: z.array(z.number()) }),
    z.strictObject({ ints: z.array(z.number().int()) }),
    z.strictObject({ list: z.array(GraphArgSchema) }),
    z.strictObject({ record: z.record(z.string(), GraphArgSchema) }),
    z.strictObject({ undefined: z.literal(true) }),
  ])
);
const GraphOutSchema: z.ZodType<GraphOut> = z.lazy(() =>
  z.union([
    z.strictObject({ tensor: z.number().int().nonnegative() }),
    z.strictObject({ index: z.number().int().nonnegative() }),
    z.strictObject({ record: z.record(z.string(), GraphOutSchema) }),
  ])
);
const LossGraphSchema = z.strictObject({
  nodes: z.array(z.strictObject({
    op: z.enum(USER_OP_NAMES as [string, ...string[]]),
    args: z.array(GraphArgSchema),
    out: GraphOutSchema,
  })),
  output: z.number().int().nonnegative(),
}) as unknown as z.ZodType<LossGraph>;

const SCRIPT = fileURLToPath(new URL("./trace_process.ts", import.meta.url));
const FLAGS = [
  "run",
  "--no-prompt",
  "--no-config",
  "--no-lock",
  "--no-remote",
  "--no-npm",
  "--deny-import",
  "--cached-only",
  "--v8-flags=--disallow-code-generation-from-strings,--max-old-space-size=1024",
];

/** One sandbox process holding one method file. */
export class Sandbox {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #nonce = crypto.randomUUID();
  #closed = false;

  private constructor(readonly timeoutMs: number) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [...FLAGS, SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = lines(this.#child.stdout)[Symbol.asyncIterator]();
    this.#send(this.#nonce);
  }

  /** Starts a sandbox and loads `source` (TypeScript or JavaScript) in it; returns its definition. */
  static async open(
    source: string,
    language: "ts" | "js",
    timeoutMs = SANDBOX_TIMEOUT_MS,
  ): Promise<{ sandbox: Sandbox; definition: Record<string, unknown> }> {
    const sandbox = new Sandbox(timeoutMs);
    try {
      const mime = language === "ts" ? "application/typescript" : "application/javascript";
      const bytes = new TextEncoder().encode(source);
      const url = `data:${mime};base64,${btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))}`;
      const reply = await sandbox.#request({ kind: "load", url }, "load");
      return { sandbox, definition: reply.definition ?? {} };
    } catch (e) {
      await sandbox.close();
      throw e;
    }
  }

  /** The loss's graph for each batch shape, with these (resolved) parameters. */
  async trace(
    shapes: BatchShape[],
    params: Readonly<Record<string, number | undefined>>,
  ): Promise<LossGraph[]> {
    const reply = await this.#request({ kind: "trace", shapes, params }, "trace");
    const graphs = z.array(LossGraphSchema).safeParse(reply.graphs);
    if (!graphs.success || graphs.data.length !== shapes.length) {
      throw new SandboxRefusal("definition", "the sandbox sent back something that is not an op graph");
    }
    return graphs.data;
  }

  /** Stops the process (killed if it still runs) and waits for it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await this.#writer.close().catch(() => {});
    await this.#child.status;
    await this.#lines.return?.();
  }

  #send(line: string): void {
    this.#writer.write(new TextEncoder().encode(line + "\n")).catch(() => {});
  }

  async #request(request: TraceRequest, what: string): Promise<Extract<TraceReply, { ok: true }>> {
    this.#send(JSON.stringify(request));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new SandboxRefusal(
            "timeout",
            `did not finish the ${what} within ${this.timeoutMs / 1000} s (an endless loop?)`,
          ),
        );
      }, this.timeoutMs);
    });
    const answer = (async () => {
      for (;;) {
        const next = await this.#lines.next();
        if (next.done) {
          const status = await this.#child.status;
          throw new SandboxRefusal(
            "crash",
            `the sandbox process stopped during the ${what} (exit code ${status.code}${
              status.signal ? `, ${status.signal}` : ""
            }; out of memory?)`,
          );
        }
        // Lines without the nonce are the file's own output.
        if (next.value.startsWith(this.#nonce + " ")) {
          return JSON.parse(next.value.slice(this.#nonce.length + 1));
        }
      }
    })();
    let reply: TraceReply;
    try {
      reply = await Promise.race([answer, timeout]);
    } catch (e) {
      await this.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    if (!reply || typeof reply !== "object" || typeof reply.ok !== "boolean") {
      throw new SandboxRefusal("definition", "the sandbox sent back an unexpected message");
    }
    if (!reply.ok) throw new SandboxRefusal(reply.kind, String(reply.message));
    return reply;
  }
}

/** The lines of a byte stream. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (
    const chunk of stream.pipeThrough(
      new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>,
    )
  ) {
    buffered += chunk;
    let end: number;
    while ((end = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
    }
  }
}
