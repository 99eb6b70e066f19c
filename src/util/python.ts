/**
 * Finding a Python for the optional PyTorch-side tools (reference twins, the backbone export
 * test); the harness itself never needs Python. INVBENCH_PYTHON, when set, is the only one tried;
 * otherwise Debian's /usr/bin/python3 (where python3-torch installs), then python3 on the PATH.
 */

/** The first interpreter that imports `module`, or undefined. */
export async function pythonWith(module: string): Promise<string | undefined> {
  const chosen = Deno.env.get("INVBENCH_PYTHON");
  for (const py of chosen ? [chosen] : ["/usr/bin/python3", "python3"]) {
    try {
      const r = await new Deno.Command(py, {
        args: ["-c", `import ${module}`],
        stdout: "null",
        stderr: "null",
      })
        .output();
      if (r.success) return py;
    } catch {
      // not installed under that name
    }
  }
  return undefined;
}
