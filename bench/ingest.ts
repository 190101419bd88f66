// Ingest throughput and latency: 16 KiB text documents POSTed to /v1/jobs at concurrency 32 against
// the local stack with the worker off, so only ingest (stream to S3, status record, SendMessage) counts.
// Run alone: `node bench/ingest.ts`.
// @content-engine/local exports ./src/index.ts, which does not exist yet: import the module directly.
import { startLocalStack } from "../services/local/src/stack.ts";
import { loadInThread } from "./client-thread.ts";
import { type BenchResult, KiB, percentile, report, round } from "./lib.ts";

export interface IngestOptions {
  requests?: number;
  warmup?: number;
  concurrency?: number;
  docBytes?: number;
}

export async function runIngest(options: IngestOptions = {}): Promise<BenchResult> {
  const requests = options.requests ?? 3000;
  const warmup = options.warmup ?? 200;
  const concurrency = options.concurrency ?? 32;
  const docBytes = options.docBytes ?? 16 * KiB;
  const stack = await startLocalStack({ port: 0, worker: false, logLevel: "silent" });
  try {
    const load = await loadInThread({
      apiUrl: stack.apiUrl,
      apiKey: stack.apiKey,
      warmup,
      count: requests,
      concurrency,
      docBytes,
      distinct: 256,
    });
    const sorted = [...load.latenciesMs].sort((a, b) => a - b);
    const accepted = load.statuses["202"] ?? 0;
    const rejected = requests - accepted;
    const notes = [
      "API and S3/SQS emulator share one process (the local stack); the client runs in a worker thread",
    ];
    if (rejected > 0) {
      notes.push(`non-202 answers: ${JSON.stringify(load.statuses)}; first: ${load.errors.join(" | ")}`);
    }
    return {
      bench: "ingest",
      setup: `${requests} POST /v1/jobs of ${docBytes / KiB} KiB text/plain at concurrency ${concurrency} after ${warmup} warm-up, worker off`,
      metrics: [
        { metric: "accepted uploads/s", value: round((accepted / load.elapsedMs) * 1000), unit: "req/s" },
        { metric: "latency p50", value: round(percentile(sorted, 50)), unit: "ms" },
        { metric: "latency p99", value: round(percentile(sorted, 99)), unit: "ms" },
        { metric: "latency max", value: round(sorted.at(-1) ?? Number.NaN), unit: "ms" },
        { metric: "requests", value: requests, unit: "" },
        { metric: "non-202 answers", value: rejected, unit: "" },
      ],
      notes,
    };
  } finally {
    await stack.stop();
  }
}

if (import.meta.main) await report(await runIngest());
