/**
 * Matrix v1: parsing with defaults, errors that name file, line, column, field and expectation,
 * expansion with include/exclude, stable cell ids, shards and --filter.
 */
import { InputError, MatrixError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { type Cell, filterCells, parseShard, shardCells } from "../src/matrix/expand.ts";
import { expandMatrix, loadMatrix, parseMatrix } from "../src/catalogs.ts";
import { AUGMENTATIONS } from "../src/augment/spec.ts";
import { isAdapter, type MatrixSpec } from "../src/matrix/schema.ts";
import { fixture, tempDir } from "./fixtures/harness.ts";

const TINY = await Deno.readTextFile(fixture("tiny.yaml"));
const GRID = await Deno.readTextFile(fixture("grid.yaml"));

/** 1-based line and column of the `nth` occurrence of `needle` in `text` (plus `shift` characters). */
function posOf(text: string, needle: string, shift = 0, nth = 1): { line: number; column: number } {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(needle, at + 1);
    assert.ok(at >= 0, `"${needle}" (occurrence ${nth}) is not in the text`);
  }
  at += shift;
  const before = text.slice(0, at).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/** Line and column of `token` inside the (first) occurrence of `context` in `text`. */
function posIn(text: string, context: string, token: string): { line: number; column: number } {
  const start = text.indexOf(context), offset = context.indexOf(token);
  assert.ok(start >= 0 && offset >= 0, `"${token}" in "${context}" is not in the text`);
  return posOf(text, context, offset);
}

/** `text` with `from` replaced by `to` (which must occur). */
function edit(text: string, from: string, to: string): string {
  assert.ok(text.includes(from), `"${from}" is not in the text`);
  return text.replace(from, to);
}

/** Parses `text` expecting a MatrixError; returns its single problem line. */
function problemOf(text: string, file = "bad.yaml"): { error: MatrixError; problem: string } {
  let error: unknown;
  try {
    parseMatrix(text, file);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof MatrixError, `expected a MatrixError, got ${error}`);
  assert.equal(error.file, file);
  assert.ok(error.message.startsWith(`${file}: invalid matrix`), error.message);
  assert.equal(error.problems.length, 1, error.message);
  return { error, problem: error.problems[0] };
}

/** Asserts that `problem` starts at the given place and names `field`; returns the rest. */
function assertAt(problem: string, place: { line: number; column: number }, field?: string): string {
  const prefix = `line ${place.line}, column ${place.column}: ${field === undefined ? "" : `${field}: `}`;
  assert.ok(problem.startsWith(prefix), `expected "${prefix}…", got "${problem}"`);
  return problem.slice(prefix.length);
}

Deno.test("matrix: a valid matrix parses with the protocol's defaults", () => {
  const { spec, text } = parseMatrix(TINY, "tiny.yaml");
  assert.equal(text, TINY);
  assert.equal(spec.name, "tiny-test");
  assert.deepEqual(spec.datasets[0], {
    id: "mnist",
    source: "mnist",
    train: { limit: 1000, stratified_seed: 0 },
    test: { limit: 300, stratified_seed: 0 },
  });
  assert.deepEqual(spec.training, {
    hidden: 4096,
    out_ratio: 1,
    epochs: 100,
    batch: 256,
    views: 3,
    view_pool: "fresh",
    lr: 1e-3,
    lr_min: 4e-4,
    weight_decay: 1e-4,
  });
  assert.deepEqual(spec.exclude, []);
  assert.equal(spec.include, undefined);
  assert.deepEqual(spec.seeds, [0, 1, 2]);

  const grid = parseMatrix(GRID, "grid.yaml").spec;
  // Backbone input defaults; augmentation defaults; classifier shorthand; loss params defaults.
  assert.equal(grid.backbones[0].input.layout, "NCHW");
  assert.equal(grid.backbones[0].input.resize, "none");
  assert.deepEqual(grid.datasets[0].test, {});
  assert.deepEqual(grid.augmentations[0], { id: "rot", kind: "rotation", degrees: [-180, 180] });
  assert.deepEqual(grid.classifiers[0], { id: "linear", kind: "linear", epochs: 50, batch: 256, lr: 1e-3 });
  assert.deepEqual(grid.classifiers[1], { id: "mlp", kind: "mlp", epochs: 20, batch: 256, lr: 1e-3 });
  assert.deepEqual(grid.evaluation, { aug_draws: 5, structure_points: 500, collision_points: 1000 });

  // The adapter's own training is merged over the matrix's, and loss parameters get defaults.
  const cells = expandMatrix(grid);
  const waco = cells.find((c) => c.method === "waco")!.spec.method;
  assert.equal(waco.kind, "adapter");
  if (isAdapter(waco)) {
    assert.deepEqual(waco.params, { directions: 250, p: 2 });
    assert.equal(waco.training.epochs, 5);
    assert.equal(waco.training.hidden, 256);
    assert.equal(waco.training.batch, 256);
  }
  const mawa = cells.find((c) => c.method === "mawa")!.spec.method;
  if (isAdapter(mawa)) assert.equal(mawa.training.epochs, 10);
});

Deno.test("matrix: the same matrix as JSON parses to the same spec and the same cells", () => {
  const yaml = parseMatrix(GRID, "grid.yaml");
  const json = parseMatrix(JSON.stringify(yaml.spec), "grid.json");
  assert.deepEqual(json.spec, yaml.spec);
  assert.deepEqual(expandMatrix(json.spec).map((c) => c.id), expandMatrix(yaml.spec).map((c) => c.id));
});

Deno.test("matrix: a YAML syntax error names the file, line and column and what was expected", () => {
  const text = edit(TINY, "seeds: [0, 1, 2]", "seeds: [0, 1, 2");
  const { problem } = problemOf(text);
  // The unclosed flow sequence is reported where the parser gave up: the line after it.
  const rest = assertAt(problem, { line: posOf(text, "seeds:").line + 1, column: 1 });
  assert.match(rest, /end with a \]/);

  const tab = problemOf(edit(TINY, "name: tiny-test", "name: tiny-test\n\tcolour: 1")).problem;
  assertAt(tab, { line: posOf(TINY, "name:").line + 1, column: 1 });
  assert.match(tab, /Tabs are not allowed/);

  const dupKey = problemOf(TINY + "seeds: [5]\n").problem;
  assertAt(dupKey, { line: TINY.split("\n").length, column: 1 });
  assert.match(dupKey, /keys must be unique/);
});

