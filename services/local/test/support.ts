import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { createInterface } from "node:readline";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createS3Client, createSqsClient } from "@content-engine/core";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../src/stack.ts";

export const SECOND_KEY = "second-tenant-key-0123456789";

/** A local stack on free ports with quiet logs; `worker: false` to observe the queue directly. */
export async function startTestStack(
  options: LocalStackOptions = {},
): Promise<LocalStack & { s3: S3Client; sqs: SQSClient; key: string; otherKey: string }> {
  const key = "first-tenant-key-0123456789";
  const stack = await startLocalStack({
    port: 0,
    workerMetricsPort: 0,
    logLevel: "silent",
    apiKeys: `${key}:acme,${SECOND_KEY}:globex`,
    ...options,
  });
  const clients = { region: stack.config.region, endpoint: stack.emulatorUrl };
  return { ...stack, s3: createS3Client(clients), sqs: createSqsClient(clients), key, otherKey: SECOND_KEY };
}

/** The environment a service process started by a test gets: the stack's emulator, bucket, queue and key. */
export function serviceEnv(
  stack: { config: LocalStack["config"]; emulatorUrl: string; key: string },
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: stack.config.region,
    AWS_ENDPOINT_URL: stack.emulatorUrl,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    CONTENT_ENGINE_BUCKET: stack.config.bucket,
    ...(stack.config.keyPrefix ? { CONTENT_ENGINE_KEY_PREFIX: stack.config.keyPrefix } : {}),
    CONTENT_ENGINE_QUEUE_URL: stack.config.queueUrl,
    ...(stack.config.dlqUrl ? { CONTENT_ENGINE_DLQ_URL: stack.config.dlqUrl } : {}),
    CONTENT_ENGINE_REDRIVE_AFTER_SECONDS: String(stack.config.redriveAfterSeconds),
    CONTENT_ENGINE_API_KEYS: `${stack.key}:acme`,
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    ...extra,
  };
}

/** Starts a service entry point as its own process and collects its JSON log lines. */
export function spawnService(entry: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [entry], { env, stdio: ["ignore", "pipe", "pipe"] });
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      lines.push(JSON.parse(line));
    } catch {
      lines.push({ msg: line });
    }
  });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  /** Resolves once the process has exited and all its output has been read. */
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return { child, lines, exited, closed, stderr: () => stderr };
}

export async function listKeys(s3: S3Client, bucket: string, prefix = ""): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

export async function queueCounts(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Waits until a queue has no message left, visible or in flight. */
export function waitForEmptyQueue(sqs: SQSClient, queueUrl: string, timeoutMs = 20_000): Promise<true> {
  return waitFor(
    async () => {
      const c = await queueCounts(sqs, queueUrl);
      return c.visible + c.inFlight === 0;
    },
    timeoutMs,
    "the queue to drain",
  );
}

/**
 * Messages in a DLQ, visible or not: the worker's dead-letter watcher peeks at them
 * (`VisibilityTimeout: 0`), and fauxqs counts a peeked message as in flight until its next receive.
 */
export async function dlqDepth(sqs: SQSClient, dlqUrl: string): Promise<number> {
  const c = await queueCounts(sqs, dlqUrl);
  return c.visible + c.inFlight;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export async function submitText(
  apiUrl: string,
  key: string,
  text: string,
  options: { contentType?: string; query?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${apiUrl}/v1/jobs${options.query ?? ""}`, {
    method: "POST",
    headers: { ...bearer(key), "content-type": options.contentType ?? "text/plain", ...options.headers },
    body: text,
  });
}

/**
 * Sends a body of `totalBytes` in chunks without Content-Length (chunked), as a client streaming
 * a big file does, and returns the status and JSON the server answered — even if it answers and
 * closes before the body is fully sent.
 */
export function streamBody(
  url: string,
  headers: Record<string, string>,
  totalBytes: number,
  chunkBytes = 64 * 1024,
): Promise<{ status: number; body: { error?: { code: string } } & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } });
    const chunk = Buffer.alloc(chunkBytes, "a");
    let sent = 0;
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        data += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data ? JSON.parse(data) : {} }));
    });
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (sent < totalBytes && !answered && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}
