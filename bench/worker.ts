// Worker benchmarks. (1) Processing time per MiB of the local processor for English and for hostile
// content (base64, one repeated character, minified JSON and HTML…), through the same thread pool the
// worker uses. (2) Throughput end to end: 1,000 queued 16 KiB documents, ONE consumer process (its
// processor pool has a thread per core), timed from its start until the queue is empty, then every
// job status is checked. Per-job duration comes from the worker's own /metrics histogram
// (content_engine_job_duration_seconds). Run alone: `node bench/worker.ts [conc…]`.
import { availableParallelism } from "node:os";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import {
  createLogger,
  createS3Client,
  createSqsClient,
  JobStore,
  type SupportedContentType,
} from "@content-engine/core";
import { PermanentProcessingError, ProcessorPool, startWorkerService } from "@content-engine/worker";
// @content-engine/local exports ./src/index.ts, which does not exist yet: import the module directly.
import { startLocalStack } from "../services/local/src/stack.ts";
import { loadInThread } from "./client-thread.ts";
import {
  type BenchResult,
  histogramQuantile,
  KiB,
  type Metric,
  MiB,
  makeDocument,
  parseHistogram,
  prng,
  report,
  round,
  runPool,
} from "./lib.ts";

export interface WorkerBenchOptions {
  /** Skip the processing-time part (the hostile documents). */
  throughputOnly?: boolean;
  jobs?: number;
  /** One run per value, each on a fresh stack (default [8, 16]). */
  concurrencies?: number[];
  /** Also run the last concurrency with a one-thread pool: the one-core consumer, for comparison. */
  oneThreadBaseline?: boolean;
  docBytes?: number;
  /** Give up waiting for the queue to drain after this long (default 240 s). */
  timeoutMs?: number;
}

