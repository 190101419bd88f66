// Preview environments share a bucket, each under its own CONTENT_ENGINE_KEY_PREFIX: two prefixes on
// one bucket of the emulator, each with its own API and worker, and neither sees the other's data.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { type RunningApi, startApiServer } from "@content-engine/api";
import {
  createLogger,
  JobStore,
  jobKeys,
  loadConfig,
  newJobId,
  type RuntimeConfig,
  uploadMetadata,
} from "@content-engine/core";
import { markDeadLettered, sweepStalledJobs, toRecord } from "@content-engine/worker";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  bearer,
  listKeys,
  queueCounts,
  serviceEnv,
  spawnService,
  startTestStack,
  submitText,
  waitFor,
} from "./support.ts";

const A = "previews/pr-1/";
const B = "previews/pr-2/";
const CONSUMER = "services/worker/src/consumer-main.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
/** Preview A: the local stack's API (no worker), with prefix A. */
let stack: Stack;
/** Preview B: its own API and queue on the same bucket, with prefix B. */
let apiB: RunningApi;
let configB: RuntimeConfig;
/** The environment without a prefix (dev), on the same bucket. */
let apiRoot: RunningApi;

const silent = () => createLogger("api", "silent");
const storeA = () => new JobStore(stack.s3, stack.config.bucket, A);
const storeB = () => new JobStore(stack.s3, stack.config.bucket, B);

beforeAll(async () => {
  stack = await startTestStack({ worker: false, keyPrefix: A });
  const queueB = await stack.sqs.send(new CreateQueueCommand({ QueueName: "content-engine-jobs-pr-2" }));
  // Each API reads the prefix from its environment, as in its container.
  const envOf = (prefix: string, queueUrl: string) =>
    loadConfig({
      AWS_REGION: stack.config.region,
      AWS_ENDPOINT_URL: stack.emulatorUrl,
      CONTENT_ENGINE_BUCKET: stack.config.bucket,
      CONTENT_ENGINE_KEY_PREFIX: prefix,
      CONTENT_ENGINE_QUEUE_URL: queueUrl,
      CONTENT_ENGINE_API_KEYS: `${stack.key}:acme`,
      PORT: "0",
      HOST: "127.0.0.1",
    });
  configB = envOf(B, queueB.QueueUrl!);
  apiB = await startApiServer(configB, silent());
  apiRoot = await startApiServer(envOf("", queueB.QueueUrl!), silent());
});
afterAll(async () => {
  await apiB?.close();
  await apiRoot?.close();
  await stack?.stop();
});

