/**
 * The one error type of the data layer. DESIGN.md: bad input stops with a message that names the
 * file, the place in it and what was expected, so every throw site fills in all three.
 */

/** Where in a file a problem sits: a byte offset, a named header field, or both. */
export interface DataErrorPlace {
  /** Byte offset into the file (0-based), when the problem has one. */
  offset?: number;
  /** Header field or logical location, e.g. "dims[0]", "header.shape", "image 1000". */
  field?: string;
}

/** A malformed, truncated or inconsistent dataset file. */
export class DataError extends Error {
  readonly file: string;
  readonly offset?: number;
  readonly field?: string;
  readonly expected: string;

  constructor(file: string, place: DataErrorPlace, expected: string, got?: string) {
    const where = [
      place.offset !== undefined ? `byte ${place.offset}` : undefined,
      place.field,
    ].filter((s) => s !== undefined).join(", ");
    super(
      `${file}${where ? ` (${where})` : ""}: expected ${expected}${got !== undefined ? `, got ${got}` : ""}`,
    );
    this.name = "DataError";
    this.file = file;
    this.offset = place.offset;
    this.field = place.field;
    this.expected = expected;
  }
}
