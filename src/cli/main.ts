/**
 * The invbench command line (`deno task invbench <command>`; docs/cli.md). Exit codes:
 *   0 success · 1 unexpected failure · 2 invalid input (flags, matrix, data, model, result file)
 *   3 verification failed (signature, key, algorithm) · 4 results differ (compare, reproduce)
 */
import { basename, dirname, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import type { z } from "zod";
import packageJson from "../../package.json" with { type: "json" };
import { humanOutput, jsonOption, jsonPrinted, printJson, wantsJson } from "./json_output.ts";
import { cliProgress } from "./progress.ts";
import { EXIT, exitCodeOf, InputError, ResultsDifferError, SubmissionsOmittedError } from "../errors.ts";
import { readBatch } from "../augment/augment.ts";
import { writePreview } from "../augment/preview.ts";
import { clearCache, listCache } from "../cache/feature_cache.ts";
import { loadDatasetSplits } from "../data/registry.ts";
import { SHARD_BY } from "../matrix/shard.ts";
import { AugmentationSpec, CATALOGS, DatasetSpec } from "../catalogs.ts";
import { BackboneSpec } from "../matrix/schema.ts";
import { checkBackbone } from "../backbone/check_backbone.ts";
import { newMethod } from "../methods/user/new_method.ts";
import { compareResults, DEFAULT_TOLERANCE, formatComparison } from "../results/compare.ts";
import { duplicateKeyProblem } from "../results/duplicate_keys.ts";
import { readResult } from "../results/schema.ts";
import {
  ATTESTATION_SIGNATURE_TYPE,
  generateKeys,
  type Jwks,
  type KeyFile,
  keyFilePermissionWarning,
  readJwks,
  readPrivateKey,
  signDocument,
  verifyDocument,
  verifySigner,
  writePrivateKey,
} from "../results/signing.ts";
import { attest } from "../results/attestation.ts";
import { renderMarkdown } from "../results/table.ts";
import { cellTable, summaryTable } from "../results/flat_table.ts";
import {
  renderTableCsv,
  renderTableJsonl,
  renderTableParquet,
  TABLE_FORMATS,
} from "../results/table_formats.ts";
import { checkManifests, manifestFiles } from "../run/dataset_inputs.ts";
import { envFingerprint } from "../run/env.ts";
import { checkExecutionProvider, DEFAULT_EXECUTION_PROVIDER } from "../backbone/execution_provider.ts";
import { LOCAL_SIGNER, localKey } from "../run/local_key.ts";
import { kubernetesManifests, renderManifest } from "../launch/kubernetes.ts";
import { writeGenerated } from "../launch/generated_files.ts";
import { describeShards } from "../launch/plan.ts";
import { slurmScripts, submitSlurm, writeSlurmScripts } from "../launch/slurm.ts";
import { mergeShards } from "../run/merge.ts";
import { reproduce } from "../run/reproduce.ts";
import { exactnessCaveat } from "../run/numeric_platform.ts";
import { resolveShard } from "../run/scheduler_shard.ts";
import { runMatrix } from "../run/runner.ts";
import { BACKEND_KINDS } from "../tensor/select.ts";
import { atomicWrite } from "../util/atomic_write.ts";
// ---- leaderboard (submit, leaderboard build) ----
import { buildLeaderboard } from "../leaderboard/build.ts";
import { readTrustedKeys } from "../leaderboard/check.ts";
import { describeOutcome, exists, submitResult } from "../leaderboard/submit.ts";
import { loadTracks } from "../leaderboard/tracks.ts";

async function readJsonDocument(path: string): Promise<Record<string, unknown>> {
  let raw: unknown, text: string;
  try {
    text = await Deno.readTextFile(path);
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path}: cannot read a JSON result document: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InputError(`${path}: expected a JSON object (a result document)`);
  }
  const duplicate = duplicateKeyProblem(text);
  if (duplicate) throw new InputError(`${path}: ${duplicate}`);
  return raw as Record<string, unknown>;
}

async function readDocument(
  path: string,
): Promise<{ raw: Record<string, unknown>; doc: ReturnType<typeof readResult> }> {
  const raw = await readJsonDocument(path);
  return { raw, doc: readResult(raw, path) };
}

