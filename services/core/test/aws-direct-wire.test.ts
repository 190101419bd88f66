// The direct PutObject and SendMessageBatch (src/aws-direct.ts) in the configuration production runs:
// the factory's clients with no endpoint override, so HTTPS to AWS's own hostnames, and the same
// requests through the SDK's `send`, caught at the client's request handler (where both paths hand
// over the signed request; below it both share the connection code) with fixed credentials and a
// fixed clock, and compared byte for byte: method, URL, every header including Authorization, body.
// Nothing leaves the machine: the handler answers as AWS would.
//
// The two requests differ only where listed below, each with its reason. To compare the signatures
// too, the SDK's request loses those headers before the SDK signs it (a middleware just before its
// signing middleware), so the comparison covers everything the signature covers.

import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { HttpRequest, HttpResponse } from "@smithy/core/protocols";
import { DeprecatedStandardRetryStrategy } from "@smithy/core/retry";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createS3Client,
  createSqsClient,
  type DirectMessageBatchEntry,
  type DirectPutObjectInput,
  directFallbackCounts,
  putObjectDirect,
  sendMessageBatchDirect,
} from "../src/index.ts";

const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};
const REGION = "eu-west-1";

/** Headers only `send` adds, on both operations: the SDK's bookkeeping, not part of the operation. */
const SDK_ONLY: Record<string, string> = {
  "amz-sdk-invocation-id": "a random id per call, for the SDK's retry bookkeeping (signed, so removed)",
  "amz-sdk-request": "the attempt count, for the SDK's retry bookkeeping (signed, so removed)",
  "x-amz-user-agent": "the SDK's name and version (signed, so removed)",
  "user-agent": "the SDK, OS and feature flags (not signed; removed all the same)",
};

