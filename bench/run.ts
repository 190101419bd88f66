// `npm run bench`: runs every benchmark in turn, prints one table and the machine, and writes
// bench/results/latest.json plus bench/results/<bench>.json each. Numbers only: nothing here passes
// or fails on a threshold. `npm run bench -- ingest-cost delivery` runs the named sections only.
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runAwsCallCost } from "./aws-call-cost.ts";
import { runDelivery } from "./delivery.ts";
import { runImages } from "./images.ts";
import { runIngest } from "./ingest.ts";
import { runIngestCost } from "./ingest-cost.ts";
import { runKubeClient } from "./kube-client.ts";
import { type BenchResult, machine, markdownTable, table, writeResult } from "./lib.ts";
import { runUploadMemory } from "./upload-memory.ts";
import { runWorker } from "./worker.ts";

const benches: { name: string; run: () => Promise<BenchResult> }[] = [
  { name: "ingest", run: () => runIngest() },
  { name: "ingest-cost", run: () => runIngestCost() },
  { name: "aws-call-cost", run: () => runAwsCallCost() },
  { name: "upload-memory", run: () => runUploadMemory() },
  { name: "worker", run: () => runWorker() },
  { name: "delivery", run: () => runDelivery() },
  { name: "images", run: () => runImages() },
  { name: "kube-client", run: () => runKubeClient() },
];

const only = process.argv.slice(2);
const host = machine();
console.log(
  `machine: ${host.cpus} × ${host.cpuModel}, ${host.memoryMiB} MiB RAM, Node ${host.node}, ${host.platform}`,
);
const started = performance.now();
const results: BenchResult[] = [];
const failures: { bench: string; error: string }[] = [];
for (const bench of benches) {
  if (only.length > 0 && !only.includes(bench.name)) continue;
  const t0 = performance.now();
  process.stdout.write(`running ${bench.name}… `);
  try {
    const result = await bench.run();
    results.push(result);
    await writeResult(result);
    console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    failures.push({ bench: bench.name, error: message });
    console.log(`FAILED\n${message}`);
  }
}
const totalSeconds = (performance.now() - started) / 1000;

console.log(`\n${table(results)}\n`);
for (const r of results) {
  console.log(`${r.bench}: ${r.setup}`);
  if (r.comparison) console.log(`${markdownTable(r.comparison.head, r.comparison.rows)}\n`);
  for (const note of r.notes) console.log(`  - ${note}`);
}
console.log(`\ntotal ${totalSeconds.toFixed(1)} s`);

const outDir = fileURLToPath(new URL("./results/", import.meta.url));
await mkdir(outDir, { recursive: true });
const out = `${outDir}latest.json`;
await writeFile(
  out,
  `${JSON.stringify({ date: new Date().toISOString(), machine: host, totalSeconds, results, failures }, null, 2)}\n`,
);
console.log(`wrote ${out}`);
if (failures.length > 0) process.exitCode = 1;