const shardByOption = () =>
  new Option("--shard-by <how>", "split into shards by cell, or by (dataset, backbone, augmentation) group")
    .choices(SHARD_BY as unknown as string[]).default("cell");

/** A flag's number ≥ 0 (a tolerance), or exit 2 naming the flag and the value as typed. */
function nonNegative(flag: string, text: string): number {
  const x = Number(text);
  if (text.trim() === "" || !(x >= 0)) throw new InputError(`${flag} ${text}: expected a number ≥ 0`);
  return x;
}

/** The tolerance flags of compare and reproduce. */
function toleranceFlags(opts: { tolerance: string; seedSd: string }) {
  return {
    absolute: nonNegative("--tolerance", opts.tolerance),
    seedSd: nonNegative("--seed-sd", opts.seedSd),
  };
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new InputError(`${flag} ${text}: expected a positive integer`);
  }
  return n;
}

const executionProviderOption = () =>
  new Option(
    "--execution-provider <name>",
    "onnxruntime execution provider for feature extraction (cpu, cuda, …; one the installed onnxruntime lacks: exit 2)",
  ).default(DEFAULT_EXECUTION_PROVIDER);

const backendOption = () =>
  new Option("--backend <kind>", "compute backend").choices(BACKEND_KINDS as string[]).default("auto");

/** What a matrix may name, from the catalogs (the same lists the matrix schema is generated from). */
function componentsHelp(): string {
  const list = (title: string, entries: readonly { summary: string }[], key: (e: never) => string) =>
    `\n\n${title}:\n` + entries.map((e) => `  ${key(e as never).padEnd(16)} ${e.summary}`).join("\n");
  return list("Dataset sources", CATALOGS.dataSources, (e: { source: string }) => e.source) +
    list("Augmentations", CATALOGS.augmentations, (e: { kind: string }) => e.kind) +
    list("Adapter losses (methods of kind adapter)", CATALOGS.losses, (e: { name: string }) => e.name) +
    list("Other method kinds", CATALOGS.methods, (e: { kind: string }) => e.kind) +
    list("Classifiers", CATALOGS.classifiers, (e: { kind: string }) => e.kind) + "\n";
}

