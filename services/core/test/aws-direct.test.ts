// The direct PutObject and SendMessageBatch of every upload (src/aws-direct.ts), against the real
// emulators: fauxqs for what S3 and SQS store and answer, moto for conditional writes and for
// checking signatures (its IAM auth verifies SigV4 like AWS), and a silent backend for deadlines.

import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAwsProxy } from "../../../test/support/aws-proxy.ts";
import { type MotoServer, startMoto } from "../../../test/support/moto.ts";
import {
  AwsCallError,
  createS3Client,
  createSqsClient,
  type DirectMessageBatchEntry,
  directFallbackCounts,
  putObjectDirect,
  sendMessageBatchDirect,
} from "../src/index.ts";
import { settleOpen, startSilentBackend } from "./silent-backend.ts";

process.env.AWS_ACCESS_KEY_ID ??= "local";
process.env.AWS_SECRET_ACCESS_KEY ??= "local";

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as Error & { $metadata?: { httpStatusCode?: number; attempts?: number } },
  );

let emulator: Awaited<ReturnType<typeof startFauxqs>>;
beforeAll(async () => {
  emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
});
afterAll(async () => {
  await emulator.stop();
});
// Every call in this file takes the direct path: a silent fallback to `send` fails the test it is in.
afterEach(() => {
  expect(directFallbackCounts()).toEqual({ PutObject: 0, SendMessageBatch: 0 });
});

