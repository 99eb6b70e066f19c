/**
 * Generates the published JSON Schema of `invbench.matrix/v1` from the zod schema, so the two
 * never drift (a test compares it with schemas/matrix.v1.schema.json).
 *
 *   deno run -A src/matrix/json_schema.ts > schemas/matrix.v1.schema.json
 */
import { z } from "zod";
import { MATRIX_SCHEMA_ID, MatrixSpec } from "./schema.ts";

export function matrixJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(MatrixSpec, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return { ...schema, $id: `https://invbench.dev/schemas/${MATRIX_SCHEMA_ID}.json`, title: MATRIX_SCHEMA_ID };
}

if (import.meta.main) console.log(JSON.stringify(matrixJsonSchema(), null, 2));
