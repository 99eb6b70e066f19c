/**
 * docs/methods.md runs as written: every `sh` block's commands in order from the project root
 * (`npx deno task invbench` becomes this Deno binary running src/cli/main.ts), each exiting 0,
 * and every `ts` block loads and traces in the sandbox. The ops the guide lists are exactly the
 * ops a method file gets.
 */
import assert from "node:assert/strict";
import { USER_OP_NAMES } from "../src/methods/user/ops_table.ts";
import { UserLoss } from "../src/methods/user/user_loss.ts";
import { resolveParams } from "../src/catalog/entries.ts";
import { ROOT } from "./fixtures/harness.ts";

const GUIDE = await Deno.readTextFile(`${ROOT}/docs/methods.md`);
const OUT = `${ROOT}/runs/methods-guide`;

function blocks(lang: string): string[] {
  return [...GUIDE.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]);
}

Deno.test("guide: every ts example loads and traces in the sandbox", async () => {
  const ts = blocks("ts");
  assert.ok(ts.length >= 1);
  for (const source of ts) {
    const loss = await UserLoss.load("docs/methods.md", "guide.ts", source);
    await loss.check(4, resolveParams(loss.name, loss.params, {}));
  }
  assert.equal(
    ts[0],
    await Deno.readTextFile(`${ROOT}/examples/methods/mawa.ts`),
    "section 1 shows the file",
  );
});

Deno.test("guide: the ops it lists are the ops a method file gets", () => {
  const paragraph = GUIDE.slice(GUIDE.indexOf("`ops` is the tensor API"), GUIDE.indexOf("More examples:"));
  const words = [...paragraph.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1].split(/\s+/));
  const listed = new Set(words.filter((w) => (USER_OP_NAMES as readonly string[]).includes(w)));
  const named = new Set([...paragraph.matchAll(/`(\w+)\(/g)].map((m) => m[1]));
  for (const n of named) listed.add(n);
  assert.deepEqual([...listed].sort(), [...USER_OP_NAMES].sort());
});

Deno.test("guide: every command runs, in order, from the project root", async () => {
  await Deno.remove(OUT, { recursive: true }).catch(() => {});
  try {
    const commands = blocks("sh").flatMap((b) => b.split("\n")).filter((l) => l.trim());
    assert.ok(commands.length >= 8, commands.join("\n"));
    const invbench = `'${Deno.execPath()}' run -A src/cli/main.ts`;
    for (const line of commands) {
      const shell = line.replaceAll("npx deno task invbench", invbench);
      const r = await new Deno.Command("bash", { args: ["-c", shell], cwd: ROOT, stdin: "null" }).output();
      const dec = new TextDecoder();
      assert.equal(r.code, 0, `${line}\n${dec.decode(r.stderr)}${dec.decode(r.stdout)}`);
    }
    // What the guide says happened, happened.
    const site = await Deno.readTextFile(`${OUT}/site/build.log`);
    assert.match(site, /^standing [0-9a-f]{12}: reproduced$/m);
    const attestation = JSON.parse(await Deno.readTextFile(`${OUT}/attestations/my_loss.json`));
    assert.equal(attestation.verdict, "reproduced");
    const result = JSON.parse(await Deno.readTextFile(`${OUT}/default/result.json`));
    assert.deepEqual(result.method_files.map((m: { path: string }) => m.path), ["./my_loss.ts"]);
    assert.match(site, /accepted .* tracks mnist-default-2-rotation, mnist-default-2-noise$/m);
  } finally {
    await Deno.remove(OUT, { recursive: true }).catch(() => {});
  }
});