describe("direct PutObject", () => {
  // Keys a tenant's filename can put in a path: spaces, reserved and non-ASCII characters.
  const keys = [
    "tenant-a/uploads/plain.txt",
    "tenant-a/uploads/a b+c%20d#e?f=g&h;i,j:k@l$m/report.txt",
    "tenant-a/uploads/ünïcødé 文書/'quoted' (1)*!~.md",
  ];

  it.each(keys)(
    "stores the bytes, type and metadata exactly as PutObjectCommand does (key %s)",
    async (key) => {
      const s3 = createS3Client({ region: "us-east-1", endpoint: emulator.address });
      await s3.send(new CreateBucketCommand({ Bucket: "direct-put" })).catch(() => {});
      const body = Buffer.from(`# report\n\n${"é".repeat(3000)} and some text\n`);
      const metadata = { job: '{"id":"0193","status":"queued"}', filename: "report.txt" };
      const out = await putObjectDirect(s3, {
        Bucket: "direct-put",
        Key: key,
        Body: body,
        ContentType: "text/markdown",
        Metadata: metadata,
      });
      await s3.send(
        new PutObjectCommand({
          Bucket: "direct-put",
          Key: `${key}.sdk`,
          Body: body,
          ContentType: "text/markdown",
          Metadata: metadata,
        }),
      );
      const read = async (k: string) => {
        const got = await s3.send(new GetObjectCommand({ Bucket: "direct-put", Key: k }));
        return {
          bytes: Buffer.from(await got.Body!.transformToByteArray()).toString("base64"),
          contentType: got.ContentType,
          metadata: got.Metadata,
          etag: got.ETag,
        };
      };
      const direct = await read(key);
      expect(direct).toEqual(await read(`${key}.sdk`));
      expect(direct.bytes).toBe(body.toString("base64"));
      expect(out.ETag).toBe(direct.etag);
      s3.destroy();
    },
  );

  it("stores the upload with the CRC32 the SDK computes for the same bytes, which a checked GetObject verifies", async () => {
    const s3 = createS3Client({ region: "us-east-1", endpoint: emulator.address });
    // `send` with the SDK's default flexible checksums, as the oracle of the CRC32.
    const sdk = createS3Client({ region: "us-east-1", endpoint: emulator.address });
    (sdk.config as { requestChecksumCalculation: unknown }).requestChecksumCalculation = async () =>
      "WHEN_SUPPORTED";
    await s3.send(new CreateBucketCommand({ Bucket: "direct-crc" })).catch(() => {});
    const body = Buffer.from(`# report\n\n${"é".repeat(3000)}\n`);
    await putObjectDirect(s3, { Bucket: "direct-crc", Key: "direct", Body: body });
    await sdk.send(new PutObjectCommand({ Bucket: "direct-crc", Key: "sdk", Body: body }));
    // ChecksumMode ENABLED: the SDK checks the bytes it reads against the stored CRC32.
    const read = async (Key: string) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: "direct-crc", Key, ChecksumMode: "ENABLED" }));
      await got.Body!.transformToByteArray();
      return got.ChecksumCRC32;
    };
    const stored = await read("direct");
    expect(stored).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    expect(stored).toBe(await read("sdk"));
    s3.destroy();
    sdk.destroy();
  });

  it("names S3's error code: a missing bucket is NoSuchBucket, answered on the first attempt", async () => {
    const s3 = createS3Client({ region: "us-east-1", endpoint: emulator.address });
    const error = await failure(
      putObjectDirect(s3, { Bucket: "no-such-bucket-here", Key: "k", Body: Buffer.from("x") }),
    );
    expect(error).toBeInstanceOf(AwsCallError);
    expect({
      name: error?.name,
      status: error?.$metadata?.httpStatusCode,
      attempts: error?.$metadata?.attempts,
    }).toEqual({
      name: "NoSuchBucket",
      status: 404,
      attempts: 1,
    });
    s3.destroy();
  });

  it.each([
    ["answered 503", "fail"],
    ["dropped the connection", "reset"],
  ] as const)(
    "retries a PutObject the backend %s, under the client's retry strategy, and stores it once",
    async (_, fault) => {
      const proxy = await startAwsProxy(emulator.address);
      const s3 = createS3Client({ region: "us-east-1", endpoint: proxy.url });
      try {
        await s3.send(new CreateBucketCommand({ Bucket: "direct-retry" })).catch(() => {});
        let faulted = 0;
        proxy.fault = (call) => (call.operation === "PutObject" && faulted++ === 0 ? fault : undefined);
        proxy.reset();
        await putObjectDirect(s3, { Bucket: "direct-retry", Key: `k-${fault}`, Body: Buffer.from("once") });
        expect(proxy.calls().map((c) => [c.operation, c.fault ?? "forwarded"])).toEqual([
          ["PutObject", fault],
          ["PutObject", "forwarded"],
        ]);
        const got = await s3.send(new GetObjectCommand({ Bucket: "direct-retry", Key: `k-${fault}` }));
        expect(await got.Body!.transformToString()).toBe("once");
      } finally {
        s3.destroy();
        await proxy.stop();
      }
    },
  );

  it("gives up on a backend that never answers after the client's attempts and deadlines, leaving no connection open", async () => {
    const silent = await startSilentBackend();
    try {
      const s3 = createS3Client({
        region: "us-east-1",
        endpoint: silent.url,
        awsRequestTimeoutMs: 300,
        awsConnectTimeoutMs: 300,
        awsMaxAttempts: 2,
      });
      const error = await failure(putObjectDirect(s3, { Bucket: "b", Key: "k", Body: Buffer.from("x") }));
      expect(error?.name).toBe("TimeoutError");
      // Two attempts, each on its own connection (the first one timed out), as S3Client.send does.
      expect(silent.accepted()).toBe(2);
      expect(await settleOpen(silent)).toBe(0);
      s3.destroy();
    } finally {
      await silent.close();
    }
  });
});

