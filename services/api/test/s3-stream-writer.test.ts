import { createHash } from "node:crypto";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { createS3Client } from "@content-engine/core";
import { startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsProxy, startAwsProxy } from "../../../test/support/aws-proxy.ts";
import { StorageWriteError, writeStreamToS3 } from "../src/s3-stream-writer.ts";

const MIB = 1024 * 1024;
let emulator: Awaited<ReturnType<typeof startFauxqs>>;
let s3: S3Client;
let proxy: AwsProxy;
/** The S3 operations that reached the emulator since the last proxy.reset(), on the wire. */
const sent = () => proxy.calls().map((c) => c.operation);

beforeAll(async () => {
  emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  // The writer's requests go through a counting proxy to the emulator, which answers them for real.
  proxy = await startAwsProxy(emulator.address);
  s3 = createS3Client({ region: "us-east-1", endpoint: proxy.url });
  await s3.send(new CreateBucketCommand({ Bucket: "writer-test" }));
});
afterAll(async () => {
  await proxy?.stop();
  await emulator?.stop();
});

/** Deterministic pseudo-random chunks of 64 KiB (so part boundaries fall mid-chunk). */
async function* bytes(total: number, failAfter?: number): AsyncGenerator<Buffer> {
  let produced = 0;
  let seed = 1;
  while (produced < total) {
    if (failAfter !== undefined && produced >= failAfter) throw new Error("client went away");
    const n = Math.min(64 * 1024 + 17, total - produced);
    const chunk = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      chunk[i] = seed & 0xff;
    }
    produced += n;
    yield chunk;
  }
}

async function sha256(source: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of source) hash.update(chunk);
  return hash.digest("hex");
}

const target = (key: string) => ({ s3, bucket: "writer-test", key, contentType: "text/plain" });

describe("streaming writer to S3", () => {
  it("stores a body smaller than one part with a single PutObject", async () => {
    proxy.reset();
    expect(await writeStreamToS3(bytes(300 * 1024), target("small"))).toBe(300 * 1024);
    expect(sent()).toEqual(["PutObject"]);
    const out = await s3.send(new GetObjectCommand({ Bucket: "writer-test", Key: "small" }));
    expect(await sha256(out.Body as AsyncIterable<Uint8Array>)).toBe(await sha256(bytes(300 * 1024)));
  });

  it("stores a 12 MiB body as three ordered parts, byte for byte", async () => {
    proxy.reset();
    expect(await writeStreamToS3(bytes(12 * MIB + 5), target("big"))).toBe(12 * MIB + 5);
    expect(sent().filter((c) => c === "UploadPart")).toHaveLength(3);
    expect(sent().at(-1)).toBe("CompleteMultipartUpload");
    const out = await s3.send(new GetObjectCommand({ Bucket: "writer-test", Key: "big" }));
    expect(out.ContentLength).toBe(12 * MIB + 5);
    expect(await sha256(out.Body as AsyncIterable<Uint8Array>)).toBe(await sha256(bytes(12 * MIB + 5)));
  });

  it("aborts the multipart upload when the source fails mid-way and leaves no object", async () => {
    proxy.reset();
    await expect(writeStreamToS3(bytes(20 * MIB, 11 * MIB), target("broken"))).rejects.toThrow(
      "client went away",
    );
    expect(sent()).toContain("AbortMultipartUpload");
    expect(sent()).not.toContain("CompleteMultipartUpload");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "writer-test", Prefix: "broken" }));
    expect(listed.Contents ?? []).toEqual([]);
  });

  it("reports S3 failures as StorageWriteError, apart from stream failures", async () => {
    const error = await writeStreamToS3(bytes(1024), { ...target("x"), bucket: "no-such-bucket" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageWriteError);
  });
});
