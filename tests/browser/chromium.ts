/**
 * The Chromium the browser tests drive: INVBENCH_CHROMIUM when set, else Debian's /usr/bin/chromium
 * when installed, else the headless build of the `@sparticuz/chromium` npm package (a dev
 * dependency, unpacked to the temp directory on first use), so that `npm install && npm test`
 * needs nothing installed by hand.
 */

const DEBIAN_CHROMIUM = "/usr/bin/chromium";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** The headless Chromium of the `@sparticuz/chromium` package, unpacked (once) to the temp directory. */
export async function packagedChromium(): Promise<string> {
  const { default: packaged } = await import("@sparticuz/chromium");
  return await packaged.executablePath();
}

/** The executable's path and where it came from (for the test's messages). */
export async function chromiumExecutable(): Promise<{ path: string; source: string }> {
  const forced = Deno.env.get("INVBENCH_CHROMIUM");
  if (forced) {
    if (!(await isFile(forced))) throw new Error(`INVBENCH_CHROMIUM=${forced}: no such file`);
    return { path: forced, source: "INVBENCH_CHROMIUM" };
  }
  if (await isFile(DEBIAN_CHROMIUM)) return { path: DEBIAN_CHROMIUM, source: "Debian's chromium" };
  return { path: await packagedChromium(), source: "the @sparticuz/chromium npm package" };
}

/** The flags every browser test launches Chromium with. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
