// Serves the built web console (services/web, `npm run build -w @content-engine/web`) at `/`.
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ServiceError } from "@content-engine/core";

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** One name inside assets/: no separators, no leading dot, a known type. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

/**
 * Same origin only: the console's own files, the API it calls, no inline script, nothing remote.
 * `style-src 'self'` still allows React's style property writes (CSSOM), not inline `style=` markup.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export interface WebConsoleOptions {
  /** The built console (index.html + assets/). Default: {@link resolveWebDir}. */
  dir?: string;
  /** The API's upload limit, published at `/config.json` so the console can check files before sending. */
  maxUploadBytes: number;
}

/**
 * Where the built console is: `CONTENT_ENGINE_WEB_DIR` when set, otherwise the web package's `dist/`
 * (`services/web/dist`, found from this file both in the sources and in the API bundle's `dist/`).
 */
export function resolveWebDir(env: Record<string, string | undefined> = process.env): string {
  const configured = env.CONTENT_ENGINE_WEB_DIR?.trim();
  if (configured) return resolve(configured);
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "dist");
}

function notBuilt(): ServiceError {
  return new ServiceError(
    404,
    "console_not_built",
    "the web console is not built: run `npm run build -w @content-engine/web`, or point CONTENT_ENGINE_WEB_DIR at a built console",
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The console's three routes (declared in routes.ts): `/` (index.html, never cached),
 * `/assets/:file` (content-hashed, cached for a year) and `/config.json` (the limits the console
 * needs). The directory is looked up per request, so the API starts without a built console and
 * serves one as soon as it is built; until then `/` is a JSON 404.
 */
export class WebConsole {
  readonly #dir: string;
  readonly #assets = new Map<string, Buffer>();
  readonly #config: string;

  constructor(options: WebConsoleOptions) {
    this.#dir = options.dir ?? resolveWebDir();
    this.#config = JSON.stringify({ maxUploadBytes: options.maxUploadBytes });
  }

  async index(): Promise<Response> {
    const index = join(this.#dir, "index.html");
    if (!(await isFile(index))) throw notBuilt();
    return new Response(await readFile(index), {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-cache",
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "referrer-policy": "no-referrer",
      },
    });
  }

  async asset(name: string): Promise<Response> {
    const type = TYPES[extname(name).toLowerCase()];
    if (!ASSET_NAME.test(name) || !type) throw new ServiceError(404, "not_found", "no such console asset");
    let body = this.#assets.get(name);
    if (!body) {
      const path = join(this.#dir, "assets", name);
      if (!(await isFile(path))) throw new ServiceError(404, "not_found", "no such console asset");
      body = await readFile(path);
      // Names carry a content hash: a file never changes under its name, so it can be kept.
      if (/[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(name)) this.#assets.set(name, body);
    }
    return new Response(new Uint8Array(body), {
      headers: { "content-type": type, "cache-control": "public, max-age=31536000, immutable" },
    });
  }

  config(): Response {
    return new Response(this.#config, {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
    });
  }
}
