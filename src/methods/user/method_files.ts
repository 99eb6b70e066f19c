/**
 * The method files a matrix names (`loss: ./losses/barlow.ts`): each is read relative to the
 * matrix (or taken from `sources`, e.g. the sources a result document embeds), loaded in the
 * sandbox, its parameters in the matrix checked against its own definition (located errors, like
 * every matrix error), and traced once, all before any cell runs.
 */
import { dirname, resolve } from "node:path";
import { resolveParams } from "../../catalog/entries.ts";
import { MatrixError, MethodFileError } from "../../errors.ts";
import { locatedProblem, type ParsedMatrix } from "../../matrix/parse.ts";
import { isAdapter, paramProblems } from "../../matrix/schema.ts";
import { isMethodFile, UserLoss } from "./user_loss.ts";

export interface MethodFileOptions {
  /** Sources by the `loss` value the matrix gives; files are read only for values missing here. */
  sources?: ReadonlyMap<string, string>;
  /** The sandbox's time limit per step, in ms (tests shorten it). */
  timeoutMs?: number;
}

/** The method files of `parsed`, loaded and checked, by their `loss` value in the matrix. */
export async function loadMethodFiles(
  parsed: ParsedMatrix,
  o: MethodFileOptions = {},
): Promise<Map<string, UserLoss>> {
  const files = new Map<string, UserLoss>();
  const problems: string[] = [];
  const base = parsed.file ? dirname(parsed.file) : Deno.cwd();
  const matrixName = parsed.file || "<matrix>";
  for (const [i, m] of parsed.spec.methods.entries()) {
    if (!isAdapter(m) || !isMethodFile(m.loss)) continue;
    let loss = files.get(m.loss);
    const file = resolve(base, m.loss);
    if (!loss) {
      let source = o.sources?.get(m.loss);
      if (source === undefined) {
        try {
          source = await Deno.readTextFile(file);
        } catch (e) {
          problems.push(
            locatedProblem(
              parsed.text,
              ["methods", i, "loss"],
              `cannot read ${file}: ${(e as Error).message}`,
            ),
          );
          continue;
        }
      }
      try {
        loss = await UserLoss.load(m.loss, m.loss, source, o.timeoutMs);
      } catch (e) {
        throw e instanceof MethodFileError ? located(e, parsed, i) : e;
      }
      files.set(m.loss, loss);
    }
    const bad = paramProblems(loss, m.params);
    for (const p of bad) {
      problems.push(locatedProblem(parsed.text, ["methods", i, ...p.path], p.message, p.unknownKey));
    }
    if (bad.length) continue;
    const views = (m.training.views ?? parsed.spec.training.views) + 1;
    try {
      await loss.check(views, resolveParams(`${loss.name} params`, loss.params, m.params));
    } catch (e) {
      throw e instanceof MethodFileError ? located(e, parsed, i) : e;
    }
  }
  if (problems.length) throw new MatrixError(matrixName, problems);
  return files;
}

/** The refusal, with where the matrix names the file. */
function located(e: MethodFileError, parsed: ParsedMatrix, i: number): MethodFileError {
  const where = locatedProblem(parsed.text, ["methods", i, "loss"], "this method file");
  return new MethodFileError(e.file, `${e.what} (named at ${parsed.file || "<matrix>"} ${where})`);
}