Deno.test("matrix: an unknown top-level field is named, located and the known fields listed", () => {
  const text = edit(TINY, "seeds:", "colour: blue\nseeds:");
  const rest = assertAt(problemOf(text).problem, posIn(text, "colour: blue", "colour"), "(top level)");
  assert.match(rest, /unknown field\(s\) "colour"/);
  assert.match(rest, /expected one of schema, name, version, description, datasets, backbones/);
});

Deno.test("matrix: an unknown nested field is named, located and the known fields listed", () => {
  const cases: [string, string, string, string, RegExp][] = [
    [
      "train: { limit: 1000, stratified_seed: 0 }",
      "train: { limit: 1000, stratifed_seed: 0 }",
      "stratifed_seed",
      "datasets[0].train",
      /expected one of limit, stratified_seed$/,
    ],
    [
      "output: features",
      "output: features\n    colour: 1",
      "colour",
      "backbones[0]",
      /expected one of id, onnx, output, input$/,
    ],
    [
      "degrees: [-180, 180] }",
      "degrees: [-180, 180], std: 2 }",
      "std: 2",
      "augmentations[0]",
      // The variant of the union chosen by `kind`: rotation's fields, not noise's.
      /expected one of id, kind, degrees$/,
    ],
    [
      "epochs: 3,",
      "epochs: 3, lr_max: 1,",
      "lr_max",
      "methods[1].training",
      /expected one of hidden, out_ratio, epochs, batch, views, view_pool, lr, lr_min, weight_decay$/,
    ],
    [
      "aug_draws: 2,",
      "aug_draws: 2, drawz: 3,",
      "drawz",
      "evaluation",
      /expected one of aug_draws, structure_points, collision_points$/,
    ],
  ];
  for (const [from, to, key, field, expected] of cases) {
    const text = edit(TINY, from, to);
    const rest = assertAt(problemOf(text).problem, posIn(text, to, key), field);
    assert.match(rest, new RegExp(`unknown field\\(s\\) "${key.replace(/:.*/, "")}"`));
    assert.match(rest, expected);
  }
});

Deno.test("matrix: a value of the wrong type is located and the expected type named", () => {
  const cases: [string, string, string, string, RegExp][] = [
    ["seeds: [0, 1, 2]", "seeds: [0, one, 2]", "one", "seeds[1]", /expected number, received string/],
    ["limit: 300", "limit: many", "many", "datasets[0].test.limit", /expected number, received string/],
    ["size: [28, 28]", "size: 28", "28", "backbones[0].input.size", /expected tuple|expected array/],
    ["epochs: 30 }", "epochs: 2.5 }", "2.5", "classifiers[0].epochs", /expected int/],
    ["seeds: [0, 1, 2]", "seeds: 3", "3", "seeds", /expected array, received number/],
    ["layout: NCHW", "layout: CHW", "CHW", "backbones[0].input.layout", /expected one of "NCHW"\|"NHWC"/],
  ];
  for (const [from, to, token, field, expected] of cases) {
    const text = edit(TINY, from, to);
    const rest = assertAt(problemOf(text).problem, posIn(text, to, token), field);
    assert.match(rest, expected);
  }
});

