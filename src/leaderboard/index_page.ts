/** index.html: one ranked, sortable table per track, and the submissions left out. */
import { STANDING_STATES, STANDING_TEXT } from "./attestations.ts";
import { boardTable } from "./board_table.ts";
import { type Markup, markup } from "./markup.ts";
import { page } from "./page.ts";
import type { TrackTable } from "./ranking.ts";
import { fCollisionParagraph } from "./collision_note.ts";
import { plusMinusText } from "../results/stats.ts";

export interface Omission {
  file: string;
  /** The name shown on the public site (relative to the submissions directory). */
  label: string;
  reason: string;
  detail: string;
}

function trackSection(t: TrackTable): Markup {
  const m = t.track.matrix;
  const note = fCollisionParagraph([...new Set(t.entries.map((e) => e.submission.doc))], t.track);
  const table = t.entries.length
    ? boardTable(t.entries, { cleanTolerance: t.track.clean_tolerance, submissionsHref: "submissions/" })
    : markup`<p class="empty muted">No submissions yet.</p>`;
  return markup`<section class="track" id="track-${t.track.id}" data-track="${t.track.id}">
<h2>${t.track.title}</h2>
<p class="track-meta">track <code>${t.track.id}</code> · matrix <code>${m.name}</code> ${m.version}
(sha256 <code title="${m.sha256}">${m.sha256.slice(0, 12)}…</code>) · ${t.track.dataset} / ${t.track.backbone}
/ ${t.track.augmentation} · clean tolerance ${
    t.track.clean_tolerance.toFixed(2)
  } points below the no-adapter row ·
${t.submissions} submission(s)</p>
${note}${table}
</section>
`;
}

export function indexPage(
  tables: readonly TrackTable[],
  accepted: number,
  omitted: readonly Omission[],
): string {
  const items = omitted.map((o) =>
    markup`<li><code>${o.label}</code>: <strong>${o.reason}</strong>: ${o.detail}</li>
`
  );
  const omittedList = omitted.length
    ? markup`<section id="omitted">
<h2>Omitted submissions</h2>
<ul>
${items}</ul>
</section>`
    : "";
  const body = markup`<header class="site">
<h1>invbench leaderboard</h1>
<p>Post-training augmentation invariance: a frozen backbone F, a small adapter E, a classifier trained on
clean data only. Methods are ranked per track by <strong>augmented accuracy</strong> (mean over seeds ± 95 %
CI half-width). <span class="badge warn">alters F</span> marks a method whose clean accuracy lies more than
the track's tolerance below the same submission's no-adapter row (C on F itself). Click a column header to
sort.</p>
<p class="plus-minus">${
    plusMinusText(tables.flatMap((t) => t.entries.map((e) => e.accClean?.n).filter((n) => n !== undefined)))
  }</p>
<p class="standings">Each submission's standing: ${
    STANDING_STATES.map((st, i) =>
      markup`${i ? " · " : ""}<span class="badge standing ${st}" title="${STANDING_TEXT[st]}">${st}</span> ${
        STANDING_TEXT[st]
      }`
    )
  }.</p>
<p class="filter"><label><input type="checkbox" id="only-reproduced"> show only reproduced entries</label></p>
<p class="muted">${accepted} submission(s) accepted, ${omitted.length} omitted.</p>
</header>
<main>
${tables.map(trackSection)}${omittedList}
</main>`;
  return page({ title: "invbench leaderboard", root: "", body });
}
