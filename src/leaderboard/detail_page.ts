/**
 * submissions/<hash>.html: one submission's verification status and standing (trusted,
 * self-reported, reproduced or disputed, with the attestations), signer, matrix and harness, the
 * command that re-runs it, per (dataset, backbone, augmentation) its table and two plots, the
 * source of each method file it ran, and its environment fingerprint.
 */
import { type Standing, STANDING_TEXT } from "./attestations.ts";
import { boardTable } from "./board_table.ts";
import type { CheckedSubmission } from "./check.ts";
import { shellQuote, shortHash } from "./format.ts";
import { type Markup, markup } from "./markup.ts";
import { page } from "./page.ts";
import { accuracyPlot, structurePlot } from "./plots.ts";
import { rankTrack } from "./ranking.ts";
import type { Track } from "./tracks.ts";
import { fCollisionParagraph } from "./collision_note.ts";
import { DEVIATIONS_INTRO, deviationsOf } from "../results/deviations.ts";
import { plusMinusText } from "../results/stats.ts";

/** Flattens a nested value into (dotted path, text) pairs for the environment table. */
export function flatten(value: unknown, prefix = "", depth = 0): [string, string][] {
  if (value !== null && typeof value === "object" && depth < 6) {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value);
    if (!entries.length) return [[prefix, Array.isArray(value) ? "[]" : "{}"]];
    return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k, depth + 1));
  }
  return [[prefix, typeof value === "string" ? value : JSON.stringify(value) ?? String(value)]];
}

function factsTable(pairs: readonly [string, string][], className: string): Markup {
  const rows = pairs.map(([k, v]) =>
    markup`<tr><td>${k}</td><td>${v}</td></tr>
`
  );
  return markup`<table class="${className}"><tbody>
${rows}</tbody></table>`;
}

interface Group {
  dataset: string;
  backbone: string;
  augmentation: string;
}

/** The groups (dataset, backbone, augmentation) of the submission, in first-seen order. */
function groupsOf(s: CheckedSubmission): Group[] {
  const seen = new Map<string, Group>();
  for (const r of s.doc.summary) {
    const k = JSON.stringify([r.dataset, r.backbone, r.augmentation]);
    if (!seen.has(k)) seen.set(k, { dataset: r.dataset, backbone: r.backbone, augmentation: r.augmentation });
  }
  return [...seen.values()];
}

function groupSection(s: CheckedSubmission, g: Group, index: number): Markup {
  const { doc, hash, kid } = s;
  const track = s.tracks.find((t) =>
    t.dataset === g.dataset && t.backbone === g.backbone && t.augmentation === g.augmentation
  );
  // A group that no track lists is still shown, without the "alters F" mark (no tolerance declared).
  const pseudo: Track = {
    id: track?.id ?? `group-${index}`,
    title: "",
    matrix: { name: doc.matrix.name, version: doc.matrix.version, sha256: doc.matrix.sha256 },
    ...g,
    clean_tolerance: track?.clean_tolerance ?? Infinity,
  };
  const { entries } = rankTrack(pseudo, [{ hash, kid, doc }]);
  const label = `${g.dataset} / ${g.backbone} / ${g.augmentation}`;
  const about = track
    ? markup`track <a href="../index.html#track-${track.id}">${track.title}</a>, clean tolerance ${
      track.clean_tolerance.toFixed(2)
    } points below the no-adapter row`
    : "not part of any track";
  const note = fCollisionParagraph([doc], g);
  return markup`<section class="group" data-group="${index}">
<h2>${label}</h2>
<p class="track-meta">${about}</p>
${note}${boardTable(entries, { cleanTolerance: pseudo.clean_tolerance })}
<div class="plots">
${accuracyPlot(entries, label)}
${structurePlot(doc, entries, `Structure ‖EFx − EFy‖ vs ‖Fx − Fy‖: ${label}`)}
</div>
</section>
`;
}

/** The settings of the result's matrix that differ from the paper's (deviations.ts). */
function deviationsSection(s: CheckedSubmission): Markup {
  const list = deviationsOf(s.doc.matrix.spec);
  const rows = list.map((d) =>
    markup`<tr><td>${d.what}</td><td>${d.value}</td><td>${d.paper}</td><td>${d.where.join(", ")}</td></tr>
`
  );
  const body = list.length
    ? markup`<table class="deviations"><thead><tr><th scope="col">setting</th><th scope="col">this matrix</th><th scope="col">paper</th><th scope="col">applies to</th></tr></thead><tbody>
${rows}</tbody></table>`
    : markup`<p class="deviations-none">None: every compared setting is the paper's.</p>`;
  return markup`<section id="deviations">
<h2>Deviations from the paper's protocol</h2>
<p>${DEVIATIONS_INTRO}</p>
${body}
</section>
`;
}

/** Who attested what, on which machine, for the verification section. */
function attestationList(standing: Standing): Markup {
  if (!standing.attestations.length) return markup``;
  const items = standing.attestations.map(({ kid, attestation: a, label }) => {
    const matched = a.cells.filter((c) => c.agree).length;
    const env = a.environment as { os?: unknown; cpu?: { model?: unknown }; backend?: { chosen?: unknown } };
    const machine = [env.cpu?.model, env.os, env.backend?.chosen].filter((x) => typeof x === "string").join(
      ", ",
    );
    return markup`<li class="attestation ${a.verdict}"><span class="badge standing ${a.verdict}">${a.verdict}</span>
${matched} of ${a.cells.length} cells matched, attested by <code class="attester-kid">${kid}</code> on
<span class="machine">${machine || "an unnamed machine"}</span> (harness ${a.harness.version}, commit
<code>${a.harness.commit}</code>; <code>${label}</code>)</li>
`;
  });
  return markup`<ul class="attestations">
${items}</ul>`;
}