Deno.test("matrix: an out-of-range value is located and the range named", () => {
  const cases: [string, string, string, string, RegExp][] = [
    ["limit: 300", "limit: -3", "-3", "datasets[0].test.limit", />0/],
    ["std: [0.3081]", "std: [0]", "0]", "backbones[0].input.std[0]", />0/],
    ["seeds: [0, 1, 2]", "seeds: [0, -1, 2]", "-1", "seeds[1]", />=0/],
    ["aug_draws: 2", "aug_draws: 0", "0", "evaluation.aug_draws", />0/],
    ["hidden: 128", "hidden: 0", "0", "methods[1].training.hidden", />0/],
  ];
  for (const [from, to, token, field, expected] of cases) {
    const text = edit(TINY, from, to);
    const rest = assertAt(problemOf(text).problem, posIn(text, to, token), field);
    assert.match(rest, expected);
  }
  // A bad id or version says what an id / version looks like.
  const badId = edit(TINY, "name: tiny-test", "name: Tiny Test");
  assert.match(
    assertAt(problemOf(badId).problem, posIn(badId, "name: Tiny", "Tiny"), "name"),
    /an id: lowercase letters/,
  );
  const badVersion = edit(TINY, "version: 0.0.1", "version: one");
  assert.match(
    assertAt(problemOf(badVersion).problem, posIn(badVersion, "version: one", "one"), "version"),
    /a semantic version like 1\.0\.0/,
  );
  const badSchema = edit(TINY, "invbench.matrix/v1", "invbench.matrix/v9");
  assert.match(
    assertAt(problemOf(badSchema).problem, posIn(badSchema, "schema: invbench", "invbench"), "schema"),
    /expected schema: invbench\.matrix\/v1/,
  );
});

Deno.test("matrix: an unknown augmentation kind lists the kinds there are", () => {
  const text = edit(TINY, "kind: rotation,", "kind: rotate,");
  const rest = assertAt(
    problemOf(text).problem,
    posIn(text, "kind: rotate,", "rotate"),
    "augmentations[0].kind",
  );
  for (const kind of ["rotation", "rotation_c4", "affine", "gaussian_noise", "resized_crop"]) {
    assert.ok(rest.includes(`'${kind}'`), rest);
  }
  const method = edit(TINY, "kind: none", "kind: nothing");
  assert.match(
    assertAt(problemOf(method).problem, posIn(method, "kind: nothing", "nothing"), "methods[0].kind"),
    /Expected 'adapter' \| 'aug-probe' \| 'canon' \| 'none' \| 'steer' \| 'tta'/,
  );
});

Deno.test("matrix: loss parameters not valid for the loss name the parameter and the allowed ones", () => {
  const mawa = edit(TINY, "loss: mawa,", "loss: mawa, params: {directions: 10},");
  assert.match(
    assertAt(
      problemOf(mawa).problem,
      posIn(mawa, "{directions", "directions"),
      "methods[1].params.directions",
    ),
    /unknown parameter "directions" for loss mawa; expected no parameters/,
  );
  const waco = edit(TINY, "loss: mawa,", "loss: waco, params: {temperature: 0.1},");
  assert.match(
    assertAt(
      problemOf(waco).problem,
      posIn(waco, "{temperature", "temperature"),
      "methods[1].params.temperature",
    ),
    /unknown parameter "temperature" for loss waco; expected one of directions, p, q/,
  );
  const range = edit(TINY, "loss: mawa,", "loss: simclr, params: {temperature: -1},");
  assert.match(
    assertAt(
      problemOf(range).problem,
      posIn(range, "temperature: -1", "-1"),
      "methods[1].params.temperature",
    ),
    />0/,
  );
  // Valid parameters of the loss are accepted, with the loss's defaults for the others.
  const ok = parseMatrix(edit(TINY, "loss: mawa,", "loss: waco, params: {p: 1},")).spec;
  const cell = expandMatrix(ok).find((c) => c.method === "mawa")!;
  assert.equal(cell.spec.method.kind, "adapter");
  if (isAdapter(cell.spec.method)) {
    assert.deepEqual(cell.spec.method.params, { directions: 1000, p: 1 });
  }
});

Deno.test("matrix: view_pool is fresh by default or a pool size; baselines default to the view budget", () => {
  const methods = `methods:
  - { id: ec, kind: none }
  - { id: steer, kind: steer }
  - { id: canon, kind: canon }
  - { id: aug-probe, kind: aug-probe }
  - { id: tta, kind: tta }
  - { id: steer5, kind: steer, views: 5 }
  - { id: mawa, kind: adapter, loss: mawa }
  - { id: waco, kind: adapter, loss: waco }
  - { id: waco-q, kind: adapter, loss: waco, params: { q: 1 } }
`;
  const withTraining = (training: string) =>
    parseMatrix(
      TINY.replace(/methods:\n( {2}- .*\n)+/, methods).replace(
        /^seeds: .*$/m,
        `seeds: [0]\ntraining: ${training}`,
      ),
    ).spec;
  const budgets = (training: string) =>
    Object.fromEntries(
      expandMatrix(withTraining(training)).filter((c) => !isAdapter(c.spec.method) && c.method !== "ec").map((
        c,
      ) => [
        c.method,
        (c.spec.method as Record<string, unknown>).views ?? (c.spec.method as Record<string, unknown>).copies,
      ]),
    );
  // Fresh views: epochs × s augmented views per train image, for every method that draws views.
  assert.deepEqual(budgets("{ epochs: 7, views: 3 }"), {
    steer: 21,
    canon: 21,
    "aug-probe": 21,
    tta: 21,
    steer5: 5,
  });
  // A pool of V views: V.
  assert.deepEqual(budgets("{ epochs: 7, views: 3, view_pool: 8 }"), {
    steer: 8,
    canon: 8,
    "aug-probe": 8,
    tta: 8,
    steer5: 5,
  });
  // The parsed spec (what a result embeds) keeps what the matrix says; the budget is resolved per cell.
  const spec = withTraining("{ epochs: 7 }");
  assert.equal(spec.training.view_pool, "fresh");
  assert.equal((spec.methods[1] as Record<string, unknown>).views, undefined);
  // WaCo's q is late: a cell that does not give it has no q in its spec (ids of signed results stay).
  const cells = expandMatrix(spec);
  const params = (id: string) =>
    (cells.find((c) => c.method === id)!.spec.method as { params: unknown }).params;
  assert.deepEqual(params("waco"), { directions: 1000, p: 2 });
  assert.deepEqual(params("waco-q"), { directions: 1000, p: 2, q: 1 });
  // Anything but a positive integer or "fresh" is refused where it stands.
  const bad = TINY.replace(/^seeds: .*$/m, "seeds: [0]\ntraining: { view_pool: stale }");
  assertAt(problemOf(bad).problem, posIn(bad, "view_pool: stale", "stale"), "training.view_pool");
});

