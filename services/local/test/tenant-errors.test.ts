// What a tenant reads of a job that failed on our side: a stable code and a generic message with the
// request id, never our error text (an AWS error names accounts and role ARNs). The detail goes to
// the log, under the same request id. Real S3/SQS (the emulator), the real handler and job store; the
// processor's failure is Bedrock's AccessDenied as AWS words it (no emulator serves Bedrock).
import { Writable } from "node:stream";
import { GetQueueAttributesCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { createLogger, JobStore } from "@content-engine/core";
import { handleJobRecord, type Processor, toRecord } from "@content-engine/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, startTestStack, submitText } from "./support.ts";

const INTERNAL =
  "User: arn:aws:sts::444455556666:assumed-role/content-engine-prod-worker/content-engine-worker-prod " +
  "is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:eu-west-1::foundation-model/x";

describe("a job that fails on our side (Bedrock's AccessDenied stood in: no emulator serves Bedrock)", () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  beforeAll(async () => {
    stack = await startTestStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("tells the tenant a stable code and the request id, and logs the AWS error under that id", async () => {
    const requestId = "req-tenant-safe-1";
    const res = await submitText(stack.apiUrl, stack.key, "A document that meets a denied model.", {
      headers: { "x-request-id": requestId },
    });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.config.queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    expect(Messages).toHaveLength(1);
    const arn = (
      await stack.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.config.queueUrl, AttributeNames: ["QueueArn"] }),
      )
    ).Attributes!.QueueArn!;
    const lines: string[] = [];
    const logger = createLogger(
      "worker",
      "info",
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const denied: Processor = {
      name: "bedrock",
      process: async () => {
        throw Object.assign(new Error(INTERNAL), { name: "AccessDeniedException" });
      },
    };
    // The last receive the queue allows: the handler gives up and records the failure.
    const record = toRecord(Messages[0]!, arn, stack.config.region);
    const handled = await handleJobRecord(
      { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: "3" } },
      {
        s3: stack.s3,
        jobs: new JobStore(stack.s3, stack.config.bucket),
        processor: denied,
        logger,
        maxReceiveCount: 3,
        observe: () => undefined,
      },
    );
    expect(handled.outcome).toBe("failed");

    const job = (await (
      await fetch(`${stack.apiUrl}/v1/jobs/${jobId}`, { headers: bearer(stack.key) })
    ).json()) as {
      status: string;
      error: { code: string; message: string };
    };
    expect(job.status).toBe("failed");
    expect(job.error).toEqual({
      code: "retries_exhausted",
      message: `the job could not be processed after 3 attempts because of a fault on our side; the operators have been alerted (request id ${requestId})`,
    });
    expect(JSON.stringify(job)).not.toMatch(/arn:aws|444455556666|AccessDenied|bedrock:InvokeModel/);

    const logged = lines.map(
      (l) => JSON.parse(l) as { requestId?: string; msg: string; err?: { message: string } },
    );
    const failure = logged.find((l) => l.msg === "job failed");
    expect(failure?.requestId).toBe(requestId);
    expect(failure?.err?.message).toBe(INTERNAL);
  });
});
