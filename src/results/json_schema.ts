/**
 * Generates the published JSON Schema of `invbench.result/v1` from the zod schema (a test
 * compares it with schemas/result.v1.schema.json).
 *
 *   deno run -A src/results/json_schema.ts > schemas/result.v1.schema.json
 */
import { z } from "zod";
import { RESULT_SCHEMA_ID, ResultDocument } from "./schema.ts";

export function resultJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ResultDocument, { io: "input", unrepresentable: "any", target: "draft-2020-12" });
  return { ...schema, $id: `https://invbench.dev/schemas/${RESULT_SCHEMA_ID}.json`, title: RESULT_SCHEMA_ID };
}

if (import.meta.main) console.log(JSON.stringify(resultJsonSchema(), null, 2));
