import type { IncomingHttpHeaders } from "node:http";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";
import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { CONTENT_TYPES, ServiceError, type SupportedContentType } from "@content-engine/core";
import busboy from "busboy";
import type { H3Event } from "h3";
import { sanitizeFilename } from "./filename.ts";
import { StorageWriteError, writeStreamToS3 } from "./s3-stream-writer.ts";

const EXTENSIONS: Record<string, SupportedContentType> = {
  txt: "text/plain",
  text: "text/plain",
  md: "text/markdown",
  markdown: "text/markdown",
  html: "text/html",
  htm: "text/html",
  json: "application/json",
};
const DEFAULT_NAMES: Record<SupportedContentType, string> = {
  "text/plain": "document.txt",
  "text/markdown": "document.md",
  "text/html": "document.html",
  "application/json": "document.json",
};
const ALIASES: Record<string, SupportedContentType> = { "text/x-markdown": "text/markdown" };

export interface UploadTarget {
  s3: S3Client;
  bucket: string;
  key: string;
  /** S3 metadata for the object once the (sanitised) filename and the form fields before the file are known. */
  metadataFor?: (filename: string, fields: Record<string, string>) => Record<string, string>;
  /** Refuse to replace an existing object: the upload fails with 409 `upload_exists`. */
  createOnly?: boolean;
  maxBytes: number;
}

export interface StoredUpload {
  key: string;
  filename: string;
  contentType: SupportedContentType;
  size: number;
  /** Form fields that came with a multipart upload (e.g. `tasks`). */
  fields: Record<string, string>;
}

/** Maps a media type (header value with parameters) to one we process, or undefined. */
export function supportedType(mediaType: string | undefined | null): SupportedContentType | undefined {
  const base = (mediaType ?? "").split(";")[0]!.trim().toLowerCase();
  if ((CONTENT_TYPES as readonly string[]).includes(base)) return base as SupportedContentType;
  return ALIASES[base];
}

function typeFromFilename(filename: string): SupportedContentType | undefined {
  const ext = filename.split(".").pop()?.toLowerCase() ?? "";
  return EXTENSIONS[ext];
}

const unsupported = (what: string) =>
  new ServiceError(
    415,
    "unsupported_media_type",
    `${what} is not supported; send multipart/form-data with a 'file' part, or a body of ${CONTENT_TYPES.join(", ")}`,
  );
const tooLarge = (max: number) =>
  new ServiceError(413, "payload_too_large", `the upload is larger than the limit of ${max} bytes`);

/** A request as the upload reads it: Node headers and a Node stream. */
export interface UploadSource {
  headers: IncomingHttpHeaders;
  body: Readable;
}

/** The request's headers and body as Node's: its own request under Node's server, the web body under `app.fetch`. */
export function uploadSourceOf(event: H3Event): UploadSource {
  const node = event.runtime?.node?.req;
  if (node) return { headers: node.headers, body: node };
  return {
    headers: Object.fromEntries(event.req.headers.entries()),
    body: event.req.body ? Readable.fromWeb(event.req.body as ReadableStream) : Readable.from([]),
  };
}

/**
 * Streams the request body into S3 without holding it in memory: multipart through busboy (the first
 * `file` part), any other accepted type as the raw body. The size limit is enforced while bytes
 * flow; going over it aborts the S3 upload (multipart parts included) and nothing is left behind.
 */
export async function streamUploadToS3(
  req: UploadSource,
  target: UploadTarget,
  query: { filename?: string | undefined },
): Promise<StoredUpload> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > target.maxBytes + 64 * 1024) throw tooLarge(target.maxBytes);

  const mediaType = req.headers["content-type"];
  const base = (mediaType ?? "").split(";")[0]!.trim().toLowerCase();
  if (base === "multipart/form-data") return receiveMultipart(req, target);

  const contentType = supportedType(mediaType);
  if (!contentType)
    throw unsupported(mediaType ? `Content-Type '${base}'` : "a request without Content-Type");
  const filename = sanitizeFilename(query.filename, DEFAULT_NAMES[contentType]);
  const stored = await storeStream(req.body, target, filename, contentType, {});
  return { ...stored, fields: {} };
}