Deno.test("matrix: an adapter drawing more views per step than its pool holds is rejected where it is set", () => {
  // The value that sets it: the adapter's own pool, smaller than the matrix's views.
  let text = edit(TINY, "view_pool: 3 }", "view_pool: 2 }");
  let rest = assertAt(
    problemOf(text).problem,
    posIn(text, "view_pool: 2", "2"),
    "methods[1].training.view_pool",
  );
  assert.match(
    rest,
    /^mawa: 3 views per step \(training\.views\) from a pool of 2 \(training\.view_pool\); expected views ≤ view_pool$/,
  );
  // The adapter's own views, more than its pool.
  text = edit(TINY, "epochs: 3, view_pool: 3 }", "epochs: 3, views: 4, view_pool: 3 }");
  rest = assertAt(problemOf(text).problem, posIn(text, "views: 4", "4"), "methods[1].training.views");
  assert.match(rest, /^mawa: 4 views per step .* from a pool of 3 /);
  // The matrix's training, which the adapter does not override.
  text = edit(TINY, "view_pool: 3 }", "}").replace(
    /^seeds: .*$/m,
    "$&\ntraining: { views: 5, view_pool: 4 }",
  );
  rest = assertAt(problemOf(text).problem, posIn(text, "{ views: 5", "5"), "training.views");
  assert.match(rest, /^mawa: 5 views per step .* from a pool of 4 /);
  // Fresh views draw as many as a step needs; equal counts are fine.
  parseMatrix(edit(TINY, "view_pool: 3 }", "views: 3, view_pool: 3 }"));
  parseMatrix(edit(TINY, "view_pool: 3 }", "views: 7, view_pool: fresh }"));
});

Deno.test("matrix: duplicate ids and seeds are located at the second one", () => {
  const method = edit(TINY, "{ id: mawa,", "{ id: ec,");
  assert.match(
    assertAt(problemOf(method).problem, posIn(method, "{ id: ec, kind: adapter", "ec"), "methods[1].id"),
    /"ec" is already the id of methods\[0\]; expected a unique id/,
  );
  const aug = edit(
    TINY,
    "  - { id: rot, kind: rotation, degrees: [-180, 180] }",
    "  - { id: rot, kind: rotation, degrees: [-180, 180] }\n  - { id: rot, kind: rotation_c4 }",
  );
  assert.match(
    assertAt(
      problemOf(aug).problem,
      posIn(aug, "{ id: rot, kind: rotation_c4", "rot"),
      "augmentations[1].id",
    ),
    /"rot" is already the id of augmentations\[0\]/,
  );
  // A classifier given by name has no id node: the entry itself is located.
  const cls = edit(TINY, "  - { id: linear, kind: linear, epochs: 30 }", "  - linear\n  - linear");
  assert.match(
    assertAt(problemOf(cls).problem, posOf(cls, "  - linear", 4, 2), "classifiers[1].id"),
    /"linear" is already the id of classifiers\[0\]/,
  );
  const seeds = edit(TINY, "seeds: [0, 1, 2]", "seeds: [0, 1, 0]");
  assert.match(
    assertAt(problemOf(seeds).problem, posIn(seeds, "seeds: [0, 1, 0]", "0]"), "seeds[2]"),
    /0 is already seeds\[0\]; expected unique seeds/,
  );
});