async function statusOf(apiUrl: string, jobId: string, path = "") {
  const res = await fetch(`${apiUrl}/v1/jobs/${jobId}${path}`, { headers: bearer(stack.key) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Keys of the bucket naming `jobId`, wherever they are. */
async function keysOf(jobId: string): Promise<string[]> {
  return (await listKeys(stack.s3, stack.config.bucket)).filter((k) => k.includes(jobId)).sort();
}

async function plantOrphan(prefix: string): Promise<string> {
  const jobId = newJobId();
  await stack.s3.send(
    new PutObjectCommand({
      Bucket: stack.config.bucket,
      Key: jobKeys(prefix).upload("acme", jobId),
      Body: "Left behind by an API that died before sending the message.",
      ContentType: "text/plain",
      Metadata: uploadMetadata({
        filename: "orphan.txt",
        createdAt: new Date().toISOString(),
        requestId: `orphan-${prefix}`,
        tasks: ["keywords"],
      }),
    }),
  );
  return jobId;
}

// The order matters: a stopped consumer's last long poll may still take a message (the emulator hands
// it to the closed connection), so the tests that receive from A's queue themselves run first.
describe("CONTENT_ENGINE_KEY_PREFIX: two preview environments on one bucket", () => {
  it("runs the Lambda handler under its prefix: A's handler processes A's job and re-drives A's orphan, B's touches neither", async () => {
    const orphanA = await plantOrphan(A);
    const res = await submitText(
      stack.apiUrl,
      stack.key,
      "A second preview document about excellent harvests.",
    );
    const { jobId } = (await res.json()) as { jobId: string };
    const received = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.config.queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const queueArn = "arn:aws:sqs:us-east-1:000000000000:content-engine-jobs";
    const record = toRecord(received.Messages![0]!, queueArn, "us-east-1");
    expect(JSON.parse(record.body)).toMatchObject({ jobId, key: `${A}uploads/acme/${jobId}` });

    // Each function reads its configuration from the environment at cold start, as on Lambda.
    const coldStart = async (prefix: string, queueUrl: string) => {
      vi.resetModules();
      Object.assign(process.env, {
        AWS_ENDPOINT_URL: stack.emulatorUrl,
        CONTENT_ENGINE_BUCKET: stack.config.bucket,
        CONTENT_ENGINE_KEY_PREFIX: prefix,
        CONTENT_ENGINE_QUEUE_URL: queueUrl,
        CONTENT_ENGINE_DLQ_URL: stack.dlqUrl,
        CONTENT_ENGINE_REDRIVE_AFTER_SECONDS: "1",
        LOG_LEVEL: "silent",
      });
      return (await import("@content-engine/worker/lambda")).handler;
    };
    const quietly = async <T>(run: () => Promise<T>): Promise<T> => {
      // The handler writes EMF lines to stdout.
      const spy = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
      try {
        return await run();
      } finally {
        spy.mockRestore();
      }
    };
    const event: SQSEvent = { Records: [record] };
    // What the EventBridge schedule sends to the same function.
    const scheduled = {
      version: "0",
      id: "sched-1",
      "detail-type": "Scheduled Event" as const,
      source: "aws.events" as const,
      account: "000000000000",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: ["arn:aws:events:us-east-1:000000000000:rule/content-engine-pr-worker-recovery"],
      detail: {},
    };

    const handlerB = await coldStart(B, configB.queueUrl);
    const refused: SQSBatchResponse = await quietly(() => handlerB(event));
    expect(refused.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(await keysOf(jobId)).toEqual([`${A}uploads/acme/${jobId}`]);
    expect((await statusOf(stack.apiUrl, jobId)).body.status).toBe("queued");
    await new Promise((r) => setTimeout(r, 1500));
    // B's scheduled recovery: nothing of B is stalled, and A's orphan is not B's.
    expect(await quietly(() => handlerB(scheduled))).toEqual({ markedFailed: 0, redriven: 0 });
    expect(await queueCounts(stack.sqs, configB.queueUrl)).toEqual({ visible: 0, inFlight: 0 });

    const handlerA = await coldStart(A, stack.config.queueUrl);
    const done: SQSBatchResponse = await quietly(() => handlerA(event));
    expect(done.batchItemFailures).toEqual([]);
    expect((await statusOf(stack.apiUrl, jobId)).body.status).toBe("succeeded");
    expect(await keysOf(jobId)).toEqual([`${A}jobs/acme/${jobId}.json`, `${A}uploads/acme/${jobId}`]);
    expect((await statusOf(apiB.url, jobId)).status).toBe(404);
    // What the Lambda service does after a batch without failures.
    await stack.sqs.send(
      new DeleteMessageCommand({
        QueueUrl: stack.config.queueUrl,
        ReceiptHandle: received.Messages![0]!.ReceiptHandle!,
      }),
    );

    // A's scheduled recovery re-drives A's orphan, to A's queue, with its key under A.
    expect(await quietly(() => handlerA(scheduled))).toEqual({ markedFailed: 0, redriven: 1 });
    const redriven = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.config.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect((redriven.Messages ?? []).map((m) => JSON.parse(m.Body!))).toEqual([
      expect.objectContaining({ jobId: orphanA, key: `${A}uploads/acme/${orphanA}`, redrive: true }),
    ]);
    for (const m of redriven.Messages ?? [])
      await stack.sqs.send(
        new DeleteMessageCommand({ QueueUrl: stack.config.queueUrl, ReceiptHandle: m.ReceiptHandle! }),
      );
    delete process.env.CONTENT_ENGINE_KEY_PREFIX;
  });

  it("sweeps and marks dead letters only under its own prefix: B's recovery leaves A's records alone", async () => {
    const orphanA = await plantOrphan(A);
    const orphanB = await plantOrphan(B);
    // A job of A whose message died in the DLQ.
    const dead = (await (await submitText(stack.apiUrl, stack.key, "Dead on arrival.")).json()) as {
      jobId: string;
    };
    const [deadMessage] =
      (
        await stack.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.config.queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: 1,
          }),
        )
      ).Messages ?? [];
    await new Promise((r) => setTimeout(r, 1500));
    const before = await listKeys(stack.s3, stack.config.bucket, A);
    const sweep = (jobs: JobStore, queueUrl: string) =>
      sweepStalledJobs({
        sqs: stack.sqs,
        queueUrl,
        bucket: stack.config.bucket,
        jobs,
        logger: createLogger("worker", "silent"),
        stalledAfterMs: 1000,
        lookbackMs: 60_000,
        idempotencyTtlMs: 86_400_000,
      });

    // B's sweep re-drives B's orphan only, to B's queue; B's dead-letter handler does not know A's job.
    expect(await sweep(storeB(), configB.queueUrl)).toEqual([orphanB]);
    const sentB = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: configB.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect((sentB.Messages ?? []).map((m) => JSON.parse(m.Body!))).toEqual([
      expect.objectContaining({ jobId: orphanB, key: `${B}uploads/acme/${orphanB}`, redrive: true }),
    ]);
    const logger = createLogger("worker", "silent");
    expect(await markDeadLettered(deadMessage!.Body!, { jobs: storeB(), logger })).toBe("no_job");
    expect(await listKeys(stack.s3, stack.config.bucket, A)).toEqual(before);
    expect((await storeA().get("acme", dead.jobId))?.status).toBe("queued");

    // The root environment's sweep (dev, no prefix) sees neither preview.
    expect(await sweep(new JobStore(stack.s3, stack.config.bucket), configB.queueUrl)).toEqual([]);

    // Under A, the same calls find A's own: the orphan is re-driven, the dead letter marked failed.
    // (With A's other uploads that have no final record yet: the dead job's, the Lambda test's orphan.)
    expect(await sweep(storeA(), stack.config.queueUrl)).toEqual(
      expect.arrayContaining([orphanA, dead.jobId]),
    );
    expect(await markDeadLettered(deadMessage!.Body!, { jobs: storeA(), logger })).toBe("marked_failed");
    expect((await storeA().get("acme", dead.jobId))?.error?.code).toBe("dead_lettered");
    expect(await keysOf(orphanA)).toEqual([`${A}uploads/acme/${orphanA}`]);
    expect((await queueCounts(stack.sqs, configB.queueUrl)).visible).toBe(0);
  });

  it("takes a job through API A and the consumer A to succeeded, every object under A; B and the root answer 404", async () => {
    // And a message of B's layout on A's queue (a queue shared by mistake): A's worker reads nothing of B.
    const orphanB = await plantOrphan(B);
    await stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.config.queueUrl,
        MessageBody: JSON.stringify({
          jobId: orphanB,
          tenant: "acme",
          bucket: stack.config.bucket,
          key: `${B}uploads/acme/${orphanB}`,
          contentType: "text/plain",
          size: 10,
          tasks: ["keywords"],
          requestId: "misrouted",
        }),
      }),
    );
    const res = await submitText(
      stack.apiUrl,
      stack.key,
      "The preview harvest was excellent. Farmers celebrated.",
      {
        headers: { "idempotency-key": "preview-doc-1" },
      },
    );
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };

    // The EKS consumer, as its own process, configured by its environment.
    const consumer = spawnService(CONSUMER, serviceEnv(stack, { WORKER_METRICS_PORT: "0" }));
    try {
      await waitFor(
        async () => (await statusOf(stack.apiUrl, jobId)).body.status === "succeeded",
        30_000,
        "the job to succeed",
      );
      const refused = await waitFor(
        async () =>
          consumer.lines.find((l) => String(l.msg).includes("outside this worker's bucket or key prefix")),
        20_000,
        "the consumer to refuse B's message",
      );
      expect(refused).toMatchObject({ jobId: orphanB, keyPrefix: A, key: `${B}uploads/acme/${orphanB}` });
    } finally {
      consumer.child.kill("SIGTERM");
      await consumer.closed;
    }
    expect((await statusOf(stack.apiUrl, jobId, "/result")).status).toBe(200);
    expect(await keysOf(jobId)).toEqual([`${A}jobs/acme/${jobId}.json`, `${A}uploads/acme/${jobId}`]);

    // The same job id through the other environments: not there.
    for (const api of [apiB.url, apiRoot.url]) {
      for (const path of ["", "/result"]) {
        const { status, body } = await statusOf(api, jobId, path);
        expect({ api, path, status, code: (body.error as { code: string }).code }).toEqual({
          api,
          path,
          status: 404,
          code: "job_not_found",
        });
      }
    }

    // The same Idempotency-Key names the same id in B, but B's job is B's own: a new upload, not a replay.
    const again = await submitText(apiB.url, stack.key, "Preview B's own document.", {
      headers: { "idempotency-key": "preview-doc-1" },
    });
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(((await again.json()) as { jobId: string }).jobId).toBe(jobId);
    expect(await keysOf(jobId)).toEqual([
      `${A}jobs/acme/${jobId}.json`,
      `${A}uploads/acme/${jobId}`,
      `${B}uploads/acme/${jobId}`,
    ]);
    expect((await statusOf(apiB.url, jobId)).body.status).toBe("queued");
    expect((await statusOf(stack.apiUrl, jobId)).body.status).toBe("succeeded");
    await stack.sqs.send(new PurgeQueueCommand({ QueueUrl: configB.queueUrl }));
    expect(await keysOf(orphanB)).toEqual([`${B}uploads/acme/${orphanB}`]);
    // Nothing any of them wrote is outside its prefix.
    const all = await listKeys(stack.s3, stack.config.bucket);
    expect(all.filter((k) => !k.startsWith(A) && !k.startsWith(B))).toEqual([]);
  });
});
