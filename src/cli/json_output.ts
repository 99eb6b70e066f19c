/**
 * `--json` for commands: exactly one JSON document on stdout, every human-readable line on stderr,
 * so `invbench verify r.json --json | jq` always parses. A command that fails prints
 * `{"ok": false, "exitCode": N, "error": "..."}` instead (see main.ts), with the same exit code.
 */
import { Option } from "commander";

/** The `--json` flag, the same on every command that has it. */
export const jsonOption = (): Option =>
  new Option("--json", "print one JSON document on stdout (messages go to stderr)");

let printed = false;

/** Writes `value` as the command's JSON document. */
export function printJson(value: unknown): void {
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"));
  printed = true;
}

/** Whether the command already printed its document (a mismatch exits 4 after printing it). */
export function jsonPrinted(): boolean {
  return printed;
}

/** Where a command's human-readable lines go: stdout normally, stderr under --json. */
export function humanOutput(json: boolean | undefined): (line: string) => void {
  return json ? (line) => console.error(line) : (line) => console.log(line);
}

/** Whether the command line asks for JSON (for reporting an error that escaped the command). */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).includes("--json");
}
