/**
 * A loss from a method file: a catalog entry like the built-ins (its `LossEntry` fields, read from
 * the file's default export) whose implementation is the op graph its `loss` traces to in the
 * sandbox. A file is refused (MethodFileError) before any cell runs when it imports code, touches
 * anything outside the sandbox, throws, returns a non-scalar, runs out of time, reads tensor
 * values while tracing, or traces to a different graph twice; its identity is the sha256 of its
 * source, so a cell's id follows the file's content, never its path.
 */
import type { LossEntry, ParamsSpec } from "../../catalog/entries.ts";
import { MethodFileError } from "../../errors.ts";
import { METHOD_FILE_PATTERN } from "../../matrix/schema.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { sha256Hex } from "../../util/hash.ts";
import type { AdapterLoss, LossBatch } from "../losses/spec.ts";
import { LossDefinitionFields } from "./definition.ts";
import { executeGraph } from "./execute.ts";
import type { BatchShape, LossGraph } from "./graph.ts";
import { Sandbox, SANDBOX_TIMEOUT_MS, SandboxRefusal } from "./sandbox.ts";

export { MethodFileError };

/** The loss-reference prefix of a user method inside a cell spec: "sha256:<64 hex digits>". */
export const USER_LOSS_PREFIX = "sha256:";

/** Whether a matrix's `loss` names a method file rather than a built-in loss. */
export function isMethodFile(loss: string): boolean {
  return METHOD_FILE_PATTERN.test(loss);
}

/**
 * Refuses imports other than `import type` (erased before the file runs): a method file is
 * self-contained, and a module import would load code the sandbox's checks have not seen.
 */
export function importProblems(source: string): string[] {
  const problems: string[] = [];
  source.split("\n").forEach((line, i) => {
    const at = `line ${i + 1}`;
    if (/^\s*import\s+(?!type\b)/.test(line) || /^\s*export\s+(?!type\b)[^=(]*\bfrom\s*["']/.test(line)) {
      problems.push(`${at}: it imports a module ("${line.trim()}"); only \`import type\` is allowed`);
    } else if (/\bimport\s*\(/.test(line)) {
      problems.push(`${at}: it imports a module dynamically ("${line.trim()}"); no imports are allowed`);
    }
  });
  return problems;
}

/** The embedded form of a method file in a result document. */
export interface MethodSource {
  /** The `loss` value as the matrix wrote it (relative to the matrix file). */
  path: string;
  sha256: string;
  source: string;
}

export class UserLoss implements AdapterLoss {
  readonly #graphs = new Map<string, LossGraph>();

  readonly name: string;
  readonly summary: string;
  readonly params: ParamsSpec;
  readonly usesAnchors: boolean;
  readonly random: boolean;
  readonly sameDim: boolean;
  readonly minViews: number;

  private constructor(
    readonly file: string,
    readonly method: MethodSource,
    entry: LossEntry,
    readonly timeoutMs: number,
  ) {
    // The catalog entry's fields, as the file declares them.
    this.name = entry.name;
    this.summary = entry.summary;
    this.params = entry.params;
    this.usesAnchors = entry.usesAnchors;
    this.random = entry.random;
    this.sameDim = entry.sameDim;
    this.minViews = entry.minViews;
  }

  /** The loss reference a cell spec holds for this file. */
  get ref(): string {
    return USER_LOSS_PREFIX + this.method.sha256;
  }

  /**
   * Loads `source` (read from `file`, named `path` in the matrix) in the sandbox and checks its
   * definition; `check` then traces it.
   */
  static async load(
    file: string,
    path: string,
    source: string,
    timeoutMs = SANDBOX_TIMEOUT_MS,
  ): Promise<UserLoss> {
    const imports = importProblems(source);
    if (imports.length) throw new MethodFileError(file, imports.join("; "));
    const { sandbox, definition } = await Sandbox.open(source, languageOf(file), timeoutMs)
      .catch((e) => refuse(file, e));
    await sandbox.close();
    const def = LossDefinitionFields.safeParse(definition);
    if (!def.success) {
      throw new MethodFileError(
        file,
        `its default export is not a loss definition: ${
          def.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`).join("; ")
        }`,
      );
    }
    return new UserLoss(file, { path, sha256: sha256Hex(source), source }, def.data, timeoutMs);
  }

  /**
   * Traces the loss twice on a small batch with `views` views and the resolved `params`: refused
   * when tracing fails or the two graphs differ. Run before any cell, so a bad file stops a run
   * before anything is written.
   */
  async check(views: number, params: Readonly<Record<string, number | undefined>>): Promise<void> {
    const v = Math.max(views, this.minViews);
    const shape = { rows: 8 * v, inDim: 16, outDim: this.sameDim ? 16 : 8, views: v };
    const [a, b] = await this.#trace([shape, shape], params);
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      throw new MethodFileError(
        this.file,
        "it traced to a different graph twice (its loss is not deterministic)",
      );
    }
  }

  async #trace(
    shapes: BatchShape[],
    params: Readonly<Record<string, number | undefined>>,
  ): Promise<LossGraph[]> {
    const { sandbox } = await Sandbox.open(this.method.source, languageOf(this.file), this.timeoutMs)
      .catch((e) => refuse(this.file, e));
    try {
      return await sandbox.trace(shapes, params).catch((e) => refuse(this.file, e));
    } finally {
      await sandbox.close();
    }
  }

  /** Traces the graphs for these batch shapes (each once per process), before training starts. */
  async prepare(
    shapes: readonly BatchShape[],
    params: Readonly<Record<string, number | undefined>>,
  ): Promise<void> {
    const missing = shapes.filter((s) => !this.#graphs.has(graphKey(s, params)));
    if (!missing.length) return;
    const graphs = await this.#trace(missing, params);
    missing.forEach((s, i) => this.#graphs.set(graphKey(s, params), graphs[i]));
  }

  compute = (batch: LossBatch, params: Readonly<Record<string, number | undefined>>): Tensor => {
    const shape = { rows: batch.y.rows, outDim: batch.y.cols, inDim: batch.anchors.cols, views: batch.views };
    const graph = this.#graphs.get(graphKey(shape, params));
    if (!graph) {
      throw new Error(
        `${this.file}: no traced graph for batch ${JSON.stringify(shape)}; call prepare() first`,
      );
    }
    return executeGraph(graph, batch);
  };
}

function graphKey(s: BatchShape, params: Readonly<Record<string, number | undefined>>): string {
  return JSON.stringify([s.rows, s.outDim, s.inDim, s.views, Object.entries(params).sort()]);
}

function languageOf(file: string): "ts" | "js" {
  return file.endsWith(".js") ? "js" : "ts";
}

function refuse(file: string, e: unknown): never {
  if (e instanceof SandboxRefusal) throw new MethodFileError(file, describeRefusal(e));
  throw e;
}

function describeRefusal(e: SandboxRefusal): string {
  switch (e.kind) {
    case "sandbox":
      return `it tried to reach outside the sandbox (${e.message}); a method file gets no file, network, ` +
        `environment, subprocess, FFI or system access`;
    case "trace":
      return `its loss cannot be traced: ${e.message}`;
    case "throw":
      return `it threw ${e.message}`;
    case "timeout":
      return `it ${e.message}`;
    default:
      return e.message;
  }
}