export function buildCli(): Command {
  const program = new Command("invbench")
    .description("Benchmark harness for post-training augmentation invariance")
    .version(packageJson.version, "-V, --version", "print the version of invbench")
    .exitOverride()
    .showHelpAfterError();

  program
    .command("run")
    .description("run (or resume) a benchmark matrix into a run directory")
    .argument("<matrix>", "matrix file (YAML or JSON, invbench.matrix/v1)")
    .addHelpText("after", componentsHelp)
    .option("--out <dir>", "run directory (resumed when it exists)", "runs/latest")
    .addOption(backendOption())
    .addOption(executionProviderOption())
    .option(
      "--shard <i/n|auto>",
      "run only shard I of N (0 ≤ I < N); auto: from SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX",
    )
    .option("--shard-count <n>", "with --shard auto under a Kubernetes Indexed Job: the number of shards")
    .addOption(shardByOption())
    .option("--filter <field=value...>", "keep cells whose FIELD matches one of the comma-separated values")
    .option("--key <file>", "sign the result with this private Ed25519 JWK")
    .option(
      "--local-key",
      "sign with this machine's local key (generated on first use, not a leaderboard identity)",
    )
    .option(
      "--cache <dir>",
      "feature cache directory (default .cache/invbench/features or INVBENCH_CACHE_DIR)",
    )
    .option(
      "--jobs <n>",
      "cells computed at once, each in its own worker thread (default: cores, at most 4)",
    )
    .action(async (matrix: string, opts) => {
      checkExecutionProvider(opts.executionProvider);
      const { key, signer } = await signingKey(opts);
      const jobs = opts.jobs === undefined ? undefined : positiveInt("--jobs", opts.jobs);
      const r = await runMatrix({
        jobs,
        matrix,
        out: opts.out,
        backend: opts.backend,
        executionProvider: opts.executionProvider,
        shard: resolveShard(opts.shard, { shardCount: opts.shardCount, by: opts.shardBy }),
        filters: opts.filter,
        key,
        signer,
        cacheDir: opts.cache,
        ...cliProgress(),
      });
      console.log(renderMarkdown(r.document));
      console.log(
        `${r.cells} cells (${r.computed} computed, ${r.resumed} resumed) → ${r.out}/result.{json,csv,md}`,
      );
      console.log(`feature cache: ${r.cache.extracted} feature sets extracted, ${r.cache.hits} hits`);
    });

  program
    .command("merge")
    .description("merge the run directories of a matrix's shards into one (signed) result")
    .argument("<shard_dir...>", "the shards' run directories (each with result.json and cells/)")
    .requiredOption("--out <dir>", "directory for the merged result.{json,csv,md} (new or empty)")
    .option("--key <file>", "sign the merged result with this private Ed25519 JWK")
    .option("--local-key", "sign with this machine's local key (not a leaderboard identity)")
    .addOption(jsonOption())
    .action(async (dirs: string[], opts) => {
      const { key, signer } = await signingKey(opts);
      const r = await mergeShards({ shards: dirs, out: opts.out, key, signer });
      if (opts.json) {
        printJson({
          ok: true,
          out: r.out,
          shards: r.shards,
          cells: r.cells,
          matrix_cells: r.document.provenance?.matrix_cells,
          signed: !!key,
        });
      } else {
        console.log(renderMarkdown(r.document));
        console.log(`${r.cells} cells from ${r.shards} shards → ${r.out}/result.{json,csv,md}`);
      }
    });

  program
    .command("slurm")
    .description(
      "write a Slurm job array (one task per shard) and a merge job for a matrix; --submit submits both",
    )
    .argument("<matrix>", "matrix file")
    .requiredOption("--shards <n>", "number of shards (array tasks)")
    .requiredOption(
      "--out <dir>",
      "directory on a filesystem every node sees: scripts, logs, shards, cache, merged",
    )
    .addOption(shardByOption())
    .addOption(backendOption())
    .addOption(executionProviderOption())
    .option("--partition <p>", "Slurm partition")
    .option("--time <t>", "time limit of each task (Slurm format, e.g. 02:00:00)")
    .option("--cpus-per-task <c>", "CPUs of each task")
    .option("--mem <m>", "memory of each task (Slurm format, e.g. 8G)")
    .option("--key <file>", "sign the merged result with this private Ed25519 JWK")
    .option("--local-key", "sign the merged result with the project's local key")
    .option("--submit", "submit the array and the merge (sbatch --parsable, --dependency=afterok)")
    .action(async (matrix: string, opts) => {
      const s = await slurmScripts({
        matrix,
        out: opts.out,
        shards: Number(opts.shards),
        by: opts.shardBy,
        backend: opts.backend,
        executionProvider: opts.executionProvider,
        partition: opts.partition,
        time: opts.time,
        cpusPerTask: opts.cpusPerTask === undefined
          ? undefined
          : positiveInt("--cpus-per-task", opts.cpusPerTask),
        mem: opts.mem,
        key: opts.key ? resolve(opts.key) : undefined,
        localKey: opts.localKey,
      });
      await writeSlurmScripts(s);
      for (const line of describeShards(s.plan)) console.log(line);
      console.log(`wrote ${s.files.shards} and ${s.files.merge}`);
      if (!opts.submit) {
        console.log(
          `submit with: jid=$(sbatch --parsable ${s.files.shards}) && sbatch --dependency=afterok:$jid ${s.files.merge}`,
        );
        return;
      }
      const ids = await submitSlurm(s);
      console.log(`submitted the shards as job array ${ids.array} and the merge as job ${ids.merge}`);
      console.log(`watch: squeue -j ${ids.array},${ids.merge}   logs: ${s.out}/logs/`);
      console.log(`merged result: ${s.out}/merged/result.json`);
    });

  program
    .command("k8s")
    .description("write Kubernetes manifests: an Indexed Job running the shards and a Job merging them")
    .argument("<matrix>", "matrix file inside the repository")
    .requiredOption("--shards <n>", "number of shards (the Job's completions)")
    .requiredOption("--image <image>", "container image holding the repository with npm install done")
    .option("--out <dir>", "directory for shards.job.yaml and merge.job.yaml", "runs/k8s")
    .option("--workdir <dir>", "the repository inside the image", "/invbench")
    .option("--pvc <name>", "PersistentVolumeClaim (ReadWriteMany) shared by the pods", "invbench-data")
    .option("--data <dir>", "where the claim is mounted in the pods", "/data")
    .option("--cpu <q>", "CPU request of each pod (Kubernetes quantity)")
    .option("--memory <q>", "memory request of each pod (Kubernetes quantity, e.g. 8Gi)")
    .addOption(shardByOption())
    .addOption(backendOption())
    .addOption(executionProviderOption())
    .option("--key <file>", "sign the merged result with this key file (a path inside the merge pod)")
    .option("--local-key", "sign the merged result with the local key of the merge pod")
    .action(async (matrix: string, opts) => {
      const m = await kubernetesManifests({
        matrix,
        shards: Number(opts.shards),
        by: opts.shardBy,
        backend: opts.backend,
        executionProvider: opts.executionProvider,
        image: opts.image,
        workdir: opts.workdir,
        pvc: opts.pvc,
        data: opts.data,
        cpu: opts.cpu,
        memory: opts.memory,
        key: opts.key,
        localKey: opts.localKey,
      });
      const files = { shards: `${opts.out}/shards.job.yaml`, merge: `${opts.out}/merge.job.yaml` };
      await writeGenerated([[files.shards, renderManifest(m, "shards")], [
        files.merge,
        renderManifest(m, "merge"),
      ]]);
      for (const line of describeShards(m.plan)) console.log(line);
      console.log(`wrote ${files.shards} and ${files.merge}`);
      console.log(
        `run with: kubectl apply -f ${files.shards} && kubectl wait --for=condition=complete --timeout=-1s ` +
          `job/${m.names.shards} && kubectl apply -f ${files.merge}`,
      );
    });

  program
    .command("verify")
    .description("check a result's signature against trusted keys and its document against the schema")
    .argument("<result>", "result.json")
    .option("--keys <jwks>", "trusted public keys (JWKS)", "results/trusted_keys.jwks")
    .addOption(jsonOption())
    .action(async (path: string, opts) => {
      const raw = await readJsonDocument(path);
      const trusted = await readJwks(opts.keys);
      // A signature that is there but malformed (null, garbage) is a verification failure (3), as
      // documented, before the document's schema (2) is looked at.
      if ("signature" in raw) await verifyDocument(raw, trusted);
      const doc = readResult(raw, path);
      const kid = await verifyDocument(raw, trusted);
      // The dataset manifests beside it must be the ones it signed (absent ones are reported).
      const absent = await checkManifests(path, doc);
      const recorded = manifestFiles(doc).length;
      const manifests = { checked: recorded - absent.length, absent };
      if (opts.json) {
        printJson({ ok: true, path, kid, schema: raw.schema, ...(recorded ? { manifests } : {}) });
      } else {
        console.log(`${path}: valid signature by ${kid}; document follows ${String(raw.schema)}`);
        if (manifests.checked) console.log(`${manifests.checked} dataset manifest(s) match the result`);
        for (const a of absent) console.log(`not checked: ${a} is not there`);
      }
    });

  program
    .command("compare")
    .description("compare two results cell by cell; exit 4 on any difference or missing cell")
    .argument("<a>", "result.json")
    .argument("<b>", "result.json")
    .option("--tolerance <abs>", "absolute tolerance on every metric", String(DEFAULT_TOLERANCE.absolute))
    .option(
      "--seed-sd <k>",
      "add k × the seed standard deviation to the tolerance",
      String(DEFAULT_TOLERANCE.seedSd),
    )
    .addOption(jsonOption())
    .action(async (a: string, b: string, opts) => {
      const tol = toleranceFlags(opts);
      const [docA, docB] = [(await readDocument(a)).doc, (await readDocument(b)).doc];
      const c = compareResults(docA, docB, tol);
      const caveat = exactnessCaveat(docA.environment, docB.environment, [a, b]);
      if (caveat && !c.agree) console.error(`note: ${caveat}`);
      if (opts.json) printJson({ ok: c.agree, a, b, tolerance: tol, caveat, comparison: c });
      else console.log(formatComparison(c));
      if (!c.agree) throw new ResultsDifferError("results differ");
    });

  program
    .command("reproduce")
    .description(
      "re-run N cells of a (verified) result on this machine and compare them; with --key, write a signed attestation",
    )
    .argument("<result>", "result.json")
    .option("--cells <n>", "number of cells to re-run", "3")
    .option("--keys <jwks>", "verify the result's signature first against these trusted keys")
    .option("--self-reported", "with --keys: also accept a signature by any key (the result's author)")
    .option("--matrix <file>", "the matrix file (default: the path recorded in the result)")
    .option(
      "--key <file>",
      "sign a reproduction attestation with this private Ed25519 JWK (a maintainer's key)",
    )
    .option(
      "--out <path>",
      "with --key: the attestation file to write (never overwritten); without: the re-run directory",
    )
    .option("--run-dir <dir>", "run directory for the re-run", "runs/reproduce")
    .addOption(backendOption())
    .addOption(executionProviderOption())
    .option("--tolerance <abs>", "absolute tolerance", String(DEFAULT_TOLERANCE.absolute))
    .option("--seed-sd <k>", "seed-sd multiple added to the tolerance", String(DEFAULT_TOLERANCE.seedSd))
    .option("--cache <dir>", "trust the feature cache in DIR (default: recompute every feature)")
    .addOption(jsonOption())
    .action(async (path: string, opts) => {
      const say = humanOutput(opts.json);
      checkExecutionProvider(opts.executionProvider);
      const cellCount = positiveInt("--cells", opts.cells);
      const tolerance = toleranceFlags(opts);
      const raw = await readJsonDocument(path);
      // As in verify: the signature (3) is judged before the schema (2).
      const jwks = opts.keys ? await readJwks(opts.keys) : null;
      const signer = !jwks
        ? null
        : opts.selfReported
        ? await verifySigner(raw, jwks)
        : { kid: await verifyDocument(raw, jwks), trusted: true };
      const doc = readResult(raw, path);
      if (signer) say(`signature: valid, by ${signer.kid}${signer.trusted ? "" : " (self-reported)"}`);
      else console.error("warning: --keys not given; the result's signature was not checked");
      const key = opts.key ? await readPrivateKey(opts.key) : undefined;
      if (key && !opts.out) throw new InputError("--key needs --out ATTESTATION.json");
      if (key && await exists(opts.out)) {
        throw new InputError(`${opts.out} already exists; an attestation is never overwritten`);
      }
      const c = await reproduce(doc, {
        cells: cellCount,
        matrix: opts.matrix,
        out: key || !opts.out ? opts.runDir : opts.out,
        backend: opts.backend,
        executionProvider: opts.executionProvider,
        tolerance,
        cacheDir: opts.cache,
        ...cliProgress(),
      });
      const { rerun, cells, caveat, ...comparison } = c;
      if (caveat) console.error(`note: ${caveat}`);
      let attestation: string | undefined;
      if (key) {
        const statement = attest(raw, doc, rerun, c, tolerance, cells);
        const signed = await signDocument(statement, key, { typ: ATTESTATION_SIGNATURE_TYPE });
        await Deno.writeTextFile(opts.out, JSON.stringify(signed, null, 2) + "\n", { createNew: true });
        attestation = opts.out;
        say(`attestation (${statement.verdict}, ${cells.length} cells, signed by ${key.kid}) → ${opts.out}`);
      }
      if (opts.json) {
        printJson({
          ok: c.agree,
          path,
          signer: signer?.kid ?? null,
          out: opts.out,
          cells,
          attestation,
          caveat,
          comparison,
        });
      } else console.log(formatComparison(c));
      if (!c.agree) throw new ResultsDifferError("the re-run cells differ from the result");
    });

  program
    .command("new-method")
    .description("write a commented template loss NAME.ts and a tiny matrix NAME.yaml that runs it")
    .argument("<name>", "method name (lowercase letters, digits, '_', '-')")
    .option("--dir <dir>", "directory to write into (created if missing)", ".")
    .action(async (name: string, opts) => {
      const written = await newMethod(name, opts.dir);
      console.log(`wrote ${written.loss} and ${written.matrix}`);
      console.log(`try it: npx deno task invbench run ${written.matrix} --out runs/${name}`);
    });

  const keys = program.command("keys").description("signing keys");
  keys
    .command("generate")
    .description("write a new private Ed25519 JWK (mode 0600); print the public JWK and its thumbprint")
    .requiredOption("--out <file>", "private key file to create (never overwritten)")
    .option("--jwks <file>", "also add the public key to this trusted-keys file")
    .action(async (opts) => {
      // Both files are checked before either is written, so a bad --jwks leaves no key behind.
      if (await Deno.lstat(opts.out).catch(() => null)) {
        throw new InputError(`${opts.out} already exists; a key file is never overwritten`);
      }
      const jwks = opts.jwks ? await readJwksOrEmpty(opts.jwks) : undefined;
      const k = await generateKeys();
      await writePrivateKey(opts.out, k);
      if (opts.jwks) {
        try {
          await writeJson(opts.jwks, { ...jwks, keys: [...jwks!.keys, k.publicJwk] });
        } catch (e) {
          await Deno.remove(opts.out);
          throw e;
        }
      }
      console.log(JSON.stringify({ kid: k.kid, publicJwk: k.publicJwk }, null, 2));
    });

  program
    .command("env")
    .description("print the environment fingerprint (OS, CPU, Deno/V8, onnxruntime, WebGPU adapter, backend)")
    .addOption(backendOption())
    .action(async (opts) => console.log(JSON.stringify(await envFingerprint(opts.backend), null, 2)));

  const cache = program.command("cache").description("the content-addressed feature cache");
  cache
    .command("ls")
    .description("list cache entries")
    .option("--dir <dir>", "cache directory")
    .option("--verify", "re-hash every payload")
    .addOption(jsonOption())
    .action(async (opts) => {
      const l = await listCache(opts.dir, { verify: opts.verify });
      if (opts.json) return printJson({ ok: true, ...l });
      for (const e of l.entries) {
        console.log(
          `${e.key.slice(0, 16)}  ${String(e.rows ?? "?").padStart(6)}×${String(e.cols ?? "?").padEnd(5)} ${
            (e.bytes / 2 ** 20).toFixed(1).padStart(7)
          } MiB  ${e.status}  ${
            JSON.stringify({
              split: e.fields?.split,
              augmentation: e.fields?.augmentation,
              view: e.fields?.view,
            })
          }`,
        );
      }
      console.log(
        `${l.entries.length} entries, ${(l.bytes / 2 ** 20).toFixed(1)} MiB in ${l.dir}` +
          (l.tempFiles ? ` (${l.tempFiles} temp files of interrupted writes)` : ""),
      );
    });
  cache
    .command("clear")
    .description("delete every cache entry")
    .option("--dir <dir>", "cache directory")
    .action(async (opts) => {
      const r = await clearCache(opts.dir);
      console.log(`removed ${r.removed} files (${(r.bytes / 2 ** 20).toFixed(1)} MiB) from ${r.dir}`);
    });

  program
    .command("report")
    .description(
      "render a result document (any schema version) as Markdown or JSON, or as a flat table for analysis " +
        "(CSV, JSON Lines, Parquet: docs/analysis.md)",
    )
    .argument("<result>", "result.json")
    .addOption(
      new Option("--format <format>", "output format").choices(["md", "json", ...TABLE_FORMATS]).default(
        "md",
      ),
    )
    .addOption(
      new Option("--table <table>", "csv, jsonl, parquet: one row per cell, or per group over seeds")
        .choices(["cells", "summary"]).default("cells"),
    )
    .option("--out <file>", "write here instead of stdout (never overwritten; parquet needs it)")
    .action(async (path: string, opts) => {
      const tabular = (TABLE_FORMATS as readonly string[]).includes(opts.format);
      if (!tabular && opts.table !== "cells") {
        throw new InputError(`--table ${opts.table}: only for --format ${TABLE_FORMATS.join(", ")}`);
      }
      if (opts.format === "parquet" && !opts.out) {
        throw new InputError("--format parquet writes a binary file: give --out FILE");
      }
      if (opts.out && await exists(opts.out)) {
        throw new InputError(`${opts.out} already exists; report never overwrites a file`);
      }
      const { doc } = await readDocument(path);
      const table = tabular ? (opts.table === "summary" ? summaryTable(doc) : cellTable(doc)) : null;
      const data: string | Uint8Array = opts.format === "csv"
        ? renderTableCsv(table!)
        : opts.format === "jsonl"
        ? renderTableJsonl(table!)
        : opts.format === "parquet"
        ? await renderTableParquet(table!)
        : opts.format === "json"
        ? JSON.stringify(doc, null, 2) + "\n"
        : renderMarkdown(doc);
      if (!opts.out) {
        return void await Deno.stdout.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
      }
      await atomicWrite(dirname(resolve(opts.out)), basename(opts.out), data, { noOverwrite: true });
      console.error(
        `wrote ${opts.out}${table ? ` (${table.rows.length} rows, ${table.columns.length} columns)` : ""}`,
      );
    });

  program
    .command("check-backbone")
    .description(
      "run a backbones: entry on sample images and compare its features with reference ones (tools/export_backbone.py)",
    )
    .requiredOption(
      "--backbone <json>",
      "the matrix backbones: entry, as JSON (onnx relative to the working directory)",
    )
    .requiredOption("--images <npy>", "float32 (n, channels·height·width): NCHW pixel values in [0, 1]")
    .requiredOption("--features <npy>", "float32 (n, d): the reference features of those images")
    .option("--tolerance <abs>", "largest |difference| allowed", "1e-4")
    .addOption(executionProviderOption())
    .action(async (opts) => {
      const backbone = flagSpec("--backbone", opts.backbone, BackboneSpec);
      const tolerance = nonNegative("--tolerance", opts.tolerance);
      checkExecutionProvider(opts.executionProvider);
      const c = await checkBackbone({
        backbone,
        images: opts.images,
        features: opts.features,
        executionProvider: opts.executionProvider,
      });
      const line = `max abs diff ${c.maxAbsDiff.toExponential(3)} over ${c.rows}×${c.cols} features ` +
        `(largest |feature| ${c.maxAbsReference.toExponential(3)}; tolerance ${tolerance})`;
      if (!(c.maxAbsDiff <= tolerance)) throw new ResultsDifferError(`${backbone.onnx}: ${line}`);
      console.log(`${backbone.onnx}: ${line}: ok`);
    });

  program
    .command("preview")
    .description("write a PNG grid of a few images (top row) and their augmented views")
    .option("--dataset <json>", "dataset spec as in a matrix", '{"id":"mnist","source":"mnist"}')
    .option("--augmentation <json>", "augmentation spec as in a matrix", '{"id":"rot","kind":"rotation"}')
    .option("--images <n>", "images", "8")
    .option("--views <n>", "views per image", "4")
    .option("--seed <n>", "seed", "0")
    .option("--out <file>", "PNG file", "preview.png")
    .action(async (opts) => {
      const ds = flagSpec("--dataset", opts.dataset, DatasetSpec);
      const aug = flagSpec("--augmentation", opts.augmentation, AugmentationSpec);
      const images = intFlag("--images", opts.images, 1, PREVIEW_MAX);
      const views = intFlag("--views", opts.views, 1, PREVIEW_MAX);
      const seed = intFlag("--seed", opts.seed, 0, Number.MAX_SAFE_INTEGER);
      const test = (await loadDatasetSplits({ ...ds, id: ds.id })).test;
      if (test.kind !== "images") throw new InputError("preview needs an image dataset");
      const rows = Array.from({ length: Math.min(images, test.n) }, (_, i) => i);
      const batch = await readBatch(test, rows);
      const size = writePreview(opts.out, batch.images, batch.indices, aug, seed, "test", { views });
      console.log(`wrote ${opts.out} (${size.width}×${size.height})`);
    });

  // ---- leaderboard: `submit` and `leaderboard build` (src/leaderboard/) ---------------------------
  // A refused submission exits 3 when its signature or key is at fault, 2 when its document or
  // track is; a bad keys file, tracks file or output directory exits 2.
  program
    .command("submit")
    .description(
      "verify a signed result and file it as DIR/<sha256 of its content>.json (duplicates reported)",
    )
    .argument("<result>", "signed result.json")
    .requiredOption("--to <dir>", "submissions directory")
    .option("--keys <jwks>", "trusted public keys (JWKS)", "results/trusted_keys.jwks")
    .option("--tracks <file>", "leaderboard tracks", "leaderboard/tracks.yaml")
    .addOption(jsonOption())
    .action(async (path: string, opts) => {
      const outcome = await submitResult(path, {
        to: opts.to,
        trusted: await readTrustedKeys(opts.keys),
        tracks: (await loadTracks(opts.tracks)).tracks,
      });
      if (opts.json) printJson({ ok: true, file: path, ...outcome });
      else console.log(describeOutcome(path, outcome));
    });

  const leaderboard = program.command("leaderboard").description("the static leaderboard site");
  leaderboard
    .command("build")
    .description("re-verify every submission and write the leaderboard site, leaderboard.md and build.log")
    .requiredOption("--submissions <path...>", "submissions directories (searched for *.json) or files")
    .option("--keys <jwks>", "trusted public keys (JWKS)", "results/trusted_keys.jwks")
    .option("--tracks <file>", "leaderboard tracks", "leaderboard/tracks.yaml")
    .option("--out <dir>", "site directory (replaced when it holds an earlier build)", "runs/leaderboard")
    .option("--strict", "exit 3 when any submission was left out")
    .option(
      "--attestations <path...>",
      "reproduction attestations (directories searched for *.json, or files); only trusted keys' count",
    )
    .action(async (opts) => {
      const r = await buildLeaderboard({
        submissions: opts.submissions,
        attestations: opts.attestations,
        keys: opts.keys,
        tracks: opts.tracks,
        out: opts.out,
        say: (line) => console.log(line),
      });
      if (opts.strict && r.omitted.length) {
        throw new SubmissionsOmittedError(`${r.omitted.length} submission(s) left out (--strict)`);
      }
    });
  // ---- end of leaderboard commands -----------------------------------------------------------------

  return program;
}