/** Each method file the result embeds, with its sha256 and source. */
function methodFiles(s: CheckedSubmission): Markup {
  const files = s.doc.method_files ?? [];
  if (!files.length) return markup``;
  const items = files.map((m) =>
    markup`<section class="method-file">
<h3><code>${m.path}</code></h3>
<p>sha256 <code>${m.sha256}</code> (cells name this loss <code>sha256:${m.sha256.slice(0, 12)}…</code>)</p>
<pre class="method-source"><code>${m.source}</code></pre>
</section>
`
  );
  return markup`<section id="method-files">
<h2>Method files</h2>
<p>The losses this result trained, embedded in the signed document; <code>reproduce</code> re-runs them from
it (docs/methods.md).</p>
${items}</section>
`;
}

export function detailPage(
  s: CheckedSubmission,
  standing: Standing = { state: s.trusted ? "trusted" : "self-reported", attestations: [] },
  keysFile = "trusted_keys.jwks",
): string {
  const { doc, hash, kid } = s;
  const file = `${hash}.json`;
  // Only a hex commit goes into a shell command; anything else the submission says stays text.
  const commit = /^[0-9a-f]{7,40}$/.test(doc.harness.commit) ? doc.harness.commit : undefined;
  const commands = [
    ...(commit ? [`git checkout ${commit}`] : []),
    `npx deno task invbench verify ${shellQuote(file)} --keys ${shellQuote(keysFile)}`,
    `npx deno task invbench reproduce ${shellQuote(file)} --keys ${shellQuote(keysFile)} --cells 3`,
  ];
  const inputs: [string, string][] = [
    ...Object.entries(doc.inputs.datasets).flatMap(([id, d]): [string, string][] => [
      [`dataset ${id}`, `content ${d.content}`],
      ...d.files.map((f): [string, string] => [`dataset ${id}: ${f.path}`, f.sha256]),
      ...(d.manifests ?? []).map((m): [string, string] => [
        `dataset ${id}: ${m.folder} (${m.split}: manifest of ${m.files} files)`,
        m.sha256,
      ]),
    ]),
    ...Object.entries(doc.inputs.backbones).flatMap(([id, b]): [string, string][] => [
      [`backbone ${id}: ${b.path}`, b.sha256],
      ...(b.external_data ?? []).map((f): [string, string] => [`backbone ${id}: ${f.path}`, f.sha256]),
    ]),
  ];
  const tracks = s.tracks.map((t, i) =>
    markup`${i ? ", " : ""}<a href="../index.html#track-${t.id}">${t.title}</a>`
  );
  const dirty = doc.harness.dirty ? " (dirty working tree)" : "";
  const noCommit = commit ? "" : " (the result names no usable git commit)";
  const body = markup`<header class="site">
<p><a href="../index.html">← leaderboard</a></p>
<h1>Submission <code>${shortHash(hash)}</code></h1>
<p>${doc.matrix.name} ${doc.matrix.version} · ${doc.rows.length} cells · ${doc.summary.length} summary rows</p>
</header>
<main>
<section id="verification">
<h2>Verification</h2>
<dl class="facts">
<dt>Status</dt><dd class="verification-status"><span class="badge ok">verified</span> valid EdDSA (Ed25519)
signature by ${
    s.trusted ? "a trusted key" : "its author's own key"
  }; document follows ${doc.schema}; summary matches the rows; re-checked when this
site was built</dd>
<dt>Standing</dt><dd class="standing-status" data-standing="${standing.state}"><span class="badge standing ${standing.state}">${standing.state}</span>
${STANDING_TEXT[standing.state]}${attestationList(standing)}</dd>
<dt>Signer thumbprint</dt><dd><code class="signer-kid">${kid}</code> (RFC 7638 SHA-256 thumbprint of the
public key)</dd>
<dt>Signer's note</dt><dd>${doc.signer ?? "–"}</dd>
<dt>Content sha256</dt><dd><code>${hash}</code> (RFC 8785 canonical JSON without the signature)</dd>
<dt>Tracks</dt><dd>${tracks}</dd>
</dl>
</section>
<section id="reproduce">
<h2>Reproduce</h2>
<p>Download <a href="${file}" download>the signed result</a> and <a href="../${keysFile}" download>the trusted
keys</a>, then run in an invbench checkout${noCommit}:</p>
<pre><code class="reproduce-command">${commands.join("\n")}</code></pre>
</section>
<section id="run">
<h2>Matrix and harness</h2>
<dl class="facts">
<dt>Matrix</dt><dd>${doc.matrix.name} ${doc.matrix.version}, file <code>${doc.matrix.path}</code></dd>
<dt>Matrix sha256</dt><dd><code>${doc.matrix.sha256}</code></dd>
<dt>Harness</dt><dd>${doc.harness.version}, commit <code>${doc.harness.commit}</code>${dirty}</dd>
</dl>
${factsTable(inputs, "env inputs")}
</section>
${deviationsSection(s)}<p class="plus-minus">${
    plusMinusText(doc.summary.map((r) => r.metrics.acc_clean?.n).filter((n) => n !== undefined))
  }</p>
${groupsOf(s).map((g, i) => groupSection(s, g, i))}${methodFiles(s)}<section id="environment">
<h2>Environment fingerprint</h2>
${factsTable(flatten(doc.environment), "env environment")}
</section>
</main>`;
  return page({ title: `invbench submission ${shortHash(hash)}`, root: "../", body });
}
