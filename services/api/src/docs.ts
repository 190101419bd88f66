import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ServiceError } from "@content-engine/core";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

/**
 * Where swagger-ui-dist's files are: next to the bundle (`dist/swagger-ui/`, copied by the build) or
 * in node_modules when running from source.
 */
function assetDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const bundled = join(here, "swagger-ui");
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve("swagger-ui-dist/package.json"));
  } catch {
    return bundled;
  }
}

const dir = assetDir();
const cache = new Map<string, Buffer>();

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>content-engine API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

export const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: false });\n`;

/**
 * Swagger UI from its own files only, never framed. No inline script or style markup is needed:
 * init.js is a file, and React writes its styles through the CSSOM. "Try it out" calls this
 * origin only. (The docs browser test in services/web/test/e2e.test.ts fails on any violation.)
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** `/docs`: the Swagger UI page. */
export function docsPage(): Response {
  return new Response(DOCS_HTML, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": DOCS_CONTENT_SECURITY_POLICY,
      "referrer-policy": "no-referrer",
    },
  });
}

/** `/docs/:asset`: a whitelisted Swagger UI file, or a JSON 404. */
export async function docsAsset(name: string): Promise<Response> {
  const asset = await readDocsAsset(name);
  if (!asset) throw new ServiceError(404, "not_found", "no such docs asset");
  return new Response(typeof asset.body === "string" ? asset.body : new Uint8Array(asset.body), {
    headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" },
  });
}

/** A whitelisted docs asset, or undefined. */
async function readDocsAsset(name: string): Promise<{ body: Buffer | string; type: string } | undefined> {
  if (name === "init.js") return { body: DOCS_INIT, type: "text/javascript; charset=utf-8" };
  const type = ASSETS[name];
  if (!type) return undefined;
  let body = cache.get(name);
  if (!body) {
    body = await readFile(join(dir, name));
    cache.set(name, body);
  }
  return { body, type };
}
