/**
 * What the command line shows while it runs: log lines on stderr, and on an interactive terminal
 * (never in logs or CI output) a status line redrawn in place. The library draws nothing itself;
 * these are the callbacks the CLI hands to `runMatrix` and `reproduce`.
 */

/** A status line redrawn in place on stderr, at most 10 times a second; "" clears it. */
function terminalStatus(): (text: string) => void {
  const enc = new TextEncoder();
  let last = 0;
  return (text) => {
    const now = performance.now();
    if (text && now - last < 100) return;
    last = now;
    Deno.stderr.writeSync(enc.encode(`\r\x1b[K${text}`));
  };
}

/** The CLI's progress callbacks: lines to stderr, a status line only on a terminal. */
export function cliProgress(): { progress: (line: string) => void; status?: (text: string) => void } {
  let tty = false;
  try {
    tty = Deno.stderr.isTerminal();
  } catch {
    tty = false;
  }
  return { progress: (line) => console.error(line), status: tty ? terminalStatus() : undefined };
}