/** The key of `--key FILE` or `--local-key`, and how the document names its signer. */
async function signingKey(
  opts: { key?: string; localKey?: boolean },
): Promise<{ key?: KeyFile; signer?: string }> {
  if (opts.key && opts.localKey) {
    throw new InputError("give --key or --local-key, not both");
  }
  if (opts.key) {
    const key = await readPrivateKey(opts.key);
    const warning = await keyFilePermissionWarning(opts.key);
    if (warning) console.error(`invbench: warning: ${warning}`);
    return { key, signer: `key ${key.kid}` };
  }
  if (opts.localKey) return { key: await localKey(), signer: LOCAL_SIGNER };
  return {};
}

/** The most images or views a preview grid shows. */
const PREVIEW_MAX = 64;

/** An integer flag in [min, max], or invalid input naming the flag. */
function intFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new InputError(`${flag} ${text}: expected an integer from ${min} to ${max}`);
  }
  return n;
}

/** A JSON flag checked against a matrix schema, or invalid input naming the flag, field and problem. */
function flagSpec<T>(flag: string, text: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${flag}: not JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new InputError(`${flag}: ${problems.join("; ")}`);
  }
  return r.data;
}

/** The trusted-keys file at `path`, checked; an empty one where none exists yet. */
async function readJwksOrEmpty(path: string): Promise<Jwks> {
  try {
    return await readJwks(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { keys: [] };
    throw e;
  }
}

/** Writes `value` as JSON to `path` atomically (a reader sees the old file or the new, never half). */
async function writeJson(path: string, value: unknown): Promise<void> {
  await atomicWrite(
    dirname(resolve(path)),
    basename(path),
    new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"),
  );
}

/**
 * Runs the command line on `args` and returns its exit code: invbench's own errors print their
 * message; any other error is a bug and prints its stack (exit 1).
 */
export async function runCli(
  args: readonly string[],
  program: Command = buildCli(),
  printError: (text: string) => void = console.error,
): Promise<number> {
  try {
    await program.parseAsync([...args], { from: "user" });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.invalidInput;
    const code = exitCodeOf(e);
    printError(`invbench: ${code === EXIT.failure ? (e as Error).stack : (e as Error).message}`);
    if (wantsJson(args) && !jsonPrinted()) {
      printJson({ ok: false, exitCode: code, error: (e as Error).message });
    }
    return code;
  }
}

if (import.meta.main) Deno.exit(await runCli(Deno.args));