describe("direct calls checked by moto", () => {
  let moto: MotoServer;
  const region = "eu-west-1";
  let key: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    // moto's IAM auth: after the first 4 (unauthenticated) set-up calls, every request must carry a
    // valid SigV4 signature of a key moto issued, and the user's policy must allow the action.
    moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: "4" } });
    const setup = {
      region,
      endpoint: moto.endpoint,
      credentials: { accessKeyId: "setup", secretAccessKey: "setup" },
    };
    const iam = new IAMClient(setup);
    await iam.send(new CreateUserCommand({ UserName: "api" }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "api",
        PolicyName: "uploads",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["s3:*", "sqs:*"], Resource: "*" }],
        }),
      }),
    );
    const created = await iam.send(new CreateAccessKeyCommand({ UserName: "api" }));
    key = {
      accessKeyId: created.AccessKey!.AccessKeyId!,
      secretAccessKey: created.AccessKey!.SecretAccessKey!,
    };
    const s3 = createS3Client({ region, endpoint: moto.endpoint });
    (s3.config as { credentials: unknown }).credentials = async () => key;
    await s3.send(
      new CreateBucketCommand({
        Bucket: "checked",
        CreateBucketConfiguration: { LocationConstraint: region },
      }),
    );
    iam.destroy();
    s3.destroy();
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  const clientWith = (credentials: { accessKeyId: string; secretAccessKey: string }) => {
    const s3 = createS3Client({ region, endpoint: moto.endpoint });
    (s3.config as { credentials: unknown }).credentials = async () => credentials;
    return s3;
  };

  it("signs a PutObject that moto's SigV4 check accepts, and a wrong secret is refused without retries", async () => {
    const s3 = clientWith(key);
    await putObjectDirect(s3, {
      Bucket: "checked",
      Key: "t/uploads/a b/report.txt",
      Body: Buffer.from("signed"),
    });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: "checked", Key: "t/uploads/a b/report.txt", ChecksumMode: "ENABLED" }),
    );
    expect(head.ContentLength).toBe(6);
    // The CRC32 headers are signed with the rest, and S3 keeps the checksum: 0x1EBBD8C3, of "signed".
    expect(head.ChecksumCRC32).toBe("HrvYww==");

    const forged = clientWith({ accessKeyId: key.accessKeyId, secretAccessKey: "not-the-secret" });
    const error = await failure(
      putObjectDirect(forged, { Bucket: "checked", Key: "t/uploads/forged.txt", Body: Buffer.from("x") }),
    );
    expect({
      name: error?.name,
      status: error?.$metadata?.httpStatusCode,
      attempts: error?.$metadata?.attempts,
    }).toEqual({
      name: "SignatureDoesNotMatch",
      status: 403,
      attempts: 1,
    });
    s3.destroy();
    forged.destroy();
  });

  it("gets the same verdict from moto's signature check as PutObjectCommand, key by key", async () => {
    // moto's check itself refuses some escaped keys that AWS accepts (the SDK's signature fails there
    // too): what matters is that the direct signature never differs from the SDK's.
    const s3 = clientWith(key);
    const verdicts: Record<string, [string, string]> = {};
    for (const name of ["plain.txt", "a b.txt", "ü.txt", "a+b.txt", "q'(1)*!~.txt", "d/e/f.txt"]) {
      const body = Buffer.from(name);
      verdicts[name] = [
        await putObjectDirect(s3, { Bucket: "checked", Key: `direct/${name}`, Body: body }).then(
          () => "stored",
          (e: Error) => e.name,
        ),
        await s3.send(new PutObjectCommand({ Bucket: "checked", Key: `sdk/${name}`, Body: body })).then(
          () => "stored",
          (e: Error) => e.name,
        ),
      ];
    }
    for (const [direct, sdk] of Object.values(verdicts)) expect(direct).toBe(sdk);
    expect(verdicts["plain.txt"]).toEqual(["stored", "stored"]);
    expect(verdicts["a b.txt"]).toEqual(["stored", "stored"]);
    s3.destroy();
  });

  it("refuses to replace an object with If-None-Match: * as PreconditionFailed (412), and keeps the first", async () => {
    const s3 = clientWith(key);
    const put = (body: string) =>
      putObjectDirect(s3, {
        Bucket: "checked",
        Key: "t/jobs/once.json",
        Body: Buffer.from(body),
        IfNoneMatch: "*",
      });
    await put("first");
    const error = await failure(put("second"));
    expect({ name: error?.name, status: error?.$metadata?.httpStatusCode }).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    const kept = await s3.send(new GetObjectCommand({ Bucket: "checked", Key: "t/jobs/once.json" }));
    expect(await kept.Body!.transformToString()).toBe("first");
    s3.destroy();
  });
});

