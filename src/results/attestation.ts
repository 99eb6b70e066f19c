/**
 * A reproduction attestation, `invbench.attestation/v1`: a maintainer's signed statement that
 * they re-ran some cells of a result and what came out. It names the result by its content hash
 * (sha256 of the canonical signed bytes, as the leaderboard files it), lists the cells re-run,
 * gives per cell and metric the result's value, the re-run's value and whether they agree within
 * the tolerance, the verdict, and the machine it ran on. Signed like results (signing.ts) with
 * `typ` invbench-attestation+jws, so an attestation can never pass for a result or the reverse.
 */
import { z } from "zod";
import { sha256Hex } from "../util/hash.ts";
import type { Comparison, Tolerance } from "./compare.ts";
import { isTimingMetric, type ResultDocument } from "./schema.ts";
import { signedBytes } from "./signing.ts";

export const ATTESTATION_SCHEMA_ID = "invbench.attestation/v1";

const MetricAgreement = z.strictObject({
  result: z.number().nullable(),
  rerun: z.number().nullable(),
  agree: z.boolean(),
});

export const Attestation = z.strictObject({
  schema: z.literal(ATTESTATION_SCHEMA_ID),
  result: z.strictObject({
    /** sha256 of the result's canonical signed content: its name on the leaderboard. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    matrix: z.strictObject({ name: z.string(), version: z.string(), sha256: z.string() }),
  }),
  /** The cells re-run, with per-metric agreement (timings are not compared). */
  cells: z.array(z.strictObject({
    cell: z.string(),
    label: z.string(),
    status: z.strictObject({ result: z.string(), rerun: z.string().nullable() }),
    metrics: z.record(z.string(), MetricAgreement),
    agree: z.boolean(),
  })).min(1),
  tolerance: z.strictObject({ absolute: z.number(), seedSd: z.number() }),
  verdict: z.enum(["reproduced", "disputed"]),
  harness: z.strictObject({ version: z.string(), commit: z.string(), dirty: z.boolean() }),
  environment: z.record(z.string(), z.unknown()),
  signature: z.strictObject({ protected: z.string(), signature: z.string() }).optional(),
});

export type Attestation = z.infer<typeof Attestation>;

/** The content hash of a signed document (what the leaderboard files a submission under). */
export function contentHash(raw: Record<string, unknown>): string {
  return sha256Hex(signedBytes(raw));
}

/** The (unsigned) attestation of re-running `cells` of `raw` (whose parsed form is `doc`). */
export function attest(
  raw: Record<string, unknown>,
  doc: ResultDocument,
  rerun: ResultDocument,
  comparison: Comparison,
  tolerance: Tolerance,
  cells: readonly string[],
): Attestation {
  const byCell = new Map(rerun.rows.map((r) => [r.cell, r]));
  const failing = new Set(comparison.differences.map((d) => `${d.cell}\0${d.metric}`));
  const entries = cells.map((id) => {
    const r = doc.rows.find((row) => row.cell === id)!;
    const again = byCell.get(id);
    const metrics: Record<string, z.infer<typeof MetricAgreement>> = {};
    for (const name of Object.keys(r.metrics).sort()) {
      if (isTimingMetric(name)) continue;
      metrics[name] = {
        result: r.metrics[name] ?? null,
        rerun: again?.metrics[name] ?? null,
        agree: again !== undefined && !failing.has(`${id}\0${name}`),
      };
    }
    const agree = again !== undefined && again.status === r.status &&
      Object.values(metrics).every((m) => m.agree);
    return {
      cell: id,
      label: `${r.dataset}/${r.backbone}/${r.augmentation}/${r.method}/${r.classifier}/seed ${r.seed}`,
      status: { result: r.status, rerun: again?.status ?? null },
      metrics,
      agree,
    };
  });
  return {
    schema: ATTESTATION_SCHEMA_ID,
    result: {
      sha256: contentHash(raw),
      matrix: { name: doc.matrix.name, version: doc.matrix.version, sha256: doc.matrix.sha256 },
    },
    cells: entries,
    tolerance: { ...tolerance },
    verdict: comparison.agree && entries.every((e) => e.agree) ? "reproduced" : "disputed",
    harness: rerun.harness,
    environment: rerun.environment,
  };
}
