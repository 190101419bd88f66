// `npm run build -w @content-engine/api`: dist/main.mjs plus the docs assets it serves offline.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { bundleNode } from "../../scripts/bundle.ts";

const out = process.argv[2] ?? "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await bundleNode("src/main.ts", join(out, "main.mjs"));
const swagger = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
for (const file of ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"]) {
  cpSync(join(swagger, file), join(out, "swagger-ui", file), { recursive: true });
}
process.stdout.write(`built ${join(out, "main.mjs")}\n`);
