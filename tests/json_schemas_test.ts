/**
 * The committed JSON Schemas (schemas/*.schema.json) are exactly what src/json_schemas.ts
 * generates from the zod schemas, so the published schemas never drift from the code.
 * After changing src/matrix/schema.ts or src/results/schema.ts, regenerate with
 * `deno run -A src/json_schemas.ts`.
 */
import assert from "node:assert/strict";
import { jsonSchemas } from "../src/json_schemas.ts";
import { MatrixSpec } from "../src/catalogs.ts";
import { MATRIX_SCHEMA_ID } from "../src/matrix/schema.ts";
import { RESULT_SCHEMA_ID, ResultDocument } from "../src/results/schema.ts";
import { ROOT } from "./fixtures/harness.ts";

const generated = jsonSchemas();

Deno.test("json schemas: every committed schema equals the generated one, byte for byte", async () => {
  for (const [name, schema] of Object.entries(generated)) {
    const path = `${ROOT}/schemas/${name}`;
    const committed = await Deno.readTextFile(path);
    const expected = JSON.stringify(schema, null, 2) + "\n";
    if (committed !== expected) {
      // Name the first differing place for a readable failure, then fail.
      assert.deepEqual(
        JSON.parse(committed),
        schema,
        `${name} drifted; run: deno run -A src/json_schemas.ts`,
      );
      assert.fail(`${name}: same content, different formatting; run: deno run -A src/json_schemas.ts`);
    }
  }
});

Deno.test("json schemas: schemas/ holds exactly the generated schemas", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(`${ROOT}/schemas`)) if (e.name.endsWith(".json")) files.push(e.name);
  assert.deepEqual(files.sort(), Object.keys(generated).sort());
});

Deno.test("json schemas: ids, titles and top-level fields follow the zod schemas", () => {
  const cases = [
    ["matrix.v1.schema.json", MATRIX_SCHEMA_ID, MatrixSpec.shape],
    ["result.v1.schema.json", RESULT_SCHEMA_ID, ResultDocument.shape],
  ] as const;
  for (const [name, id, shape] of cases) {
    const s = generated[name] as {
      $schema: string;
      $id: string;
      title: string;
      type: string;
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    assert.equal(s.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(s.$id, `https://invbench.dev/schemas/${id}.json`);
    assert.equal(s.title, id);
    assert.equal(s.type, "object");
    assert.deepEqual(Object.keys(s.properties).sort(), Object.keys(shape).sort());
    assert.equal(s.additionalProperties, false, "strict: unknown fields are errors");
    assert.deepEqual((s.properties.schema as { const: string }).const, id);
  }
});
