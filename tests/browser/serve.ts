/** A static file server for the browser tests: serves `dir` on 127.0.0.1 at a free port. */
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".jwks": "application/json",
  ".md": "text/markdown; charset=utf-8",
  ".log": "text/plain; charset=utf-8",
};

export interface StaticServer {
  base: string;
  close(): Promise<void>;
}

export function serveStatic(dir: string): StaticServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = normalize(decodeURIComponent(new URL(req.url).pathname)).replace(/^\/+/, "") || "index.html";
    if (path.startsWith("..")) return new Response("forbidden", { status: 403 });
    try {
      const body = await Deno.readFile(join(dir, path));
      return new Response(body, {
        headers: {
          "content-type": TYPES[extname(path)] ?? "application/octet-stream",
          "cache-control": "no-store",
        },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { base: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}