/** What `send` puts in the SDK-only headers on a first attempt. */
const SDK_ONLY_AS_SENT = {
  "amz-sdk-invocation-id": expect.stringMatching(/^[0-9a-f-]{36}$/),
  "amz-sdk-request": "attempt=1; max=3",
  "x-amz-user-agent": expect.stringMatching(/^aws-sdk-js\//),
  "user-agent": expect.stringMatching(/^aws-sdk-js\//),
};

/**
 * PutObject only, x-amz-content-sha256: the direct path sends UNSIGNED-PAYLOAD over TLS, with the
 * body's CRC32 (the choice and its reason are in aws-direct.ts), where `send` signs the body's
 * SHA-256. The SDK's request is given UNSIGNED-PAYLOAD before it signs (its signer takes a preset
 * payload hash as it is), so that the rest of the signature is compared.
 */
const PAYLOAD_HASH = "x-amz-content-sha256";

interface WireRequest {
  method: string;
  url: string;
  /** Every header, by name; the order is not compared: HTTP gives it no meaning and SigV4 sorts. */
  headers: Record<string, string>;
  /** The body, base64. */
  body: string;
}

function wire(request: HttpRequest): WireRequest {
  const query = new URLSearchParams(request.query as Record<string, string>).toString();
  const body = request.body as Uint8Array;
  return {
    method: request.method,
    url: `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ""}${request.path}${query ? `?${query}` : ""}`,
    headers: Object.fromEntries(Object.entries(request.headers).sort(([a], [b]) => a.localeCompare(b))),
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("base64"),
  };
}

interface Interception {
  /** Every request the client's handler was given, signed, in order. */
  sent: WireRequest[];
  /** Per `send` call: the headers removed from the SDK's request before it was signed. */
  removed: Record<string, string>[];
}

/**
 * Replaces the client's request handler with one that records each signed request and answers with
 * `answer` (AWS's answer to it), and strips the SDK-only headers from `send`'s requests before they
 * are signed (with `payloadHash`, sets x-amz-content-sha256 to it).
 */
function intercept(
  client: S3Client | SQSClient,
  answer: (request: WireRequest) => { headers?: Record<string, string>; body?: string },
  payloadHash?: string,
): Interception {
  const seen: Interception = { sent: [], removed: [] };
  const handler = (client.config as unknown as { requestHandler: { handle: unknown } }).requestHandler;
  handler.handle = async (request: HttpRequest) => {
    const recorded = wire(request);
    seen.sent.push(recorded);
    const { headers = {}, body = "" } = answer(recorded);
    return {
      response: new HttpResponse({ statusCode: 200, headers, body: Readable.from([Buffer.from(body)]) }),
    };
  };
  const removeSdkOnlyHeaders =
    (next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      if (HttpRequest.isInstance(args.request)) {
        const headers = args.request.headers;
        const removed: Record<string, string> = {};
        for (const name of Object.keys(SDK_ONLY)) {
          if (headers[name] !== undefined) removed[name] = headers[name];
          delete headers[name];
        }
        if (payloadHash) headers[PAYLOAD_HASH] = payloadHash;
        seen.removed.push(removed);
      }
      return next(args);
    };
  (client.middlewareStack as S3Client["middlewareStack"]).addRelativeTo(
    removeSdkOnlyHeaders as unknown as Parameters<S3Client["middlewareStack"]["addRelativeTo"]>[0],
    { relation: "before", toMiddleware: "httpSigningMiddleware", name: "removeSdkOnlyHeaders" },
  );
  return seen;
}

function withFixedCredentials<C extends S3Client | SQSClient>(client: C): C {
  (client.config as { credentials: unknown }).credentials = async () => CREDENTIALS;
  return client;
}

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

const NO_FALLBACK = { PutObject: 0, SendMessageBatch: 0 };

beforeAll(() => {
  vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-03-04T05:06:07.000Z") });
});
afterAll(() => {
  vi.useRealTimers();
});

describe("direct PutObject over HTTPS to AWS, against S3Client.send", () => {
  const markdown = Buffer.from(`# report\n\n${"é".repeat(300)} and some text\n`);
  const cases: Array<[string, DirectPutObjectInput, string]> = [
    [
      "reserved characters in the key, metadata, If-None-Match",
      {
        Bucket: "uploads-eu",
        Key: "tenant-a/uploads/a b+c%20d#e?f=g&h;i,j:k@l$m/report.txt",
        Body: markdown,
        ContentType: "text/markdown",
        Metadata: { job: '{"id":"0193","status":"queued"}', filename: "report.txt" },
        IfNoneMatch: "*",
      },
      "https://uploads-eu.s3.eu-west-1.amazonaws.com/tenant-a/uploads/a%20b%2Bc%2520d%23e%3Ff%3Dg%26h%3Bi%2Cj%3Ak%40l%24m/report.txt?x-id=PutObject",
    ],
    [
      "a non-ASCII key",
      {
        Bucket: "uploads-eu",
        Key: "tenant-a/uploads/ünïcødé 文書/'quoted' (1)*!~.md",
        Body: markdown,
        ContentType: "text/markdown",
      },
      "https://uploads-eu.s3.eu-west-1.amazonaws.com/tenant-a/uploads/%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%E6%96%87%E6%9B%B8/%27quoted%27%20%281%29%2A%21~.md?x-id=PutObject",
    ],
    [
      "a bucket with dots (path-style, as TLS cannot name it as a host)",
      { Bucket: "uploads.example.com", Key: "t/a.txt", Body: Buffer.from("123456789") },
      "https://s3.eu-west-1.amazonaws.com/uploads.example.com/t/a.txt?x-id=PutObject",
    ],
    [
      "a 3 MiB body (Expect: 100-continue from 2 MiB, as send does)",
      { Bucket: "uploads-eu", Key: "t/big.bin", Body: Buffer.alloc(3 * 1024 * 1024, "x") },
      "https://uploads-eu.s3.eu-west-1.amazonaws.com/t/big.bin?x-id=PutObject",
    ],
  ];

  it.each(cases)(
    "sends what send sends, signature included, but for the listed headers: %s",
    async (_, input, url) => {
      const s3 = withFixedCredentials(createS3Client({ region: REGION, endpoint: undefined }));
      // The SDK's CRC32 too: the factory turns `send`'s flexible checksums off (WHEN_REQUIRED, for the
      // multipart parts' CPU); the direct path always sends one, which is the SDK's default.
      (s3.config as { requestChecksumCalculation: unknown }).requestChecksumCalculation = async () =>
        "WHEN_SUPPORTED";
      const seen = intercept(s3, () => ({ headers: { etag: '"etag-of-it"' } }), "UNSIGNED-PAYLOAD");
      const before = directFallbackCounts();

      expect(await putObjectDirect(s3, input)).toEqual({ ETag: '"etag-of-it"' });
      await s3.send(new PutObjectCommand(input));

      const [direct, sdk] = seen.sent;
      expect(direct?.url).toBe(url);
      expect(direct?.headers["x-amz-content-sha256"]).toBe("UNSIGNED-PAYLOAD");
      // (The body apart: a diff of 3 MiB of base64 says nothing.)
      expect({ ...direct, body: undefined }).toEqual({ ...sdk, body: undefined });
      expect(direct?.body === sdk?.body).toBe(true);
      // The listed differences are what send added, no more, no less.
      expect(seen.removed).toEqual([SDK_ONLY_AS_SENT]);
      expect(directFallbackCounts()).toEqual(before);
      s3.destroy();
    },
  );

  it("sends the body's CRC32 as S3 defines it: big-endian, base64 (the CRC-32 check value of 123456789)", async () => {
    const s3 = withFixedCredentials(createS3Client({ region: REGION, endpoint: undefined }));
    const seen = intercept(s3, () => ({}));
    await putObjectDirect(s3, { Bucket: "uploads-eu", Key: "k", Body: Buffer.from("123456789") });
    // 0xCBF43926
    expect(seen.sent[0]?.headers).toMatchObject({
      "x-amz-sdk-checksum-algorithm": "CRC32",
      "x-amz-checksum-crc32": "y/Q5Jg==",
    });
    s3.destroy();
  });
});

describe("direct SendMessageBatch over HTTPS to AWS, against SQSClient.send", () => {
  const entries: DirectMessageBatchEntry[] = [
    {
      Id: "0",
      MessageBody: '{"jobId":"a"}',
      MessageAttributes: { requestId: { DataType: "String", StringValue: "req-0" } },
    },
    {
      Id: "1",
      MessageBody: '{"jobId":"b ü 文","text":"line\\nbreak \\"quoted\\""}',
      DelaySeconds: 5,
      MessageAttributes: {
        requestId: { DataType: "String", StringValue: "req-1 ü" },
        attempt: { DataType: "Number", StringValue: "2" },
      },
    },
  ];
  const answer = (request: WireRequest) => {
    const sent = JSON.parse(Buffer.from(request.body, "base64").toString("utf8")) as {
      Entries: DirectMessageBatchEntry[];
    };
    return {
      headers: { "content-type": "application/x-amz-json-1.0" },
      body: JSON.stringify({
        Successful: sent.Entries.map((e) => ({
          Id: e.Id,
          MessageId: `m-${e.Id}`,
          MD5OfMessageBody: md5(e.MessageBody),
        })),
        Failed: [],
      }),
    };
  };

  it.each([
    ["a queue URL of SQS's own host", "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"],
    ["a legacy queue URL", "https://eu-west-1.queue.amazonaws.com/123456789012/jobs"],
  ])("sends what send sends, signature included, but for the listed headers: %s", async (_, QueueUrl) => {
    const sqs = withFixedCredentials(createSqsClient({ region: REGION, endpoint: undefined }));
    const seen = intercept(sqs, answer);
    const before = directFallbackCounts();

    const direct = await sendMessageBatchDirect(sqs, { QueueUrl, Entries: entries });
    const sdk = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));

    expect(seen.sent[0]?.url).toBe(`${new URL(QueueUrl).origin}/`);
    expect(seen.sent[0]).toEqual(seen.sent[1]);
    expect(seen.removed).toEqual([SDK_ONLY_AS_SENT]);
    expect(direct).toEqual({ Successful: sdk.Successful, Failed: sdk.Failed });
    expect(directFallbackCounts()).toEqual(before);
    sqs.destroy();
  });
});

