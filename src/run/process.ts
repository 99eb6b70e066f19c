/** Whether a process of this machine is still running (for locks left by killed runs). */
export function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  if (Deno.build.os !== "linux") return true; // unknown elsewhere: a lock is then removed by hand
  try {
    // A zombie (killed, not yet reaped) no longer holds anything.
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /s.test(stat);
  } catch {
    return false;
  }
}