Deno.test("matrix: loadMatrix names the file it read in every error", async () => {
  await using tmp = await tempDir("matrix");
  const file = `${tmp.dir}/broken.yaml`;
  await Deno.writeTextFile(file, edit(TINY, "seeds: [0, 1, 2]", "seeds: [0, x]"));
  await assert.rejects(() => loadMatrix(file), (e: unknown) => {
    assert.ok(e instanceof MatrixError);
    assert.equal(e.file, file);
    assert.match(
      e.message,
      new RegExp(
        `^${file.replaceAll("/", "\\/")}: invalid matrix\\n  - line \\d+, column \\d+: seeds\\[1\\]`,
      ),
    );
    return true;
  });
  await assert.rejects(() => loadMatrix(`${tmp.dir}/missing.yaml`), (e: unknown) => {
    assert.ok(e instanceof MatrixError);
    assert.match(e.message, /missing\.yaml: invalid matrix\n {2}- cannot read the file/);
    return true;
  });
  const good = `${tmp.dir}/good.yaml`;
  await Deno.writeTextFile(good, TINY);
  const loaded = await loadMatrix(good);
  assert.equal(loaded.file, await Deno.realPath(good));
  assert.equal(loaded.text, TINY);
});

// ---- expansion and cell ids ---------------------------------------------------------------

const grid = () => parseMatrix(GRID, "grid.yaml").spec;
/** The matrix after a change to its parsed form (the text is regenerated, then re-parsed). */
function variant(change: (m: Record<string, unknown>) => void, base = GRID): MatrixSpec {
  const raw = parseMatrix(base).spec as unknown as Record<string, unknown>;
  const copy = structuredClone(raw);
  change(copy);
  return parseMatrix(stringify(copy)).spec;
}
const identity = (c: Cell) =>
  [c.dataset, c.backbone, c.augmentation, c.method, c.classifier, c.seed].join("/");
const idsByIdentity = (cells: Cell[]) => new Map(cells.map((c) => [identity(c), c.id]));

Deno.test("matrix: an include or exclude pattern naming no declared id or seed is refused, located", () => {
  // A typo would otherwise exclude nothing (or include less) without a word.
  let text = TINY + "exclude:\n  - { method: mawaa }\n";
  let rest = assertAt(
    problemOf(text).problem,
    posIn(text, "{ method: mawaa }", "mawaa"),
    "exclude[0].method",
  );
  assert.match(rest, /^"mawaa" is not a method id of this matrix; expected one of ec, mawa$/);
  text = TINY + "include:\n  - { method: mawa }\n  - { augmentation: rot, seed: 7 }\n";
  rest = assertAt(problemOf(text).problem, posIn(text, "seed: 7", "7"), "include[1].seed");
  assert.match(rest, /^7 is not a seed of this matrix; expected one of 0, 1, 2$/);
  // Declared values are taken.
  parseMatrix(TINY + "exclude:\n  - { method: mawa, seed: 2, augmentation: rot, dataset: mnist }\n");
});

Deno.test("matrix: expansion is the cartesian product, minus exclude, within include", () => {
  const all = expandMatrix(grid());
  assert.equal(all.length, 2 * 3 * 2 * 3);
  assert.equal(new Set(all.map((c) => c.id)).size, all.length, "cell ids are unique");
  for (const c of all) assert.match(c.id, /^[0-9a-f]{16}$/);
  // Declaration order: datasets outermost, seeds innermost.
  assert.deepEqual(all.slice(0, 4).map(identity), [
    "mnist/fixture/rot/ec/linear/0",
    "mnist/fixture/rot/ec/linear/1",
    "mnist/fixture/rot/ec/linear/2",
    "mnist/fixture/rot/ec/mlp/0",
  ]);

  const excluded = expandMatrix(variant((m) => m.exclude = [{ method: "mawa", classifier: "mlp" }]));
  assert.equal(excluded.length, 36 - 2 * 3);
  assert.ok(!excluded.some((c) => c.method === "mawa" && c.classifier === "mlp"));

  const twoPatterns = expandMatrix(variant((m) => m.exclude = [{ seed: 0 }, { augmentation: "noise" }]));
  assert.equal(twoPatterns.length, 3 * 2 * 2);

  const included = expandMatrix(variant((m) => m.include = [{ seed: 0 }, { method: "ec", seed: 1 }]));
  assert.equal(included.length, 2 * 3 * 2 + 2 * 2);

  const both = expandMatrix(variant((m) => {
    m.include = [{ method: "waco" }];
    m.exclude = [{ classifier: "linear" }];
  }));
  assert.deepEqual(new Set(both.map((c) => `${c.method}/${c.classifier}`)), new Set(["waco/mlp"]));
  assert.equal(both.length, 2 * 3);

  // Ids do not depend on include/exclude: the kept cells keep their ids.
  const ids = idsByIdentity(all);
  for (const c of both) assert.equal(c.id, ids.get(identity(c)));

  // An unknown field in a pattern is an error like any other.
  assert.throws(
    () => parseMatrix(stringify({ ...grid(), exclude: [{ metod: "ec" }] })),
    (e: unknown) => e instanceof MatrixError && /exclude\[0\]: unknown field\(s\) "metod"/.test(e.message),
  );
});

