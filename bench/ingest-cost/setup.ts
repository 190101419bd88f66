// What every part of the ingest-cost bench shares: its options, the two servers it compares, the
// bucket, region and API key both are given, and the multipart upload wrk and the counting run send.

export const SERVERS = ["content-engine", "fastapi"] as const;
export type ServerName = (typeof SERVERS)[number];
export const LABEL: Record<ServerName, string> = {
  "content-engine": "content-engine",
  fastapi: "FastAPI + boto3 reference",
};

export const API_KEY = "bench_ingest_cost_key_0001";
export const TENANT = "bench";
export const BUCKET = "content-engine-bench";
export const REGION = "us-east-1";
export const BOUNDARY = "content-engine-bench-boundary-7d1f";

/** The multipart/form-data body of one upload: a `file` part with a 16 KiB text document. */
export function multipartBody(document: Buffer, filename = "report.txt"): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\n`,
    ),
    document,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

export interface IngestCostOptions {
  /** Concurrencies measured with wrk (default 4 and 32). */
  concurrencies?: number[];
  /** Seconds of each measured wrk run (default 4), after one warm-up run of `warmupSeconds` (default 3). */
  seconds?: number;
  /** Rounds of runs, alternating between the servers (default 3). */
  rounds?: number;
  warmupSeconds?: number;
  /** Jobs sent through the counting proxy, then processed by the worker (default 40). */
  countedJobs?: number;
  docBytes?: number;
}
