import assert from "node:assert/strict";
import { niceTicks, paddedDomain, scatterSvg } from "../src/leaderboard/svg.ts";

Deno.test("svg: nice ticks are round steps covering the domain", () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(38.2, 81.7, 6), [40, 50, 60, 70, 80]);
  assert.deepEqual(niceTicks(96.1, 99.4, 6), [96.5, 97, 97.5, 98, 98.5, 99]);
  assert.deepEqual(niceTicks(0.003, 0.0142, 5), [0.004, 0.006, 0.008, 0.01, 0.012, 0.014]);
  assert.deepEqual(niceTicks(3, 3), [3]);
});

Deno.test("svg: padded domains widen, clamp, and survive a single value", () => {
  assert.deepEqual(paddedDomain([10, 20], 0.1), [9, 21]);
  assert.deepEqual(paddedDomain([95, 100], 0.2, [0, 100]), [94, 100]);
  const [lo, hi] = paddedDomain([5, 5]);
  assert.ok(lo < 5 && hi > 5);
  assert.deepEqual(paddedDomain([], 0.1, [0, 100]), [0, 100]);
});

Deno.test("svg: points map into the plot area, y = x is clipped to it, labels are text", () => {
  const svg = scatterSvg({
    title: "t <1>",
    className: "plot",
    xLabel: "x",
    yLabel: "y",
    x: [0, 10],
    y: [5, 15],
    diagonal: "y = x",
    width: 400,
    height: 300,
    series: [{
      name: "<s>",
      color: "#000",
      points: [{ x: 0, y: 5, label: "<b>" }, { x: 10, y: 15 }, { x: 11, y: 5 }],
    }],
  }).value;
  // Plot area: left 64, right 400 − 180 − 16 = 204 (pw 140), top 34, bottom 300 − 52 = 248 (ph 214).
  assert.match(svg, /<circle cx="64" cy="248" r="4" fill="#000"\/>/);
  assert.match(svg, /<circle cx="204" cy="34" r="4" fill="#000"\/>/);
  assert.equal([...svg.matchAll(/<circle /g)].length, 2, "a point outside the domain is not drawn");
  // y = x enters at (5, 5) and leaves at (10, 10).
  assert.match(svg, /<line class="diagonal" x1="134" y1="248" x2="204" y2="141"\/>/);
  assert.ok(svg.includes(">&lt;b&gt;</text>") && svg.includes("&lt;s&gt;") && svg.includes("t &lt;1&gt;"));
  assert.doesNotMatch(svg, /<b>|<s>/);
});