Deno.test("matrix: cell ids are stable under reordering list entries and object keys", () => {
  const ids = idsByIdentity(expandMatrix(grid()));
  const reordered = variant((m) => {
    (m.augmentations as unknown[]).reverse();
    (m.methods as unknown[]).reverse();
    (m.classifiers as unknown[]).reverse();
    (m.seeds as unknown[]).reverse();
    // Keys of an object in another order.
    const method = (m.methods as Record<string, unknown>[])[0];
    (m.methods as Record<string, unknown>[])[0] = Object.fromEntries(Object.entries(method).reverse());
  });
  const cells = expandMatrix(reordered);
  assert.equal(cells.length, ids.size);
  for (const c of cells) assert.equal(c.id, ids.get(identity(c)), identity(c));

  // Names, versions, descriptions and explicit defaults change no id.
  const cosmetic = variant((m) => {
    m.name = "other-name";
    m.version = "9.9.9";
    m.description = "changed";
    m.evaluation = { aug_draws: 5 };
    (m.augmentations as Record<string, unknown>[])[0].degrees = [-180, 180];
    (m.classifiers as unknown[])[0] = { id: "linear", kind: "linear", epochs: 50 };
  });
  for (const c of expandMatrix(cosmetic)) assert.equal(c.id, ids.get(identity(c)), identity(c));
});

Deno.test("matrix: any change that determines a result changes the cell ids it affects", () => {
  const base = expandMatrix(grid());
  const ids = idsByIdentity(base);
  const changed = (spec: MatrixSpec, which: (c: Cell) => boolean) => {
    const cells = expandMatrix(spec);
    assert.equal(cells.length, base.length);
    for (const c of cells) {
      if (which(c)) assert.notEqual(c.id, ids.get(identity(c)), `${identity(c)} should change`);
      else assert.equal(c.id, ids.get(identity(c)), `${identity(c)} should not change`);
    }
  };
  const adapters = (c: Cell) => c.method !== "ec";
  // Matrix-wide epochs: only adapters that do not set their own epochs (mawa; waco sets 5).
  changed(variant((m) => (m.training as Record<string, unknown>).epochs = 11), (c) => c.method === "mawa");
  changed(variant((m) => (m.training as Record<string, unknown>).hidden = 512), adapters);
  changed(
    variant((m) => (m.methods as Record<string, unknown>[])[2].params = { directions: 251 }),
    (c) => c.method === "waco",
  );
  changed(
    variant((m) => (m.classifiers as Record<string, unknown>[])[1].epochs = 21),
    (c) => c.classifier === "mlp",
  );
  changed(
    variant((m) => (m.augmentations as Record<string, unknown>[])[0].degrees = [-90, 90]),
    (c) => c.augmentation === "rot",
  );
  changed(variant((m) => m.evaluation = { aug_draws: 4 }), () => true);
  changed(
    variant((m) => (m.datasets as Record<string, unknown>[])[0].train = { limit: 999 }),
    () => true,
  );
  changed(
    variant((m) =>
      ((m.backbones as Record<string, unknown>[])[0].input as Record<string, unknown>).mean = [0.13]
    ),
    () => true,
  );
});

// ---- shards and filters ------------------------------------------------------------------

Deno.test("matrix: shards are disjoint, cover the matrix, are balanced and independent of list order", () => {
  const cells = expandMatrix(grid());
  const reordered = expandMatrix(variant((m) => {
    (m.methods as unknown[]).reverse();
    (m.seeds as unknown[]).reverse();
    (m.augmentations as unknown[]).reverse();
  }));
  for (const count of [1, 2, 3, 4, 5, 7, 36, 40]) {
    const shards = Array.from({ length: count }, (_, i) => shardCells(cells, i, count).map((c) => c.id));
    const all = shards.flat();
    assert.equal(all.length, cells.length, `N=${count}: shards cover every cell once`);
    assert.deepEqual(new Set(all), new Set(cells.map((c) => c.id)), `N=${count}: shards cover the matrix`);
    const sizes = shards.map((s) => s.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `N=${count}: sizes ${sizes}`);
    for (let i = 0; i < count; i++) {
      assert.deepEqual(shardCells(reordered, i, count).map((c) => c.id), shards[i], `N=${count}, I=${i}`);
    }
  }
  // Sharding does not depend on what was filtered before… of the same cells, in any order.
  assert.deepEqual(
    shardCells([...cells].reverse(), 1, 4).map((c) => c.id),
    shardCells(cells, 1, 4).map((c) => c.id),
  );
});

Deno.test("matrix: --shard I/N is parsed and bad values are refused", () => {
  assert.deepEqual(parseShard("0/4"), { index: 0, count: 4 });
  assert.deepEqual(parseShard(" 3/4 "), { index: 3, count: 4 });
  for (const bad of ["4/4", "1/0", "-1/2", "1", "a/b", "1/2/3", ""]) {
    assert.throws(() => parseShard(bad), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.ok(e.message.includes(`--shard "${bad}"`), e.message);
      assert.match(e.message, /expected I\/N with 0 ≤ I < N/);
      return true;
    });
  }
});

