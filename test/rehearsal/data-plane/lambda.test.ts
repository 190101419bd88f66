// The Lambda stand-in runs the worker's real deployment package (built by services/worker/build.ts)
// under aws-lambda-rie, fed by the SQS event source stand-in, against the local stack's emulator.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createSqsClient } from "@content-engine/core";
import { type LocalStack, startLocalStack } from "@content-engine/local";
import { unzipSync, zipSync } from "fflate";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  codeSha256,
  type LambdaStandIn,
  type SqsEventSource,
  startLambdaStandIn,
  startSqsEventSource,
} from "./lambda.ts";

let out: string;
let zip: Uint8Array;
let stack: LocalStack;
let sqs: SQSClient;
let queueArn: string;
const running: { lambda?: LambdaStandIn; source?: SqsEventSource } = {};

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), "lambda-stand-in-"));
  execFileSync(process.execPath, ["build.ts", out], { cwd: resolve("services/worker"), stdio: "pipe" });
  zip = readFileSync(join(out, "lambda.zip"));
  stack = await startLocalStack({ port: 0, worker: false, logLevel: "warn" });
  sqs = createSqsClient({ region: stack.config.region, endpoint: stack.emulatorUrl });
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: stack.config.queueUrl, AttributeNames: ["QueueArn"] }),
  );
  queueArn = attributes.Attributes!.QueueArn!;
});

afterEach(async () => {
  await running.source?.stop();
  await running.lambda?.stop();
  running.source = undefined;
  running.lambda = undefined;
});

afterAll(async () => {
  sqs?.destroy();
  await stack?.stop();
  if (out) rmSync(out, { recursive: true, force: true });
});

/** The worker function as terraform configures it: its variables, and the emulator as the endpoint. */
function workerFunction(code: Uint8Array, expectedSha256 = codeSha256(code)) {
  return {
    zip: code,
    codeSha256: expectedSha256,
    handler: "index.handler",
    environment: {
      CONTENT_ENGINE_BUCKET: stack.config.bucket,
      CONTENT_ENGINE_QUEUE_URL: stack.config.queueUrl,
      CONTENT_ENGINE_DLQ_URL: stack.dlqUrl,
      CONTENT_ENGINE_PROCESSOR: "local",
      CONTENT_ENGINE_BEDROCK_MODEL_ID: "",
      LOG_LEVEL: "info",
      AWS_ENDPOINT_URL: stack.emulatorUrl,
    },
    timeoutSeconds: 60,
    memoryMb: 1024,
    functionName: "content-engine-dev-worker",
    region: stack.config.region,
  };
}

function feed(lambda: LambdaStandIn): SqsEventSource {
  return startSqsEventSource({
    lambda,
    sqs,
    queueUrl: stack.config.queueUrl,
    queueArn,
    batchSize: 10,
    region: stack.config.region,
    waitTimeSeconds: 1,
  });
}

async function submit(text: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs?filename=a.txt`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.apiKey}`, "content-type": "text/plain" },
    body: text,
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { jobId: string }).jobId;
}

async function jobStatus(jobId: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/v1/jobs/${jobId}`, {
    headers: { authorization: `Bearer ${stack.apiKey}` },
  });
  return ((await response.json()) as { status: string }).status;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("the Lambda stand-in", () => {
  it("runs the deployed worker zip under RIE and takes a document to succeeded", async () => {
    const lambda = await startLambdaStandIn(workerFunction(zip));
    running.lambda = lambda;
    const jobId = await submit("The harvest was excellent this year. Farmers celebrated in every village.");
    running.source = feed(lambda);

    await until(
      async () => ["succeeded", "failed"].includes(await jobStatus(jobId)),
      "the job finished",
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${lambda.logs()}`);
    });
    expect(await jobStatus(jobId), lambda.logs()).toBe("succeeded");
    const result = await fetch(`${stack.apiUrl}/v1/jobs/${jobId}/result`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    });
    const { summary } = (await result.json()) as { summary?: string[] };
    expect(summary?.length).toBeGreaterThan(0);
    await until(() => running.source!.processed === 1, "the message was deleted", 5000);
    expect(running.source.failedInvocations).toBe(0);
    // The function ran inside RIE, not in this process.
    expect(lambda.logs()).toMatch(/REPORT RequestId: \S+\tInit Duration/);
  }, 90_000);

  it("refuses a zip whose CodeSha256 is not the deployed function's, before running anything", async () => {
    const deployed = codeSha256(zip);
    const other = zipSync({ "index.mjs": new TextEncoder().encode("export const handler = () => 1;\n") });
    await expect(startLambdaStandIn(workerFunction(other, deployed))).rejects.toThrow(
      `the zip's CodeSha256 is ${codeSha256(other)}, but the deployed function's is ${deployed}`,
    );
  });

  it("refuses Lambda's reserved variables in the function's environment, as Lambda does", async () => {
    const config = workerFunction(zip);
    await expect(
      startLambdaStandIn({ ...config, environment: { ...config.environment, AWS_REGION: "eu-west-1" } }),
    ).rejects.toThrow("Reserved keys used in this request: AWS_REGION");
  });

  it("reports the record as a batch item failure when the zip lacks processor-thread.mjs", async () => {
    const { "processor-thread.mjs": dropped, ...rest } = unzipSync(zip);
    expect(dropped).toBeDefined();
    const broken = zipSync(rest);
    const lambda = await startLambdaStandIn(workerFunction(broken));
    running.lambda = lambda;
    const jobId = await submit("A short note that the broken worker cannot analyse.");
    running.source = feed(lambda);

    await until(() => running.source!.released > 0, "the record was released").catch((error: Error) => {
      throw new Error(`${error.message}\n${lambda.logs()}`);
    });
    expect(running.source.processed).toBe(0);
    expect(running.source.failedInvocations).toBe(0);
    expect(await jobStatus(jobId)).not.toBe("succeeded");
    expect(lambda.logs()).toContain("processor-thread.mjs");
  }, 90_000);
});