describe("a fallback to send", () => {
  it("is counted and warned about once per client and reason, never silent", async () => {
    expect(directFallbackCounts()).toEqual(NO_FALLBACK);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    const s3 = withFixedCredentials(createS3Client({ region: REGION, endpoint: undefined }));
    const sqs = withFixedCredentials(createSqsClient({ region: REGION, endpoint: undefined }));
    try {
      // A legacy (v1) retry strategy is one the direct path does not drive: the calls go through send.
      for (const client of [s3, sqs]) {
        (client.config as { retryStrategy: unknown }).retryStrategy = async () =>
          new DeprecatedStandardRetryStrategy(async () => 3);
      }
      const s3Seen = intercept(s3, () => ({}));
      const sqsSeen = intercept(sqs, () => ({
        headers: { "content-type": "application/x-amz-json-1.0" },
        body: JSON.stringify({ Successful: [{ Id: "0", MessageId: "m", MD5OfMessageBody: md5("x") }] }),
      }));
      const put = { Bucket: "uploads-eu", Key: "k", Body: Buffer.from("x") };
      await putObjectDirect(s3, put);
      await putObjectDirect(s3, put);
      const batch = {
        QueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
        Entries: [{ Id: "0", MessageBody: "x" }],
      };
      await sendMessageBatchDirect(sqs, batch);

      // They went through send (its middleware ran), and they were counted, each.
      expect([...s3Seen.removed, ...sqsSeen.removed]).toHaveLength(3);
      expect(directFallbackCounts()).toEqual({ PutObject: 2, SendMessageBatch: 1 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => [w.name, (w as Error & { code?: string }).code, w.message])).toEqual([
        [
          "AwsDirectFallback",
          "AWS_DIRECT_FALLBACK",
          "PutObject goes through the SDK's send, not the direct path: the client's retry strategy is a legacy (v1) one",
        ],
        [
          "AwsDirectFallback",
          "AWS_DIRECT_FALLBACK",
          "SendMessageBatch goes through the SDK's send, not the direct path: the client's retry strategy is a legacy (v1) one",
        ],
      ]);
    } finally {
      process.off("warning", onWarning);
      s3.destroy();
      sqs.destroy();
    }
  });
});
