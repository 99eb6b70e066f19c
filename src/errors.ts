/**
 * invbench's one error family (after jose's JOSEError): every error the library throws on purpose
 * is an `InvbenchError` whose `code` names its kind, and the CLI's exit code is a lookup on that
 * code (`exitCodeOf`). Any other error, built-in `RangeError` and `SyntaxError` included, is a bug:
 * exit 1 with its stack. This file imports nothing at run time, so every layer may use it.
 */
import type { VerifyFailure } from "./results/signing.ts";
import type { RefusalReason } from "./leaderboard/check.ts";

/** The CLI's exit codes (docs/cli.md). */
export const EXIT = { ok: 0, failure: 1, invalidInput: 2, verificationFailed: 3, mismatch: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The root of the family; `code` says which kind it is (never thrown as such). */
export class InvbenchError extends Error {
  static readonly code: string = "ERR_INVBENCH";
  readonly code: string = InvbenchError.code;
  override name = "InvbenchError";
}

/** A configuration value out of its domain: a loss or augmentation parameter, a training field. */
export class ConfigError extends InvbenchError {
  static override readonly code = "ERR_CONFIG";
  override readonly code: string = ConfigError.code;
  override name = "ConfigError";
  /** `field`: where the value sits, e.g. "methods[2].params.temperature" or "params.temperature". */
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** A matrix file that does not validate; each problem names the line, column and field. */
export class MatrixError extends InvbenchError {
  static override readonly code = "ERR_MATRIX";
  override readonly code: string = MatrixError.code;
  override name = "MatrixError";
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super(`${file}: invalid matrix\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Bad input on the command line or to a command: a flag, a file in the way, an output directory. */
export class InputError extends InvbenchError {
  static override readonly code = "ERR_INPUT";
  override readonly code: string = InputError.code;
  override name = "InputError";
}

/** A run directory that is not this run's to write: another run's, in use, or not a run directory. */
export class RunDirError extends InputError {
  override name = "RunDirError";
}

/** Where in a dataset file a problem sits: a byte offset, a named header field, or both. */
export interface DataErrorPlace {
  /** Byte offset into the file (0-based), when the problem has one. */
  offset?: number;
  /** Header field or logical location, e.g. "dims[0]", "header.shape", "image 1000". */
  field?: string;
}

/**
 * A malformed, truncated or inconsistent dataset file: the message names the file, the place in it
 * and what was expected (docs/protocol.md: bad input stops with all three).
 */
export class DataError extends InvbenchError {
  static override readonly code = "ERR_DATA";
  override readonly code: string = DataError.code;
  override name = "DataError";
  readonly offset?: number;
  readonly field?: string;

  constructor(readonly file: string, place: DataErrorPlace, readonly expected: string, got?: string) {
    const where = [place.offset !== undefined ? `byte ${place.offset}` : undefined, place.field]
      .filter((s) => s !== undefined).join(", ");
    super(
      `${file}${where ? ` (${where})` : ""}: expected ${expected}${got !== undefined ? `, got ${got}` : ""}`,
    );
    this.offset = place.offset;
    this.field = place.field;
  }
}

/** A model that does not fit its spec, fails to load or run, or yields non-finite features. */
export class BackboneError extends InvbenchError {
  static override readonly code: string = "ERR_BACKBONE";
  override readonly code: string = BackboneError.code;
  override name = "BackboneError";
}

/** An invalid backbone input spec, or images that do not fit it. */
export class InputSpecError extends BackboneError {
  static override readonly code = "ERR_INPUT_SPEC";
  override readonly code: string = InputSpecError.code;
  override name = "InputSpecError";
}

/** An error in a tensor op: the message names the op, the shapes and what was expected. */
export class TensorError extends InvbenchError {
  static override readonly code = "ERR_TENSOR";
  override readonly code: string = TensorError.code;
  override name = "TensorError";
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
  }
}

/** A file that is not a valid result document. */
export class ResultFormatError extends InvbenchError {
  static override readonly code = "ERR_RESULT_FORMAT";
  override readonly code: string = ResultFormatError.code;
  override name = "ResultFormatError";
  constructor(readonly file: string, problems: readonly string[]) {
    super(`${file}: not a valid result document\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** A signature that does not verify, or a key that is not trusted. */
export class VerificationError extends InvbenchError {
  static override readonly code = "ERR_VERIFICATION";
  override readonly code: string = VerificationError.code;
  override name = "VerificationError";
  constructor(readonly reason: VerifyFailure, message: string) {
    super(message);
  }
}

/** A key file or trusted-keys file that is not what it should be. */
export class KeyFileError extends InvbenchError {
  static override readonly code = "ERR_KEY_FILE";
  override readonly code: string = KeyFileError.code;
  override name = "KeyFileError";
}

/** Two results (compare) or a result and its re-run cells (reproduce) disagree. */
export class ResultsDifferError extends InvbenchError {
  static override readonly code = "ERR_RESULTS_DIFFER";
  override readonly code: string = ResultsDifferError.code;
  override name = "ResultsDifferError";
}

/** A leaderboard tracks file that does not validate. */
export class TracksError extends InvbenchError {
  static override readonly code = "ERR_TRACKS";
  override readonly code: string = TracksError.code;
  override name = "TracksError";
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super(`${file}: invalid tracks file\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Reasons that are about the signature or the key (the others are about the document). */
export const SIGNATURE_REASONS: readonly RefusalReason[] = [
  "missing-signature",
  "malformed-signature",
  "bad-algorithm",
  "untrusted-key",
  "bad-signature",
];

/** A method file that cannot run (docs/methods.md): the file and what it tried. */
export class MethodFileError extends InvbenchError {
  static override readonly code = "ERR_METHOD_FILE";
  override readonly code: string = MethodFileError.code;
  override name = "MethodFileError";
  constructor(readonly file: string, readonly what: string) {
    super(`${file}: method file refused: ${what}`);
  }
}

/** A refused leaderboard submission; `reason` names the check that failed. */
export class SubmissionError extends InvbenchError {
  static override readonly code = "ERR_SUBMISSION";
  /** A refusal about the signature or key: exit 3 like `verify`. */
  static readonly signatureCode = "ERR_SUBMISSION_SIGNATURE";
  override readonly code: string;
  override name = "SubmissionError";
  constructor(readonly reason: RefusalReason, readonly file: string, readonly detail: string) {
    super(`${file}: refused (${reason}): ${detail}`);
    this.code = SIGNATURE_REASONS.includes(reason) ? SubmissionError.signatureCode : SubmissionError.code;
  }
}

/** `leaderboard build --strict` left some submissions out: exit 3 like a failed verification. */
export class SubmissionsOmittedError extends InvbenchError {
  static override readonly code = "ERR_SUBMISSIONS_OMITTED";
  override readonly code: string = SubmissionsOmittedError.code;
  override name = "SubmissionsOmittedError";
}

/**
 * Shards that cannot be merged (`invbench merge`): unfinished, foreign, overlapping, incomplete or
 * corrupt. `shard` is the shard directory at fault (or the list of shards when cells are missing),
 * `cell` the cell id where one is at fault. Nothing has been written when it is thrown.
 */
export class MergeError extends InvbenchError {
  static override readonly code = "ERR_MERGE";
  override readonly code: string = MergeError.code;
  override name = "MergeError";
  constructor(readonly shard: string, readonly cell: string | undefined, detail: string) {
    super(`merge: ${shard}${cell ? `: cell ${cell}` : ""}: ${detail}; nothing written`);
  }
}

/** The exit code of each error code; any code not listed is invalid input. */
const EXIT_OF_CODE: Readonly<Record<string, ExitCode>> = {
  [VerificationError.code]: EXIT.verificationFailed,
  [SubmissionError.signatureCode]: EXIT.verificationFailed,
  [SubmissionsOmittedError.code]: EXIT.verificationFailed,
  [ResultsDifferError.code]: EXIT.mismatch,
};

/** File-system errors about a file named on the command line: missing, in the way, not readable. */
const INPUT_FILE_ERRORS = [
  Deno.errors.NotFound,
  Deno.errors.AlreadyExists,
  Deno.errors.IsADirectory,
  Deno.errors.NotADirectory,
  Deno.errors.PermissionDenied,
];

/**
 * System error codes that name a path the user chose and a reason they can act on (a read-only
 * or full disk, a file where a directory belongs): invalid input, not a bug.
 */
const INPUT_FILE_CODES = new Set([
  "EROFS",
  "ENOSPC",
  "EDQUOT",
  "EACCES",
  "EPERM",
  "ENOTDIR",
  "EEXIST",
  "EISDIR",
]);

/** The CLI's exit code for an error: a lookup on its code; anything else is a bug (exit 1). */
export function exitCodeOf(e: unknown): ExitCode {
  if (e instanceof InvbenchError) return EXIT_OF_CODE[e.code] ?? EXIT.invalidInput;
  if (INPUT_FILE_ERRORS.some((k) => e instanceof k)) return EXIT.invalidInput;
  if (e instanceof Error && INPUT_FILE_CODES.has((e as { code?: string }).code ?? "")) {
    return EXIT.invalidInput;
  }
  return EXIT.failure;
}
