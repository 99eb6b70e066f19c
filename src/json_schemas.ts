/**
 * The published JSON Schemas (schemas/*.schema.json), generated from the zod schemas so the
 * two never drift; a test checks the committed files against this generator.
 *
 *   deno run -A src/json_schemas.ts        (rewrites schemas/)
 */
import { z } from "zod";
import { MatrixSpec } from "./catalogs.ts";
import { MATRIX_SCHEMA_ID } from "./matrix/schema.ts";
import { RESULT_SCHEMA_ID, ResultDocument } from "./results/schema.ts";

function generate(schema: z.ZodType, id: string): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return { ...json, $id: `https://invbench.dev/schemas/${id}.json`, title: id };
}

/** File name (under schemas/) → generated schema. */
export function jsonSchemas(): Record<string, Record<string, unknown>> {
  return {
    "matrix.v1.schema.json": generate(MatrixSpec, MATRIX_SCHEMA_ID),
    "result.v1.schema.json": generate(ResultDocument, RESULT_SCHEMA_ID),
  };
}

if (import.meta.main) {
  for (const [name, schema] of Object.entries(jsonSchemas())) {
    await Deno.writeTextFile(
      new URL(`../schemas/${name}`, import.meta.url),
      JSON.stringify(schema, null, 2) + "\n",
    );
  }
}