Deno.test("matrix: --filter keeps cells matching every field, OR within a field", () => {
  const cells = expandMatrix(grid());
  const ec = filterCells(cells, ["method=ec"]);
  assert.equal(ec.length, 2 * 2 * 3);
  assert.ok(ec.every((c) => c.method === "ec"));
  const orred = filterCells(cells, ["method=ec,waco"]);
  assert.deepEqual(new Set(orred.map((c) => c.method)), new Set(["ec", "waco"]));
  assert.equal(orred.length, 2 * 2 * 2 * 3);
  const anded = filterCells(cells, ["method=ec,waco", "seed=0,2", "augmentation=noise"]);
  assert.equal(anded.length, 2 * 2 * 2);
  assert.ok(anded.every((c) => c.augmentation === "noise" && c.seed !== 1 && c.method !== "mawa"));
  assert.equal(filterCells(cells, ["classifier=mlp", "dataset=mnist", "backbone=fixture"]).length, 18);
  assert.deepEqual(filterCells(cells, []).map((c) => c.id), cells.map((c) => c.id));
  // A value no cell has is a typo, not an empty selection (it would silently drop what it meant).
  for (const typo of ["method=nope", "method=ec,wacoo", "seed=0,7"]) {
    assert.throws(() => filterCells(cells, [typo]), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.match(
        e.message,
        /^--filter "[a-z]+=[^"]+": "?(nope|wacoo|7)"? is not a (method|seed) of this matrix's cells; expected one of /,
      );
      return true;
    });
  }
  // Order is kept.
  assert.deepEqual(ec.map((c) => c.id), cells.filter((c) => c.method === "ec").map((c) => c.id));

  for (const bad of ["method", "metod=ec", "=ec", "method=", "Method=ec", "id=abc"]) {
    assert.throws(() => filterCells(cells, [bad]), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.ok(e.message.includes(`--filter "${bad}"`), e.message);
      assert.match(e.message, /expected FIELD=VALUE\[,VALUE\] with FIELD one of dataset, backbone/);
      return true;
    });
  }
});

Deno.test("matrix: a source of precomputed features (npy, safetensors) is refused, saying why", () => {
  for (const source of ["npy", "safetensors"]) {
    const text = edit(TINY, "source: mnist", `source: ${source}`);
    const rest = assertAt(
      problemOf(text).problem,
      posIn(text, `source: ${source}`, source),
      "datasets[0].source",
    );
    assert.match(
      rest,
      new RegExp(`"${source}" holds precomputed features, which cannot run through a backbone`),
    );
    assert.match(
      rest,
      /expected an image source: cifar10, cifar100, fashion-mnist, idx, image-folder, mnist, parquet, stl10$/,
    );
  }
  const unknown = edit(TINY, "source: mnist", "source: imagenet");
  assert.match(
    problemOf(unknown).problem,
    /datasets\[0\]\.source: Invalid option: expected one of "cifar10"\|.*"mnist"\|"parquet"\|"stl10"$/,
  );
});

/**
 * A matrix holding every kind of strict object the schema has: every augmentation and method
 * kind, a classifier object, an adapter's training, top-level training and evaluation, include
 * and exclude patterns.
 */
function everyObject(): Record<string, unknown> {
  return {
    schema: "invbench.matrix/v1",
    name: "every-object",
    version: "1.0.0",
    datasets: [
      { id: "mnist", source: "mnist", train: { limit: 100 }, test: { limit: 50 } },
      {
        id: "pq",
        source: "parquet",
        path: "pq",
        holdout: { fraction: 0.2, seed: 0 },
        splits: { train: ["a.parquet"] },
      },
    ],
    backbones: [{
      id: "fixture",
      onnx: "fixture.onnx",
      input: { layout: "NCHW", size: [28, 28], channels: 1, mean: [0.1], std: [0.3] },
    }],
    augmentations: [
      { id: "rot", kind: "rotation", degrees: [-90, 90] },
      { id: "c4", kind: "rotation_c4" },
      { id: "c8", kind: "rotation_c8" },
      { id: "aff", kind: "affine", translate: 0.1 },
      { id: "noise", kind: "gaussian_noise", std: 2 },
      { id: "crop", kind: "resized_crop" },
      { id: "ident", kind: "identity" },
      // A step of every kind, so each nested variant of the schema is reached.
      { id: "comp", kind: "compose", steps: AUGMENTATIONS.names.map((kind) => nestedExample(kind)) },
      { id: "choice", kind: "random_choice", ops: [{ kind: "contrast" }], n: 1, magnitude: 2 },
      ...CORRUPTIONS.map((kind) => ({ id: kind.replaceAll("_", "-"), kind, severity: 2 })),
    ],
    methods: [
      { id: "ec", kind: "none" },
      { id: "mawa", kind: "adapter", loss: "mawa", training: { epochs: 2 } },
      { id: "probe", kind: "aug-probe", views: 2 },
      { id: "tta", kind: "tta", copies: 4 },
      { id: "steer", kind: "steer", bins: 4 },
      { id: "canon", kind: "canon", head_epochs: 2 },
    ],
    classifiers: [{ id: "lin", kind: "linear", epochs: 3 }],
    seeds: [0],
    training: { hidden: 16 },
    evaluation: { aug_draws: 1 },
    exclude: [{ method: "ec", augmentation: "c4" }],
    include: [{ dataset: "mnist" }],
  };
}

