import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { putObjectDirect } from "@content-engine/core";

export interface S3ObjectTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  contentType: string;
  /** S3 user metadata (the job record rides on its upload). */
  metadata?: Record<string, string>;
  /** Only create: S3 refuses (412) when the key exists (`If-None-Match: *`). */
  createOnly?: boolean;
}

export interface S3StreamWriterOptions {
  /** Bytes per multipart part (S3's minimum, except for the last part, is 5 MiB). */
  partSize?: number;
  /** Parts uploading at once. Memory per upload is at most (queueSize + 1) × partSize. */
  queueSize?: number;
}

const MIB = 1024 * 1024;

/** S3 refused or did not answer; distinct from the source stream failing (a client going away). */
export class StorageWriteError extends Error {
  constructor(cause: unknown) {
    super(`S3 write failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StorageWriteError";
  }
}

/**
 * Writes a byte stream to one S3 object without holding it: below one part it is a single
 * PutObject; above, a multipart upload whose parts are copied into a small pool of reusable part
 * buffers. (lib-storage's Upload concatenates a fresh 5 MiB Buffer per part; on a 512 MiB upload
 * that garbage alone pushed the API past its 150 MiB RSS budget.) If the stream or S3 fails, the
 * multipart upload is aborted, so no parts are left behind, and the error is rethrown.
 */
export async function writeStreamToS3(
  chunks: AsyncIterable<Buffer>,
  target: S3ObjectTarget,
  options: S3StreamWriterOptions = {},
): Promise<number> {
  const partSize = options.partSize ?? 5 * MIB;
  const queueSize = options.queueSize ?? 2;
  const { bucket: Bucket, key: Key, contentType: ContentType, metadata: Metadata } = target;
  const IfNoneMatch = target.createOnly ? "*" : undefined;
  const s3 = target.s3;
  const guard = <T>(request: Promise<T>): Promise<T> =>
    request.catch((error: unknown) => {
      throw new StorageWriteError(error);
    });
  let partNumber = 0;

  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  const pool: Buffer[] = [];
  let allocated = 0;
  let uploadId: string | undefined;
  const parts: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  const takeBuffer = async (): Promise<Buffer> => {
    while (pool.length === 0 && allocated > queueSize) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
    const reused = pool.pop();
    if (reused) return reused;
    allocated++;
    return Buffer.allocUnsafe(partSize);
  };

  /** Moves up to `size` pending bytes into a pooled buffer. */
  const fillPart = (buffer: Buffer, size: number): number => {
    let filled = 0;
    while (filled < size && pending.length > 0) {
      const head = pending[0]!;
      const n = head.copy(buffer, filled, 0, Math.min(head.length, size - filled));
      filled += n;
      if (n === head.length) pending.shift();
      else pending[0] = head.subarray(n);
    }
    pendingBytes -= filled;
    return filled;
  };

  const sendPart = async (size: number): Promise<void> => {
    const buffer = await takeBuffer();
    const length = fillPart(buffer, size);
    uploadId ??= (
      await guard(s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType, Metadata })))
    ).UploadId!;
    const PartNumber = ++partNumber;
    const part = new UploadPartCommand({
      Bucket,
      Key,
      UploadId: uploadId,
      PartNumber,
      Body: buffer.subarray(0, length),
    });
    const sending: Promise<void> = guard(s3.send(part))
      .then((out) => {
        parts.push({ PartNumber, ETag: out.ETag! });
      })
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => {
        pool.push(buffer);
        inFlight.delete(sending);
      });
    inFlight.add(sending);
  };

  try {
    for await (const chunk of chunks) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      total += chunk.length;
      while (pendingBytes >= partSize) await sendPart(partSize);
      if (failure !== undefined) throw failure;
    }
    if (uploadId === undefined) {
      const body = Buffer.concat(pending, pendingBytes);
      // The common case (every upload below one part): PutObject without the SDK's middleware stack.
      await guard(putObjectDirect(s3, { Bucket, Key, ContentType, Metadata, IfNoneMatch, Body: body }));
      return total;
    }
    if (pendingBytes > 0) await sendPart(pendingBytes);
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await guard(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId: uploadId,
          IfNoneMatch,
          MultipartUpload: { Parts: parts },
        }),
      ),
    );
    return total;
  } catch (error) {
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch(() => {});
    }
    throw error;
  }
}
