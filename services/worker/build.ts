// `npm run build -w @content-engine/worker`: dist/consumer.mjs (EKS/compose) and dist/lambda.zip
// (handler `index.handler`, runtime nodejs24.x). The zip is byte-for-byte reproducible (fixed
// timestamps, sorted entries), so an unchanged worker gives Lambda the same CodeSha256.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { bundleNode } from "../../scripts/bundle.ts";

const out = process.argv[2] ?? "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "lambda"), { recursive: true });
await bundleNode("src/consumer-main.ts", join(out, "consumer.mjs"));
await bundleNode("src/lambda.ts", join(out, "lambda", "index.mjs"), { sourcemap: false });

const fixed = new Date("2020-01-01T00:00:00Z");
const zip = zipSync(
  { "index.mjs": [readFileSync(join(out, "lambda", "index.mjs")), { mtime: fixed }] },
  { level: 9 },
);
writeFileSync(join(out, "lambda.zip"), zip);
process.stdout.write(
  `built ${join(out, "consumer.mjs")} and ${join(out, "lambda.zip")} (${(zip.length / 1024).toFixed(0)} KiB)\n`,
);
