import { createLogger, JobStore } from "@content-engine/core";
import { startWorkerService } from "@content-engine/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AwsCall,
  type AwsProxy,
  countOperations,
  startAwsProxy,
} from "../../../test/support/aws-proxy.ts";
import { bearer, startTestStack, submitText, waitFor, waitForEmptyQueue } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let apiProxy: AwsProxy;

const JOBS = 10;
const DOCUMENT = "Tidal power plants turn the rise and fall of the sea into electricity. ".repeat(20);

beforeAll(async () => {
  stack = await startTestStack({
    worker: false,
    endpointFor: async (emulator) => {
      apiProxy = await startAwsProxy(emulator);
      return apiProxy.url;
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  await apiProxy?.stop();
});

/** Calls that cost per second of polling, not per job: long polls and the DLQ watcher's depth reads. */
const perJob = ({ service, operation }: AwsCall) =>
  service !== "sqs" || (operation !== "ReceiveMessage" && operation !== "GetQueueAttributes");

describe("AWS requests per job, counted on the wire", () => {
  it("ingests with one PutObject and one message, processes with one read and one write, and reads status in one", async () => {
    // Ingest: concurrent uploads, as a busy API sees them.
    apiProxy.reset();
    const ids = await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => {
        const res = await submitText(stack.apiUrl, stack.key, `${DOCUMENT} Document ${i}.`);
        expect(res.status).toBe(202);
        return ((await res.json()) as { jobId: string }).jobId;
      }),
    );
    const ingest = countOperations(apiProxy.calls());
    expect(ingest["s3 PutObject"]).toBe(JOBS);
    const sends = (ingest["sqs SendMessage"] ?? 0) + (ingest["sqs SendMessageBatch"] ?? 0);
    expect(sends).toBeGreaterThanOrEqual(1);
    expect(sends).toBeLessThanOrEqual(JOBS);
    expect(apiProxy.calls()).toHaveLength(JOBS + sends);

    // Worker: its own hop, started once the jobs are queued.
    const workerProxy = await startAwsProxy(stack.emulatorUrl);
    const worker = await startWorkerService(
      { ...stack.config, endpoint: workerProxy.url, workerMetricsPort: 0 },
      createLogger("worker", "silent"),
    );
    const store = new JobStore(stack.s3, stack.config.bucket);
    try {
      await waitFor(
        async () => {
          const all = await Promise.all(ids.map((id) => store.get("acme", id)));
          return all.every((r) => r?.status === "succeeded");
        },
        60_000,
        "every job to succeed",
      );
      await waitForEmptyQueue(stack.sqs, stack.config.queueUrl);
    } finally {
      await worker.stop();
      await workerProxy.stop();
    }
    const workerCalls = workerProxy.calls();
    const worked = countOperations(workerCalls);
    expect(worked["s3 GetObject"]).toBe(JOBS);
    expect(worked["s3 PutObject"]).toBe(JOBS);
    const deletes = (worked["sqs DeleteMessageBatch"] ?? 0) + (worked["sqs DeleteMessage"] ?? 0);
    expect(deletes).toBeGreaterThanOrEqual(1);
    expect(deletes).toBeLessThanOrEqual(JOBS);
    // Everything but polling (which costs per second waited, not per job).
    expect(workerCalls.filter(perJob)).toHaveLength(2 * JOBS + deletes);
    const polls = workerCalls.filter((call) => !perJob(call)).length;
    // Connections are kept alive and reused: far fewer than requests.
    expect(workerProxy.connections()).toBeLessThan(workerCalls.length / 2);

    // Status reads: one GetObject for a finished job, the result too.
    apiProxy.reset();
    const status = await fetch(`${stack.apiUrl}/v1/jobs/${ids[0]}`, { headers: bearer(stack.key) });
    expect(((await status.json()) as { status: string }).status).toBe("succeeded");
    const result = await fetch(`${stack.apiUrl}/v1/jobs/${ids[0]}/result`, { headers: bearer(stack.key) });
    expect(result.status).toBe(200);
    expect(countOperations(apiProxy.calls())).toEqual({ "s3 GetObject": 2 });

    // End to end, the worker's polling during the run included.
    const endToEnd = (JOBS + sends + 2 * JOBS + deletes + polls) / JOBS;
    process.stdout.write(
      `requests per job: ingest ${((JOBS + sends) / JOBS).toFixed(2)}, worker ${((2 * JOBS + deletes) / JOBS).toFixed(2)} (+${polls} polls for ${JOBS} jobs), status read 1\n`,
    );
    expect(endToEnd).toBeLessThanOrEqual(5);
  });
});
