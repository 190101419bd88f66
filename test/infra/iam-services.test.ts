// Least privilege of the workloads, proven from their real calls: the API and the consumer run as their
// own processes, each signing with its own access key (the key stands for its role), through a
// recording proxy in front of the emulator. Every call they make, ingest, status reads, readiness, the
// enqueue failure's cleanup, processing, the heartbeat, a poison message to the DLQ and the sweep's
// re-drive, is decided against the policies modules/workload-iam renders for the API and the worker.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { idempotentJobId, JobStore, keys, newJobId, uploadMetadata } from "@content-engine/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  serviceEnv,
  spawnService,
  startTestStack,
  submitText,
  waitFor,
} from "../../services/local/test/support.ts";
import { type AwsProxy, startAwsProxy } from "../support/aws-proxy.ts";
import { type AuditResult, auditFailures, auditRecord, createIamRecorder } from "../support/iam-audit.ts";
import { WORKLOAD_GRANT_REASONS } from "../support/iam-grant-reasons.ts";
import { PrincipalBook, type RecordedCall } from "../support/iam-requests.ts";
import { type IamRole, renderWorkloadRoles, withoutGrant } from "../support/iam-roles.ts";

const API_KEY = "AKIAAPIROLE000000001";
const WORKER_KEY = "AKIAWORKERROLE000001";
const REGION = "us-east-1";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let proxy: AwsProxy;
let roles: { api: IamRole; worker: IamRole };
let calls: RecordedCall[] = [];
let audit: AuditResult;

/** The queue's ARN, as terraform passes it (the emulator's URL path holds the account and the name). */
const queueArn = (url: string) => {
  const [account, name] = new URL(url).pathname.split("/").filter(Boolean).slice(-2);
  return `arn:aws:sqs:${REGION}:${account}:${name}`;
};

beforeAll(async () => {
  stack = await startTestStack({ worker: false, visibilityTimeoutSeconds: 2, maxReceiveCount: 2 });
  roles = await renderWorkloadRoles({
    accountId: queueArn(stack.config.queueUrl).split(":")[4]!,
    bucketArn: `arn:aws:s3:::${stack.config.bucket}`,
    queueArn: queueArn(stack.config.queueUrl),
    dlqArn: queueArn(stack.dlqUrl),
  });
  const recorder = createIamRecorder(
    new PrincipalBook({
      [API_KEY]: { principal: roles.api.arn, checked: true },
      [WORKER_KEY]: { principal: roles.worker.arn, checked: true },
    }),
  );
  proxy = await startAwsProxy(stack.emulatorUrl, { onExchange: recorder.onExchange });
  await runWorkloads();
  calls = recorder.calls();
  audit = auditRecord(calls, [roles.api, roles.worker], WORKLOAD_GRANT_REASONS);
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await stack?.stop();
});

