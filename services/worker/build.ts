// `npm run build -w @content-engine/worker`: dist/consumer.mjs (EKS/compose) and dist/lambda.zip
// (handler `index.handler`, runtime nodejs24.x). The zip is byte-for-byte reproducible (fixed
// timestamps, sorted entries), so an unchanged worker gives Lambda the same CodeSha256.
// Each entry point has the processor pool's thread script, processor-thread.mjs, next to it: the pool
// loads it from beside its own module.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { zipSync } from "fflate";
import { bundleNode } from "../../scripts/bundle.ts";

const out = process.argv[2] ?? "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "lambda"), { recursive: true });
await bundleNode("src/consumer-main.ts", join(out, "consumer.mjs"));
await bundleNode("src/processor-thread.ts", join(out, "processor-thread.mjs"));
await bundleNode("src/lambda.ts", join(out, "lambda", "index.mjs"), { sourcemap: false });
await bundleNode("src/processor-thread.ts", join(out, "lambda", "processor-thread.mjs"), {
  sourcemap: false,
});

const fixed = new Date("2020-01-01T00:00:00Z");
const zip = zipSync(
  Object.fromEntries(
    ["index.mjs", "processor-thread.mjs"].map((name) => [
      name,
      [readFileSync(join(out, "lambda", name)), { mtime: fixed }],
    ]),
  ),
  { level: 9 },
);
writeFileSync(join(out, "lambda.zip"), zip);
process.stdout.write(
  `built ${join(out, "consumer.mjs")} and ${join(out, "lambda.zip")} (${(zip.length / 1024).toFixed(0)} KiB)\n`,
);
