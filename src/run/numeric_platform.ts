/**
 * What decides the last bits of a CPU-backend result besides its inputs: onnxruntime's MLAS picks its
 * GEMM and convolution kernels by the widest vector extension the CPU offers (AVX-512F, AVX2 with
 * FMA, AVX, SSE; NEON on arm64), and kernels of different widths sum in different orders; V8's
 * Math.exp/log/sin come with the Deno release. Two CPU results are promised bit for bit only where
 * all of these agree (docs/results.md): e.g. an AVX2 machine differs from an AVX-512 one in the last
 * bits of the backbone's features, which training then amplifies.
 */

/** The vector extension MLAS dispatches on here: "avx512f", "avx2", "avx", "sse", "neon" or "unknown". */
export function simdLevel(): string {
  if (Deno.build.arch === "aarch64") return "neon";
  if (Deno.build.os !== "linux") return "unknown";
  try {
    return simdOfCpuinfo(Deno.readTextFileSync("/proc/cpuinfo"));
  } catch {
    return "unknown";
  }
}

/** The widest vector extension MLAS uses among an x86-64 /proc/cpuinfo's flags ("unknown" without flags). */
export function simdOfCpuinfo(cpuinfo: string): string {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (!line) return "unknown";
  const flags = new Set(line[1].trim().split(/\s+/));
  // Linux lists avx512f only where the OS saves the AVX-512 state, as MLAS also requires.
  if (flags.has("avx512f")) return "avx512f";
  if (flags.has("avx2") && flags.has("fma")) return "avx2";
  return flags.has("avx") ? "avx" : "sse";
}

const UNRECORDED = "(vector extension not recorded)";

/** The parts of an environment fingerprint that decide CPU-backend bits, as one comparable line. */
export function numericPlatform(environment: Record<string, unknown>): string {
  const env = environment as {
    os?: string;
    cpu?: { simd?: string };
    deno?: string;
    onnxruntime?: string;
    backend?: { chosen?: string };
  };
  const arch = env.os?.split(" ").at(-1) ?? "unknown";
  const simd = env.cpu?.simd ?? UNRECORDED;
  return `${
    env.backend?.chosen ?? "unknown"
  } backend, ${arch} ${simd}, onnxruntime ${env.onnxruntime}, deno ${env.deno}`;
}

/**
 * Null where a result computed in `here` can agree bit for bit with one computed in `there` (same
 * numeric platform, CPU backend), else why not, in one line; `names` say what the two are.
 */
export function exactnessCaveat(
  there: Record<string, unknown>,
  here: Record<string, unknown>,
  names: [string, string] = ["the result", "this re-run"],
): string | null {
  const [a, b] = [numericPlatform(there), numericPlatform(here)];
  // Two results that do not record their vector extension may still differ in it.
  if (a === b && a.startsWith("cpu ") && !a.includes(UNRECORDED)) return null;
  return `${names[0]} ran on ${a}, ${
    names[1]
  } on ${b}: bit-for-bit agreement is not promised (docs/results.md)`;
}