/** The API and the consumer as processes, through everything they do in production. */
async function runWorkloads() {
  const env = (key: string, extra: Record<string, string>) =>
    serviceEnv(stack, { AWS_ENDPOINT_URL: proxy.url, AWS_ACCESS_KEY_ID: key, ...extra });
  const api = spawnService("services/api/src/main.ts", env(API_KEY, { PORT: "0" }));
  const store = new JobStore(stack.s3, stack.config.bucket);
  // A poison job (its upload never reads for the worker) and its id, known before it is sent.
  const poisonKey = "poison-document";
  const ttl = stack.config.idempotencyTtlSeconds * 1000;
  const poisonId = idempotentJobId("acme", poisonKey, Math.floor(Date.now() / ttl) * ttl);
  let failEnqueue = false;
  proxy.fault = (call) => {
    if (call.accessKeyId === WORKER_KEY && call.operation === "GetObject" && call.key?.endsWith(poisonId))
      return "fail";
    if (failEnqueue && call.accessKeyId === API_KEY && call.operation.startsWith("SendMessage"))
      return "fail";
    return undefined;
  };
  let consumer: ReturnType<typeof spawnService> | undefined;
  try {
    const listening = await waitFor(
      async () => api.lines.find((l) => l.msg === "api listening"),
      15_000,
      "the API",
    );
    const apiUrl = `http://127.0.0.1:${String(listening.port)}`;
    expect((await fetch(`${apiUrl}/ready`)).status).toBe(200);

    // Ingest, and a retried Idempotency-Key (answered from the first job's upload).
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await submitText(
        apiUrl,
        stack.key,
        `Tide mills grind grain with the sea. Note ${i}. `.repeat(200),
      );
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { jobId: string }).jobId);
    }
    const poison = { headers: { "idempotency-key": poisonKey } };
    for (let i = 0; i < 2; i++) {
      const res = await submitText(apiUrl, stack.key, "A document the worker can never read.", poison);
      expect(res.status).toBe(202);
    }
    // A queued job's status, before any worker runs.
    expect((await fetch(`${apiUrl}/v1/jobs/${ids[0]}`, { headers: bearer(stack.key) })).status).toBe(200);

    // The queue fails every send: the API answers 503 and removes the upload it stored.
    failEnqueue = true;
    const refused = await submitText(apiUrl, stack.key, "Never queued, never kept.");
    failEnqueue = false;
    expect(refused.status).toBe(503);

    // An upload whose message was never sent (the API died between its two writes), for the sweep.
    const orphan = newJobId(Date.now() - 5000);
    await stack.s3.send(
      new PutObjectCommand({
        Bucket: stack.config.bucket,
        Key: keys.upload("acme", orphan),
        Body: "Orphaned uploads are picked up again by the sweep.",
        ContentType: "text/plain",
        Metadata: uploadMetadata({
          filename: "orphan.txt",
          createdAt: new Date(Date.now() - 5000).toISOString(),
          requestId: "orphan",
          tasks: ["summary"],
        }),
      }),
    );

    consumer = spawnService(
      "services/worker/src/consumer-main.ts",
      env(WORKER_KEY, {
        WORKER_METRICS_PORT: "0",
        CONTENT_ENGINE_VISIBILITY_TIMEOUT: "2",
        CONTENT_ENGINE_MAX_RECEIVE_COUNT: "2",
        CONTENT_ENGINE_REDRIVE_AFTER_SECONDS: "1",
      }),
    );
    for (const id of [...ids, orphan]) {
      await waitFor(async () => (await store.get("acme", id))?.status === "succeeded", 60_000, `job ${id}`);
    }
    const dead = await waitFor(
      async () => {
        const record = await store.get("acme", poisonId);
        return record?.status === "failed" ? record : undefined;
      },
      60_000,
      "the poison job to be dead-lettered",
    );
    expect(dead.error?.code).toBe("dead_lettered");
    // A finished job's status and result.
    expect((await fetch(`${apiUrl}/v1/jobs/${ids[0]}`, { headers: bearer(stack.key) })).status).toBe(200);
    expect((await fetch(`${apiUrl}/v1/jobs/${ids[0]}/result`, { headers: bearer(stack.key) })).status).toBe(
      200,
    );
  } finally {
    proxy.fault = () => undefined;
    api.child.kill("SIGTERM");
    consumer?.child.kill("SIGTERM");
    await Promise.all([api.closed, consumer?.closed]);
  }
}

describe("the workloads' AWS calls, recorded at the emulator, against modules/workload-iam", () => {
  it("records the calls of both roles, each with its resource", () => {
    const ops = (arn: string) =>
      [...new Set(calls.filter((c) => c.principal === arn).map((c) => c.operation))].sort();
    expect(ops(roles.api.arn)).toEqual(
      expect.arrayContaining(["s3 PutObject", "s3 HeadBucket", "s3 DeleteObject"]),
    );
    expect(ops(roles.worker.arn)).toEqual(
      expect.arrayContaining(["s3 GetObject", "s3 PutObject", "s3 ListObjectsV2", "sqs ReceiveMessage"]),
    );
    expect(audit.actionOnly).toEqual([]);
  });

  it("allows every call the API and the worker made, and uses every action granted (or says why not)", () => {
    expect(auditFailures(audit)).toEqual([]);
    expect(audit.checkedRequests).toBeGreaterThan(20);
  });

  it("names the role, the action and the resource when a grant goes missing", () => {
    const broken = auditRecord(calls, [roles.api, withoutGrant(roles.worker, "s3:PutObject")]);
    const violation = broken.violations.find((v) => v.action === "s3:PutObject");
    expect(violation?.message).toMatch(
      new RegExp(
        `^worker \\(${roles.worker.arn}\\) may not s3:PutObject on arn:aws:s3:::${stack.config.bucket}/jobs/acme/\\S+: implicit-deny$`,
      ),
    );
    expect(broken.violations.every((v) => v.role.startsWith("worker"))).toBe(true);
  });
});
