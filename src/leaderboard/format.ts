/** Plain-text formatting of leaderboard numbers (shared by the HTML and Markdown outputs). */
import type { CostProfile } from "../results/schema.ts";
import type { Summary } from "../results/stats.ts";

/** A fraction as percent with the 95 % CI half-width: "78.10 ± 0.52" ("–" when missing). */
export function percentCi(s: Summary | undefined): string {
  if (!s) return "–";
  const mean = (100 * s.mean).toFixed(2);
  if (s.n < 2) return mean;
  const half = 100 * Math.max(s.ci95[1] - s.mean, s.mean - s.ci95[0]);
  return `${mean} ± ${half.toFixed(2)}`;
}

/** A fraction as percent. */
export function percent(s: Summary | undefined, digits = 2): string {
  return s ? (100 * s.mean).toFixed(digits) : "–";
}

/** A mean with fixed digits. */
export function mean(s: Summary | undefined, digits = 3): string {
  return s ? s.mean.toFixed(digits) : "–";
}

/** The 95 % CI as "[lo, hi]" in percent. */
export function ciRange(s: Summary | undefined): string {
  return s && s.n > 1 ? `[${(100 * s.ci95[0]).toFixed(2)}, ${(100 * s.ci95[1]).toFixed(2)}]` : "";
}

/** 264586 → "264,586". */
export function integer(n: number | undefined): string {
  return n === undefined ? "–" : Math.round(n).toLocaleString("en-US");
}

export function passes(c: CostProfile | undefined): string {
  return c ? `${c.backbone_passes_train} / ${c.backbone_passes_test}` : "–";
}

/** A signed difference in points: "+1.20", "−3.40". */
export function signedPoints(v: number | undefined): string {
  if (v === undefined) return "–";
  const s = Math.abs(v).toFixed(2);
  return v > 0 ? `−${s}` : v < 0 ? `+${s}` : "0.00";
}

export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}

/** Quotes a string for a POSIX shell (single quotes; a quote inside becomes '\''). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