describe("direct SendMessageBatch", () => {
  it("delivers every entry with its attributes, as the SDK would", async () => {
    const sqs = createSqsClient({ region: "us-east-1", endpoint: emulator.address });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "direct-batch" }));
    const bodies = [
      '{"jobId":"a"}',
      '{"jobId":"b ü 文"}',
      JSON.stringify({ jobId: "c", text: "x".repeat(2000) }),
    ];
    const out = await sendMessageBatchDirect(sqs, {
      QueueUrl: QueueUrl!,
      Entries: bodies.map((MessageBody, i) => ({
        Id: String(i),
        MessageBody,
        MessageAttributes: {
          requestId: { DataType: "String", StringValue: `req-${i}` },
          attempt: { DataType: "Number", StringValue: String(i + 1) },
        },
      })),
    });
    expect(out.Failed).toEqual([]);
    expect(out.Successful?.map((s) => s.Id).sort()).toEqual(["0", "1", "2"]);
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    expect(
      got.Messages?.map((m) => [
        m.Body,
        m.MessageAttributes?.requestId?.StringValue,
        m.MessageAttributes?.attempt?.DataType,
        m.MessageAttributes?.attempt?.StringValue,
      ]).sort(),
    ).toEqual(bodies.map((b, i) => [b, `req-${i}`, "Number", String(i + 1)]).sort());
    sqs.destroy();
  });

  it("refuses a Binary attribute, which it cannot serialise, with an error naming it and before sending anything", async () => {
    const proxy = await startAwsProxy(emulator.address);
    const sqs = createSqsClient({ region: "us-east-1", endpoint: proxy.url });
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "direct-binary" }));
      proxy.reset();
      const binary: DirectMessageBatchEntry = {
        Id: "0",
        MessageBody: "x",
        // @ts-expect-error a Binary attribute is not a DirectMessageAttribute
        MessageAttributes: { blob: { DataType: "Binary", BinaryValue: Uint8Array.of(1, 2, 3) } },
      };
      const error = await failure(sendMessageBatchDirect(sqs, { QueueUrl: QueueUrl!, Entries: [binary] }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error?.message).toBe(
        'sendMessageBatchDirect: MessageAttributes "blob" of entry "0" is "Binary" with DataType, BinaryValue;' +
          " the direct path sends only String and Number attributes with a StringValue" +
          " (send Binary ones with SendMessageBatchCommand)",
      );
      expect(proxy.calls()).toEqual([]);
    } finally {
      sqs.destroy();
      await proxy.stop();
    }
  });

  it("reports an entry SQS refused in Failed and still delivers the others", async () => {
    const sqs = createSqsClient({ region: "us-east-1", endpoint: emulator.address });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "direct-refused" }));
    // U+FFFF is outside the characters SQS accepts in a message.
    const out = await sendMessageBatchDirect(sqs, {
      QueueUrl: QueueUrl!,
      Entries: [
        { Id: "ok", MessageBody: "fine" },
        { Id: "bad", MessageBody: "not \uffff fine" },
      ],
    });
    expect(out.Successful?.map((s) => s.Id)).toEqual(["ok"]);
    expect(out.Failed?.map((f) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ["bad", "InvalidMessageContents", true],
    ]);
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(got.Messages?.map((m) => m.Body)).toEqual(["fine"]);
    sqs.destroy();
  });

  it("names SQS's error when the queue does not exist, answered on the first attempt", async () => {
    const sqs = createSqsClient({ region: "us-east-1", endpoint: emulator.address });
    const error = await failure(
      sendMessageBatchDirect(sqs, {
        QueueUrl: `${emulator.address}/000000000000/no-such-queue`,
        Entries: [{ Id: "0", MessageBody: "x" }],
      }),
    );
    expect(error).toBeInstanceOf(AwsCallError);
    expect(error?.name).toMatch(/QueueDoesNotExist|NonExistentQueue/);
    expect(error?.$metadata?.attempts).toBe(1);
    sqs.destroy();
  });
});
