/**
 * A child `deno` process timed and watched for its peak resident set, for the benchmark scripts
 * that run whole matrices (`peak_memory.ts`, `run_profile.ts`).
 */

/** Peak RSS (VmHWM) in bytes of `pid`, or 0 once it is gone (Linux only). */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs `deno ARGS` (stdout discarded; stderr shown, or kept for the error when `quiet`) and returns
 * its peak RSS in bytes (polled every 50 ms) and wall seconds. Throws, naming `what`, on a non-zero exit.
 */
export async function measuredRun(
  args: string[],
  what: string,
  quiet = false,
): Promise<{ peak: number; wall: number }> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    stdout: "null",
    stderr: quiet ? "piped" : "inherit",
  }).spawn();
  let peak = 0;
  const poll = setInterval(() => peak = Math.max(peak, peakRss(child.pid)), 50);
  const out = await child.output();
  clearInterval(poll);
  if (!out.success) {
    throw new Error(`${what} exited ${out.code}${quiet ? `:\n${new TextDecoder().decode(out.stderr)}` : ""}`);
  }
  return { peak, wall: (performance.now() - started) / 1000 };
}