/** The corruption kinds (every kind with a severity field). */
const CORRUPTIONS = AUGMENTATIONS.entries.filter((k) => "severity" in k.fields).map((k) => k.kind);

/** A valid augmentation of `kind` without an id, for a compose step (list fields get one step). */
function nestedExample(kind: string): Record<string, unknown> {
  if (kind === "compose") return { kind, steps: [{ kind: "identity" }] };
  if (kind === "random_choice") return { kind, ops: [{ kind: "identity" }] };
  return { kind };
}

/** The object at `path` (keys and indices) inside `root`. */
function objectAt(root: unknown, path: readonly (string | number)[]): Record<string, unknown> {
  return path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root) as Record<string, unknown>;
}

/** Every object of the published JSON Schema that forbids unknown fields, by its JSON pointer. */
function strictSchemaObjects(node: unknown, at = ""): string[] {
  if (!node || typeof node !== "object") return [];
  const here = (node as { additionalProperties?: unknown }).additionalProperties === false ? [at] : [];
  return [
    ...here,
    ...Object.entries(node).flatMap(([k, v]) => strictSchemaObjects(v, `${at}/${k}`)),
  ];
}

/** The JSON pointer of the schema object that validates the data at `path` of `root`. */
function schemaPointer(schema: unknown, root: unknown, path: readonly (string | number)[]): string {
  let node = schema as Record<string, unknown>, at = "", data = root;
  const variant = () => {
    const ref = node.$ref as string | undefined;
    if (ref) [node, at] = [objectAt(schema, ref.slice(2).split("/")), ref.slice(1)];
    for (const union of ["oneOf", "anyOf"]) {
      const options = node[union] as Record<string, unknown>[] | undefined;
      if (!options) continue;
      const kind = (data as { kind?: unknown }).kind;
      const i = options.findIndex((o) => {
        const k = (o.properties as Record<string, { const?: unknown; enum?: unknown[] }> | undefined)?.kind;
        return o.type === "object" && (kind === undefined || k?.const === kind || !!k?.enum?.includes(kind));
      });
      assert.ok(i >= 0, `no ${union} variant at ${at}`);
      [node, at] = [options[i], `${at}/${union}/${i}`];
    }
  };
  variant();
  for (const k of path) {
    if (typeof k === "number") [node, at] = [node.items as Record<string, unknown>, `${at}/items`];
    else {
      [node, at] = [
        (node.properties as Record<string, Record<string, unknown>>)[k],
        `${at}/properties/${k}`,
      ];
    }
    data = (data as Record<string | number, unknown>)[k];
    variant();
  }
  return at;
}

Deno.test("matrix: an unknown key inside every strict object is rejected at its place, with its path", async () => {
  const schema = JSON.parse(
    await Deno.readTextFile(new URL("../schemas/matrix.v1.schema.json", import.meta.url)),
  );
  const base = everyObject();
  parseMatrix(stringify(base), "every.yaml");
  const paths: (string | number)[][] = [
    [],
    ["datasets", 0],
    ["datasets", 0, "train"],
    ["datasets", 0, "test"],
    ["datasets", 1, "holdout"],
    ["datasets", 1, "splits"],
    ["backbones", 0],
    ["backbones", 0, "input"],
    ...(base.augmentations as unknown[]).map((_, i) => ["augmentations", i]),
    ...AUGMENTATIONS.names.map((_, k) => ["augmentations", 7, "steps", k]),
    ...[0, 1, 2, 3, 4, 5].map((i) => ["methods", i]),
    ["methods", 1, "training"],
    ["classifiers", 0],
    ["training"],
    ["evaluation"],
    ["exclude", 0],
    ["include", 0],
  ];
  // The cases reach every strict object of the schema: a new one needs a case here.
  assert.deepEqual(
    paths.map((p) => schemaPointer(schema, base, p)).sort(),
    strictSchemaObjects(schema).sort(),
  );
  for (const path of paths) {
    const doc = everyObject();
    const target = objectAt(doc, path);
    const known = Object.keys(target);
    target.zz_unknown = 1;
    const text = stringify(doc);
    const field = path.length
      ? path.map((k) => (typeof k === "number" ? `[${k}]` : `.${k}`)).join("").slice(1)
      : "(top level)";
    const rest = assertAt(problemOf(text).problem, posOf(text, "zz_unknown"), field);
    assert.match(rest, /^unknown field\(s\) "zz_unknown"; expected one of /, field);
    // The list of allowed fields includes the ones this object uses.
    for (const k of known) {
      assert.ok(rest.includes(k), `${field}: "${k}" not among the known fields: ${rest}`);
    }
  }
  // An adapter's loss parameters are strict too (per loss, checked against the loss's spec).
  const doc = everyObject();
  objectAt(doc, ["methods", 1]).params = { zz_unknown: 1 };
  const text = stringify(doc);
  const rest = assertAt(problemOf(text).problem, posOf(text, "zz_unknown"), "methods[1].params.zz_unknown");
  assert.match(rest, /unknown parameter "zz_unknown" for loss mawa/);
});
