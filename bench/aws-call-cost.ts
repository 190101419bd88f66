// CPU per AWS call of the two calls every upload makes, through the SDK (`client.send`) and through
// the direct path of services/core/src/aws-direct.ts: PutObject of a 16 KiB body and
// SendMessageBatch of 4 job messages, 4 calls at a time. The endpoint is a stub HTTP server in a child
// process (pinned to another core when there is one) that answers at once, so the number is the
// client's own cost: build, sign, send, read the answer. The process's CPU comes from
// process.cpuUsage() over the measured calls, after a warm-up.
// Run alone: `node bench/aws-call-cost.ts` or `npm run bench -- aws-call-cost`.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism } from "node:os";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import {
  createS3Client,
  createSqsClient,
  putObjectDirect,
  sendMessageBatchDirect,
} from "@content-engine/core";
import { type BenchResult, KiB, type Metric, report, round } from "./lib.ts";

/** The stub: PutObject gets an ETag, SendMessageBatch every entry accepted (with the MD5 the SDK checks). */
async function serveStub(): Promise<void> {
  const { createHash } = await import("node:crypto");
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.headers["x-amz-target"]) {
        const { Entries } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          Entries: Array<{ Id: string; MessageBody: string }>;
        };
        res.setHeader("content-type", "application/x-amz-json-1.0");
        res.end(
          JSON.stringify({
            Successful: Entries.map((e) => ({
              Id: e.Id,
              MessageId: `m-${e.Id}`,
              MD5OfMessageBody: createHash("md5").update(e.MessageBody).digest("hex"),
            })),
            Failed: [],
          }),
        );
        return;
      }
      res.setHeader("etag", '"0123456789abcdef"');
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    process.send?.({ port: (server.address() as AddressInfo).port });
  });
  process.on("disconnect", () => process.exit(0));
}

interface CallCost {
  call: string;
  path: "sdk" | "direct";
  cpuMsPerCall: number;
}

async function measure(
  calls: number,
  concurrency: number,
  one: (i: number) => Promise<unknown>,
): Promise<number> {
  const run = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await one(next++);
      }),
    );
  };
  await run(Math.min(500, calls));
  const before = process.cpuUsage();
  await run(calls);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / calls;
}

export async function runAwsCallCost(
  options: { calls?: number; rounds?: number } = {},
): Promise<BenchResult> {
  const calls = options.calls ?? 3000;
  const rounds = options.rounds ?? 3;
  const pinned = availableParallelism() >= 2;
  const stub: ChildProcess = spawn(
    pinned ? "taskset" : process.execPath,
    pinned ? ["-c", "0", process.execPath, import.meta.filename, "--stub"] : [import.meta.filename, "--stub"],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  const [{ port }] = (await once(stub, "message")) as [{ port: number }];
  const endpoint = `http://127.0.0.1:${port}`;
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const s3 = createS3Client({ region: "us-east-1", endpoint });
  const sqs = createSqsClient({ region: "us-east-1", endpoint });
  const body = Buffer.alloc(16 * KiB, "a");
  const put = {
    Bucket: "bench",
    ContentType: "text/plain",
    Metadata: { job: '{"id":"x","status":"queued"}' },
  };
  const queueUrl = `${endpoint}/000000000000/jobs`;
  const entries = (i: number) =>
    [0, 1, 2, 3].map((j) => ({
      Id: String(j),
      MessageBody: JSON.stringify({
        jobId: `job-${i}-${j}`,
        tenant: "bench",
        key: `bench/uploads/${i}-${j}`,
      }),
      MessageAttributes: { requestId: { DataType: "String" as const, StringValue: `req-${i}-${j}` } },
    }));
  const cases: Array<{ call: string; path: "sdk" | "direct"; one: (i: number) => Promise<unknown> }> = [
    {
      call: "PutObject 16 KiB",
      path: "sdk",
      one: (i) => s3.send(new PutObjectCommand({ ...put, Key: `k/${i}`, Body: body })),
    },
    {
      call: "PutObject 16 KiB",
      path: "direct",
      one: (i) => putObjectDirect(s3, { ...put, Key: `k/${i}`, Body: body }),
    },
    {
      call: "SendMessageBatch of 4",
      path: "sdk",
      one: (i) => sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries(i) })),
    },
    {
      call: "SendMessageBatch of 4",
      path: "direct",
      one: (i) => sendMessageBatchDirect(sqs, { QueueUrl: queueUrl, Entries: entries(i) }),
    },
  ];
  const samples = new Map<string, number[]>();
  try {
    // Rounds alternate the cases, so a burst of load elsewhere lands on all of them alike.
    for (let round = 0; round < rounds; round++) {
      for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
        const key = `${c.call} ${c.path}`;
        samples.set(key, [...(samples.get(key) ?? []), await measure(calls, 4, c.one)]);
      }
    }
  } finally {
    s3.destroy();
    sqs.destroy();
    stub.disconnect();
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const results: CallCost[] = cases.map((c) => ({
    call: c.call,
    path: c.path,
    cpuMsPerCall: median(samples.get(`${c.call} ${c.path}`)!),
  }));
  const metrics: Metric[] = results.map((r) => ({
    metric: `${r.call}, ${r.path === "sdk" ? "client.send" : "direct"}: CPU per call`,
    value: round(r.cpuMsPerCall, 3),
    unit: "ms",
  }));
  const rows = [...new Set(results.map((r) => r.call))].map((call) => {
    const sdk = results.find((r) => r.call === call && r.path === "sdk")!.cpuMsPerCall;
    const direct = results.find((r) => r.call === call && r.path === "direct")!.cpuMsPerCall;
    return [call, String(round(sdk, 3)), String(round(direct, 3)), String(round(direct / sdk, 2))];
  });
  return {
    bench: "aws-call-cost",
    setup: `CPU per call of this process, ${calls} calls 4 at a time per sample, median of ${rounds} alternating rounds, against a stub endpoint${pinned ? " pinned to core 0" : ""}`,
    metrics,
    notes: [
      "the stub answers at once, so this is the client's own cost; a real S3/SQS adds only waiting",
      "direct = services/core/src/aws-direct.ts: the SDK's endpoint rules, signer, credentials, request handler and retry strategy, without the per-command middleware stack",
    ],
    comparison: { head: ["call", "client.send (ms)", "direct (ms)", "ratio"], rows },
    details: Object.fromEntries(samples),
  };
}

if (import.meta.main) {
  if (process.argv.includes("--stub")) await serveStub();
  else await report(await runAwsCallCost());
}
