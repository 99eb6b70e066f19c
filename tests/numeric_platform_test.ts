/**
 * The numeric platform (src/run/numeric_platform.ts): this machine's vector extension as
 * /proc/cpuinfo states it, and when a re-run may be expected to agree bit for bit.
 */
import assert from "node:assert/strict";
import { exactnessCaveat, numericPlatform, simdLevel, simdOfCpuinfo } from "../src/run/numeric_platform.ts";

const env = (simd: string | undefined, over: Record<string, unknown> = {}) => ({
  os: "linux 6.1.0 x86_64",
  cpu: { model: "AMD EPYC", cores: 2, ...(simd === undefined ? {} : { simd }) },
  deno: "2.9.6",
  onnxruntime: "1.30.0",
  backend: { chosen: "cpu" },
  ...over,
});

Deno.test("numeric platform: the vector extension is the widest of /proc/cpuinfo's flags that MLAS uses", () => {
  const cpuinfo = (flags: string) =>
    `processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: ${flags}\nbogomips\t: 4890\n`;
  const base = "fpu sse sse2 ssse3 sse4_1 sse4_2";
  assert.equal(simdOfCpuinfo(cpuinfo(`${base} avx fma avx2 avx512f avx512bw avx512vl`)), "avx512f"); // Zen 5
  assert.equal(simdOfCpuinfo(cpuinfo(`${base} avx fma avx2 bmi2 vaes`)), "avx2"); // Zen 3
  assert.equal(simdOfCpuinfo(cpuinfo(`${base} avx avx2`)), "avx", "AVX2 without FMA is not MLAS's FMA3 path");
  assert.equal(simdOfCpuinfo(cpuinfo(base)), "sse");
  assert.equal(simdOfCpuinfo("processor\t: 0\n"), "unknown");
  assert.ok(["avx512f", "avx2", "avx", "sse", "neon", "unknown"].includes(simdLevel()));
});

Deno.test("numeric platform: bits are promised only on the same backend, vector extension, onnxruntime and Deno", () => {
  assert.equal(
    exactnessCaveat(
      env("avx512f"),
      env("avx512f", { cpu: { model: "Intel Xeon", cores: 2, simd: "avx512f" } }),
    ),
    null,
  );
  for (
    const other of [
      env("avx2"),
      env("avx512f", { onnxruntime: "1.31.0" }),
      env("avx512f", { deno: "2.10.0" }),
      env("avx512f", { os: "linux 6.1.0 aarch64" }),
      env("avx512f", { backend: { chosen: "webgpu" } }),
    ]
  ) {
    const caveat = String(exactnessCaveat(env("avx512f"), other));
    assert.ok(
      caveat.endsWith("bit-for-bit agreement is not promised (docs/results.md)"),
      JSON.stringify(other),
    );
    assert.ok(caveat.includes(numericPlatform(other)));
  }
  // Two WebGPU results never promise bits; nor does a result that did not record its extension.
  assert.notEqual(
    exactnessCaveat(
      env("avx2", { backend: { chosen: "webgpu" } }),
      env("avx2", { backend: { chosen: "webgpu" } }),
    ),
    null,
  );
  assert.match(exactnessCaveat(env(undefined), env("avx512f"))!, /vector extension not recorded/);
  assert.match(exactnessCaveat(env(undefined), env(undefined))!, /vector extension not recorded/);
  assert.match(
    exactnessCaveat(env("avx2"), env("avx512f"), ["a.json", "b.json"])!,
    /^a\.json ran on .*, b\.json on /,
  );
});
