// Shared pieces of the benchmarks: deterministic documents, percentiles, the result shape, the table.
import { mkdir, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

/** One number a benchmark produced. */
export interface Metric {
  metric: string;
  value: number;
  unit: string;
}

export interface BenchResult {
  bench: string;
  /** What was measured and how, in one line. */
  setup: string;
  metrics: Metric[];
  /** Anything a reader should know about the numbers (errors, fallbacks, caveats). */
  notes: string[];
  /** A side-by-side table (e.g. ours against a reference), printed after the metrics. */
  comparison?: { head: string[]; rows: string[][] };
  /** Anything else worth keeping in the JSON (raw counts, per-run samples). */
  details?: unknown;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** mulberry32: a tiny seeded PRNG, so every run generates the same documents. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SUBJECTS = [
  "The engineering team",
  "Our largest customer",
  "The new pricing model",
  "A small group of volunteers",
  "The city council",
  "The quarterly report",
  "Every regional office",
  "The research lab in Lisbon",
  "The support desk",
  "A careful reviewer",
  "The marketing department",
  "The open-source community",
  "Maria from operations",
  "The board of directors",
  "The mobile application",
  "An independent auditor",
];
const VERBS = [
  "announced",
  "criticised",
  "praised",
  "delayed",
  "improved",
  "rewrote",
  "questioned",
  "celebrated",
  "measured",
  "rejected",
  "documented",
  "simplified",
  "investigated",
  "approved",
  "abandoned",
  "shipped",
];
const OBJECTS = [
  "the migration to the cloud",
  "a cheaper storage plan",
  "the annual budget",
  "the customer onboarding flow",
  "a faster search index",
  "the privacy policy",
  "the warehouse automation project",
  "an ambitious hiring plan",
  "the disaster recovery drill",
  "the translation service",
  "the recommendation engine",
  "a long-awaited security audit",
  "the billing system",
  "the weekly newsletter",
  "the energy efficiency programme",
  "the partnership with a logistics firm",
];
const CLAUSES = [
  "after months of careful planning",
  "despite strong objections from several managers",
  "because the old approach was far too slow",
  "although nobody expected such a quick result",
  "while the competition struggled with outages",
  "which surprised most of the analysts",
  "to the great relief of the night shift",
  "even though the deadline had already passed",
  "since customers kept asking for it",
  "before the holiday season began",
  "in a remarkably honest public statement",
  "with help from two external consultants",
];
const FEELINGS = [
  "Customers were delighted with the outcome.",
  "The results were disappointing and the mood was gloomy.",
  "Critics called the decision reckless and expensive.",
  "Analysts described the change as a wonderful success.",
  "Several employees complained about the terrible communication.",
  "Nobody seemed to notice any difference at all.",
  "The press reaction was mixed but mostly positive.",
  "Investors were worried about the rising costs.",
  "It was, by every measure, an excellent week.",
  "Some users reported frustrating bugs and slow pages.",
];
const NUMBERS = ["three", "twelve", "forty", "several hundred", "nearly a thousand", "two dozen"];
const NOUNS = [
  "invoices",
  "servers",
  "documents",
  "tickets",
  "shipments",
  "reviews",
  "contracts",
  "requests",
];

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

function sentence(rnd: () => number): string {
  const r = rnd();
  if (r < 0.15) return pick(rnd, FEELINGS);
  if (r < 0.3)
    return `In the last quarter, ${pick(rnd, NUMBERS)} ${pick(rnd, NOUNS)} were processed by ${pick(rnd, SUBJECTS).toLowerCase()}.`;
  if (r < 0.4)
    return `Why ${pick(rnd, SUBJECTS).toLowerCase()} ${pick(rnd, VERBS)} ${pick(rnd, OBJECTS)} is still unclear.`;
  return `${pick(rnd, SUBJECTS)} ${pick(rnd, VERBS)} ${pick(rnd, OBJECTS)} ${pick(rnd, CLAUSES)}.`;
}

/**
 * An English-ish text document of exactly `bytes` bytes (ASCII), different for every seed and the same
 * on every run: paragraphs of varied sentences, so the NLP model has real sentences, nouns and
 * sentiment to work on.
 */
export function makeDocument(seed: number, bytes = 16 * KiB): Buffer {
  const rnd = prng(seed + 1);
  const parts: string[] = [`Report ${seed}: ${pick(rnd, OBJECTS)}\n\n`];
  let length = parts[0]!.length;
  while (length < bytes) {
    const count = 3 + Math.floor(rnd() * 5);
    const paragraph: string[] = [];
    for (let i = 0; i < count; i++) paragraph.push(sentence(rnd));
    const text = `${paragraph.join(" ")}\n\n`;
    parts.push(text);
    length += text.length;
  }
  return Buffer.from(parts.join("").slice(0, bytes), "utf8");
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export interface PostResult {
  status: number;
  body: string;
  ms: number;
}

/** POSTs a document to /v1/jobs over a keep-alive agent; never throws (status 0 = network error). */
export function postDocument(
  agent: Agent,
  apiUrl: string,
  apiKey: string,
  body: Buffer,
  filename: string,
  contentType = "text/plain",
): Promise<PostResult> {
  const url = new URL(`/v1/jobs?filename=${encodeURIComponent(filename)}`, apiUrl);
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${apiKey}`,
          "content-type": contentType,
          "content-length": body.length,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            ms: performance.now() - started,
          }),
        );
        res.on("error", (error) =>
          resolve({ status: 0, body: String(error), ms: performance.now() - started }),
        );
      },
    );
    req.on("error", (error) => resolve({ status: 0, body: String(error), ms: performance.now() - started }));
    req.end(body);
  });
}

/** Runs `task(i)` for i in [from, to) with at most `concurrency` in flight. */
export async function runPool(
  from: number,
  to: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = from;
  const lane = async () => {
    while (next < to) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, lane));
}

export function newAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

export function machine(): Record<string, string | number> {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    memoryMiB: Math.round(totalmem() / MiB),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

function formatValue(m: Metric): string {
  const n = Number.isInteger(m.value) ? m.value.toLocaleString("en-US") : String(m.value);
  return m.unit ? `${n} ${m.unit}` : n;
}

/** `| bench | metric | value |` in Markdown. */
export function table(results: readonly BenchResult[]): string {
  const rows = results.flatMap((r) => r.metrics.map((m) => [r.bench, m.metric, formatValue(m)]));
  return markdownTable(["bench", "metric", "value"], rows);
}

/** A Markdown table with padded columns. */
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** Prints one result the way the standalone scripts do, and writes it to bench/results/<bench>.json. */
export async function report(result: BenchResult): Promise<void> {
  console.log(`\n${result.bench}: ${result.setup}`);
  console.log(table([result]));
  if (result.comparison) console.log(`\n${markdownTable(result.comparison.head, result.comparison.rows)}`);
  for (const note of result.notes) console.log(`  note: ${note}`);
  console.log(`wrote ${await writeResult(result)}`);
}

/** bench/results/<bench>.json (git-ignored): the result, the date, the machine and its load. */
export async function writeResult(result: BenchResult): Promise<string> {
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = `${dir}${result.bench}.json`;
  const record = { date: new Date().toISOString(), machine: machine(), loadAverage: loadavg(), ...result };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

export interface Histogram {
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** Reads one labelled series of a Prometheus histogram from the text exposition. */
export function parseHistogram(text: string, name: string, labels: Record<string, string>): Histogram {
  const matches = (labelText: string) =>
    Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
  const hist: Histogram = { buckets: [], sum: 0, count: 0 };
  for (const line of text.split("\n")) {
    const m = /^(\w+)(?:\{([^}]*)\})? ([0-9.eE+-]+|NaN|\+Inf)$/.exec(line);
    if (!m || !m[1]!.startsWith(name) || !matches(m[2] ?? "")) continue;
    const value = Number(m[3]);
    if (m[1] === `${name}_bucket`) {
      const le = /le="([^"]+)"/.exec(m[2] ?? "")?.[1] ?? "";
      hist.buckets.push({ le: le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), count: value });
    } else if (m[1] === `${name}_sum`) hist.sum = value;
    else if (m[1] === `${name}_count`) hist.count = value;
  }
  hist.buckets.sort((a, b) => a.le - b.le);
  return hist;
}

/** Like PromQL histogram_quantile: linear interpolation inside the bucket holding the quantile. */
export function histogramQuantile(q: number, hist: Histogram): number {
  const total = hist.buckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of hist.buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lowerLe;
      return lowerLe + (b.le - lowerLe) * ((rank - lowerCount) / (b.count - lowerCount || 1));
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe;
}
