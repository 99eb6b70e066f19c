/**
 * Reproduction attestations at `leaderboard build --attestations DIR`: each file is checked
 * (schema, EdDSA signature by a TRUSTED key with typ invbench-attestation+jws) and matched to a
 * submission by the result's content hash. A submission's standing is then:
 *
 *   disputed       a trusted attestation of it says the re-run cells did not agree
 *   reproduced     trusted attestations of it say they agreed (and none disputes it)
 *   trusted        no attestation; signed by a trusted key
 *   self-reported  no attestation; signed by its author's own key
 *
 * Attestations by untrusted keys, malformed ones and ones about no submission are left out with
 * the reason in the build log: anyone may sign results, only trusted keys attest.
 */
import { Attestation } from "../results/attestation.ts";
import { VerificationError } from "../errors.ts";
import { ATTESTATION_SIGNATURE_TYPE, type Jwks, verifyDocument } from "../results/signing.ts";
import type { CheckedSubmission } from "./check.ts";
import { collectSubmissionFiles } from "./collect.ts";

export type StandingState = "disputed" | "reproduced" | "trusted" | "self-reported";

/** The states in the order the site explains them. */
export const STANDING_STATES: readonly StandingState[] = [
  "reproduced",
  "disputed",
  "trusted",
  "self-reported",
];

export interface AttestationRecord {
  label: string;
  /** Thumbprint of the trusted key that signed it. */
  kid: string;
  attestation: Attestation;
}

export interface Standing {
  state: StandingState;
  attestations: AttestationRecord[];
}

/** The valid, trusted attestations under `paths`, by the content hash of the result they attest. */
export async function readAttestations(
  paths: readonly string[],
  trusted: Jwks,
  say: (line: string) => void,
): Promise<Map<string, AttestationRecord[]>> {
  const byResult = new Map<string, AttestationRecord[]>();
  for (const { path, label } of await collectSubmissionFiles(paths)) {
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      say(`ignored attestation ${path}: unreadable: ${(e as Error).message}`);
      continue;
    }
    const parsed = Attestation.safeParse(raw);
    if (!parsed.success) {
      say(
        `ignored attestation ${path}: not an ${"invbench.attestation/v1"} document: ${
          parsed.error.issues[0].message
        }`,
      );
      continue;
    }
    let kid: string;
    try {
      kid = await verifyDocument(raw, trusted, ATTESTATION_SIGNATURE_TYPE);
    } catch (e) {
      if (!(e instanceof VerificationError)) throw e;
      say(`ignored attestation ${path}: ${e.reason}: ${e.message}`);
      continue;
    }
    const hash = parsed.data.result.sha256;
    byResult.set(hash, [...byResult.get(hash) ?? [], { label, kid, attestation: parsed.data }]);
    say(
      `attestation ${path}: ${parsed.data.verdict} ${
        hash.slice(0, 12)
      } (${parsed.data.cells.length} cells) by ${kid}`,
    );
  }
  return byResult;
}

export function standingOf(
  s: CheckedSubmission,
  attestations: ReadonlyMap<string, AttestationRecord[]>,
): Standing {
  const mine = attestations.get(s.hash) ?? [];
  const state: StandingState = mine.some((a) => a.attestation.verdict === "disputed")
    ? "disputed"
    : mine.length
    ? "reproduced"
    : s.trusted
    ? "trusted"
    : "self-reported";
  return { state, attestations: mine };
}

/** What the site says about a state. */
export const STANDING_TEXT: Readonly<Record<StandingState, string>> = {
  reproduced: "a maintainer re-ran cells of it and they agreed (signed attestation by a trusted key)",
  disputed: "a maintainer re-ran cells of it and they did not agree (signed attestation by a trusted key)",
  trusted: "signed by a trusted key; not re-run by a maintainer yet",
  "self-reported": "signed by its author's own key; not re-run by a maintainer yet",
};