async function runOnce(
  jobs: number,
  concurrency: number,
  docBytes: number,
  timeoutMs: number,
  processorThreads: number,
) {
  const stack = await startLocalStack({ port: 0, worker: false, workerMetricsPort: 0, logLevel: "silent" });
  const sqs = createSqsClient(stack.config);
  const s3 = createS3Client(stack.config);
  try {
    const upload = await loadInThread({
      apiUrl: stack.apiUrl,
      apiKey: stack.apiKey,
      warmup: 0,
      count: jobs,
      concurrency: 32,
      docBytes,
      seed: 100_000,
    });
    if (upload.jobIds.length !== jobs) {
      throw new Error(
        `only ${upload.jobIds.length}/${jobs} uploads were accepted: ${upload.errors.join(" | ")}`,
      );
    }
    const depth = async () => {
      const out = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.config.queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return (
        Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
        Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    };
    const queued = await depth();

    const started = performance.now();
    const worker = await startWorkerService(
      { ...stack.config, workerConcurrency: concurrency, workerMetricsPort: 0, processorThreads },
      createLogger("worker", "silent"),
    );
    let drained = false;
    while (performance.now() - started < timeoutMs) {
      if ((await depth()) === 0) {
        drained = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Taken before the worker stops, so its shutdown does not count.
    const elapsedMs = performance.now() - started;
    const metricsText = await (await fetch(`${worker.url}/metrics`)).text();
    await worker.stop();

    const store = new JobStore(s3, stack.config.bucket);
    const statuses: Record<string, number> = {};
    await runPool(0, upload.jobIds.length, 32, async (i) => {
      const record = await store.get("dev", upload.jobIds[i]!);
      const status = record?.error ? `${record.status}: ${record.error.code}` : (record?.status ?? "missing");
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
    const hist = parseHistogram(metricsText, "content_engine_job_duration_seconds", { outcome: "succeeded" });
    return { queued, drained, elapsedMs, statuses, hist };
  } finally {
    sqs.destroy();
    s3.destroy();
    await stack.stop();
  }
}

interface Specimen {
  name: string;
  contentType: SupportedContentType;
  make: (bytes: number) => string;
}

const pseudoRandomBytes = (count: number, seed: number): Buffer => {
  const rnd = prng(seed);
  return Buffer.from(Array.from({ length: count }, () => Math.floor(rnd() * 256)));
};
const base64 = (bytes: number) =>
  pseudoRandomBytes(Math.ceil((bytes * 3) / 4), 7)
    .toString("base64")
    .slice(0, bytes);
const english = (bytes: number) => makeDocument(42, bytes).toString("utf8");
const sentences = (bytes: number) => english(bytes).split(/(?<=\.) /);

/** English first, then the content that used to take seconds to minutes per document. */
const SPECIMENS: Specimen[] = [
  { name: "English prose", contentType: "text/plain", make: english },
  { name: "base64 blob", contentType: "text/plain", make: base64 },
  {
    name: "base64, 64-char lines (PEM)",
    contentType: "text/plain",
    make: (bytes) => base64(Math.floor((bytes * 64) / 65)).replace(/(.{64})/g, "$1\n"),
  },
  { name: "one repeated character", contentType: "text/plain", make: (bytes) => "a".repeat(bytes) },
  {
    name: "minified JSON",
    contentType: "application/json",
    make: (bytes) =>
      JSON.stringify(
        sentences(bytes * 0.8).map((text, id) => ({ id, tags: ["a", "b"], text, score: id / 7 })),
      ),
  },
  {
    name: "minified JSON as text/plain",
    contentType: "text/plain",
    make: (bytes) => JSON.stringify(sentences(bytes * 0.8)),
  },
  {
    name: "minified HTML",
    contentType: "text/html",
    make: (bytes) =>
      `<!doctype html><html><head><style>p{margin:0}</style></head><body>${sentences(bytes * 0.6)
        .map((t, i) => `<div class="c${i % 7}"><p>${t}</p><a href="/p/${i}">more</a></div>`)
        .join("")}</body></html>`,
  },
  {
    name: "minified HTML as text/plain",
    contentType: "text/plain",
    make: (bytes) => `<div><p>${"<b>x</b>".repeat(bytes / 8)}</p></div>`,
  },
  {
    name: "punctuation runs",
    contentType: "text/plain",
    make: (bytes) => `${".".repeat(bytes / 2)}a ${"!?".repeat(bytes / 4)}b`,
  },
];

/** Milliseconds per MiB of each specimen through a one-thread processor pool (median of `runs`). */
async function processingTimes(bytes: number, runs: number): Promise<{ metrics: Metric[]; notes: string[] }> {
  const pool = new ProcessorPool({ threads: 1, budgetMs: 600_000 });
  const metrics: Metric[] = [];
  const notes: string[] = [];
  try {
    // Warm the thread (model loaded, JIT) so the first specimen is not charged for it.
    for (let i = 0; i < 3; i++)
      await pool.process({ jobId: "warm", text: english(256 * KiB), tasks: ["summary"] });
    let englishMs = 0;
    let worst = { name: "", ratio: 0 };
    for (const specimen of SPECIMENS) {
      const text = specimen.make(bytes);
      const size = Buffer.byteLength(text);
      const times: number[] = [];
      let outcome = "analysed";
      for (let r = 0; r < runs; r++) {
        const started = performance.now();
        try {
          await pool.process({
            jobId: "bench",
            text,
            contentType: specimen.contentType,
            tasks: ["summary", "keywords", "sentiment"],
          });
        } catch (error) {
          if (!(error instanceof PermanentProcessingError)) throw error;
          outcome = `rejected: ${error.code}`;
        }
        times.push(performance.now() - started);
      }
      const msPerMiB = (times.sort((a, b) => a - b)[runs >> 1]! / size) * MiB;
      if (specimen.name === "English prose") englishMs = msPerMiB;
      const ratio = msPerMiB / englishMs;
      if (ratio > worst.ratio) worst = { name: specimen.name, ratio };
      metrics.push({
        metric: `processing ${specimen.name}`,
        value: round(msPerMiB),
        unit: `ms/MiB (${round(ratio, 2)}× English)`,
      });
      notes.push(`${specimen.name}: ${(size / MiB).toFixed(2)} MiB, ${outcome}`);
    }
    metrics.push({
      metric: "processing worst / English",
      value: round(worst.ratio, 2),
      unit: `× (${worst.name}; target ≤ 5)`,
    });
  } finally {
    await pool.close();
  }
  return { metrics, notes };
}

export async function runWorker(options: WorkerBenchOptions = {}): Promise<BenchResult> {
  const jobs = options.jobs ?? 1000;
  const concurrencies = options.concurrencies ?? [8, 16];
  const docBytes = options.docBytes ?? 16 * KiB;
  const timeoutMs = options.timeoutMs ?? 240_000;
  const metrics: Metric[] = [];
  const notes: string[] = [
    `one consumer in the bench process, sharing its event loop with the in-process S3/SQS emulator (API idle); its processor pool has ${availableParallelism()} threads (one per core)`,
    "per-job p50/p99 are interpolated from the worker's histogram buckets (0.05, 0.1, 0.25, 0.5, 1, 2.5 s …), so they are approximate; the mean is exact",
    "processing: 1 MiB per specimen, one thread, median of 3, summary + keywords + sentiment; the model reads the first 200,000 characters, text statistics cover all",
  ];
  if (!options.throughputOnly) {
    const processing = await processingTimes(MiB, 3);
    metrics.push(...processing.metrics);
    notes.push(...processing.notes);
  }
  const cores = availableParallelism();
  const runs = concurrencies.map((concurrency) => ({ concurrency, threads: cores }));
  if (options.oneThreadBaseline ?? true) runs.push({ concurrency: concurrencies.at(-1)!, threads: 1 });
  for (const { concurrency, threads } of runs) {
    const run = await runOnce(jobs, concurrency, docBytes, timeoutMs, threads);
    const succeeded = run.statuses.succeeded ?? 0;
    const tag = `c=${concurrency}, ${threads} thread${threads === 1 ? "" : "s"}`;
    metrics.push(
      { metric: `jobs/s (${tag})`, value: round((succeeded / run.elapsedMs) * 1000), unit: "jobs/s" },
      { metric: `total time (${tag})`, value: round(run.elapsedMs / 1000, 2), unit: "s" },
      {
        metric: `job duration mean (${tag})`,
        value: round((run.hist.sum / run.hist.count) * 1000),
        unit: "ms",
      },
      {
        metric: `job duration p50 ≈ (${tag})`,
        value: round(histogramQuantile(0.5, run.hist) * 1000),
        unit: "ms",
      },
      {
        metric: `job duration p99 ≈ (${tag})`,
        value: round(histogramQuantile(0.99, run.hist) * 1000),
        unit: "ms",
      },
      { metric: `succeeded (${tag})`, value: succeeded, unit: `/ ${jobs}` },
    );
    if (!run.drained) notes.push(`${tag}: the queue did not drain within ${timeoutMs / 1000} s`);
    if (run.queued !== jobs)
      notes.push(`${tag}: ${run.queued} messages were queued before the worker started`);
    if (succeeded !== jobs) notes.push(`${tag}: job statuses ${JSON.stringify(run.statuses)}`);
  }
  return {
    bench: "worker",
    setup: `processing time per MiB by kind of content; ${jobs} queued ${docBytes / KiB} KiB text jobs, one consumer process, local NLP processor pool of ${cores} threads at concurrency ${concurrencies.join(" and ")}, and of 1 thread (the one-core consumer) for comparison`,
    metrics,
    notes,
  };
}

if (import.meta.main) {
  const args = process.argv.slice(2).map(Number).filter(Number.isFinite);
  report(await runWorker(args.length > 0 ? { concurrencies: args } : {}));
}
