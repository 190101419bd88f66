import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

/** A whitelisted docs asset, or undefined. */
export async function readDocsAsset(
  name: string,
): Promise<{ body: Buffer | string; type: string } | undefined> {
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