async function storeStream(
  source: NodeJS.ReadableStream,
  target: UploadTarget,
  filename: string,
  contentType: SupportedContentType,
  fields: Record<string, string>,
): Promise<Omit<StoredUpload, "fields">> {
  const key = target.key;
  const metadata = target.metadataFor?.(filename, fields);
  let size = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > target.maxBytes) callback(tooLarge(target.maxBytes));
      else callback(null, chunk);
    },
  });
  try {
    await pipeline(source, limiter, (chunks: AsyncIterable<Buffer>) =>
      writeStreamToS3(chunks, {
        s3: target.s3,
        bucket: target.bucket,
        key,
        contentType,
        ...(metadata ? { metadata } : {}),
        ...(target.createOnly ? { createOnly: true } : {}),
      }),
    );
  } catch (error) {
    if (error instanceof ServiceError) throw error;
    if (error instanceof StorageWriteError && isPreconditionFailed(error.cause)) {
      throw new ServiceError(409, "upload_exists", "an upload with this key already exists", {
        cause: error,
      });
    }
    if (error instanceof StorageWriteError) {
      throw new ServiceError(503, "storage_unavailable", "the upload could not be stored; try again", {
        cause: error.cause,
        retryAfter: 5,
      });
    }
    throw new ServiceError(400, "upload_interrupted", "the upload stream broke off", { cause: error });
  }
  return { key, filename, contentType, size };
}

function receiveMultipart(req: UploadSource, target: UploadTarget): Promise<StoredUpload> {
  return new Promise<StoredUpload>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { files: 1, fields: 10, fieldSize: 1024, parts: 20, headerPairs: 50 },
      });
    } catch (error) {
      reject(
        new ServiceError(
          400,
          "malformed_multipart",
          `the multipart request cannot be parsed: ${(error as Error).message}`,
        ),
      );
      return;
    }
    const fields: Record<string, string> = {};
    let stored: Promise<Omit<StoredUpload, "fields">> | undefined;
    let settled = false;
    const fail = (error: ServiceError) => {
      if (settled) return;
      settled = true;
      req.body.unpipe(parser);
      parser.removeAllListeners("file");
      // Whatever was already uploaded must go too (storeStream aborts its own upload on error;
      // a file that finished before the form turned out bad is deleted here).
      if (!stored) return reject(error);
      stored
        .then((upload) => target.s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: upload.key })))
        .catch(() => {})
        .finally(() => reject(error));
    };

    parser.on("file", (name, stream, info) => {
      if (name !== "file") {
        stream.resume();
        fail(
          new ServiceError(
            400,
            "unexpected_file_field",
            `the file must be sent in a part named 'file', not '${name}'`,
          ),
        );
        return;
      }
      const filename = sanitizeFilename(info.filename, "document.txt");
      const declared = supportedType(info.mimeType);
      const contentType = declared ?? (isGeneric(info.mimeType) ? typeFromFilename(filename) : undefined);
      if (!contentType) {
        stream.resume();
        fail(unsupported(`a file of type '${info.mimeType}'`));
        return;
      }
      stored = storeStream(stream, target, filename, contentType, { ...fields });
      stored.catch((error: unknown) =>
        fail(error instanceof ServiceError ? error : new ServiceError(500, "internal", "upload failed")),
      );
    });
    parser.on("field", (name, value, info) => {
      if (info.valueTruncated)
        fail(new ServiceError(400, "field_too_long", `the form field '${name}' is too long`));
      else fields[name] = value;
    });
    parser.on("filesLimit", () =>
      fail(new ServiceError(400, "too_many_files", "send exactly one file per job")),
    );
    parser.on("partsLimit", () =>
      fail(new ServiceError(400, "too_many_parts", "the form has too many parts")),
    );
    parser.on("fieldsLimit", () =>
      fail(new ServiceError(400, "too_many_fields", "the form has too many fields")),
    );
    parser.on("error", (error: Error) =>
      fail(new ServiceError(400, "malformed_multipart", `the multipart body is malformed: ${error.message}`)),
    );
    parser.on("close", () => {
      if (settled) return;
      if (!stored) {
        fail(new ServiceError(400, "missing_file", "the form has no 'file' part"));
        return;
      }
      stored.then(
        (upload) => {
          if (settled) return;
          settled = true;
          resolve({ ...upload, fields });
        },
        () => {},
      );
    });
    req.body.on("error", (error) =>
      fail(new ServiceError(400, "upload_interrupted", `the upload broke off: ${error.message}`)),
    );
    req.body.pipe(parser);
  });
}

function isPreconditionFailed(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "PreconditionFailed" || e.$metadata?.httpStatusCode === 412;
}

function isGeneric(mimeType: string): boolean {
  return mimeType === "" || mimeType === "application/octet-stream";
}
