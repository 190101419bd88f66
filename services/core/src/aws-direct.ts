// The two AWS calls every upload makes (PutObject of the upload, SendMessageBatch of its job), sent
// without the SDK's per-command middleware stack.
//
// Why: measured against a stub endpoint (node bench/aws-call-cost.ts), one PutObject of 16 KiB costs
// about 1.0 ms of CPU through S3Client.send and one SendMessageBatch about 1.0 ms through SQSClient.send:
// serde schemas, endpoint rules, middleware resolution, user agent, checksums, and so on for every
// call. Those two calls were three quarters of the API's CPU per upload. The same request signed and
// sent here costs about 0.25 ms.
//
// What stays the SDK's: everything that decides whether a call is right. The endpoint comes from the
// client's own endpoint rules (resolved once per bucket or queue), the signature from the SDK's
// SignatureV4 with the client's credential provider and clock offset, the clock-skew correction from
// the SDK's SigV4 auth scheme (on the client's own `systemClockOffset`), the connection from the
// client's request handler (its connection pool and connect/response/socket deadlines), the retry
// decisions from the client's retry strategy (attempts, backoff, retry quota, Retry-After) with the
// SDK's own error classification. Only the two requests' serialisation and their error parsing are
// ours, and a client whose endpoint needs another auth scheme (S3 Express, multi-region access
// points) or whose retry strategy is a legacy one goes through `send` as before, counted and warned
// about (directFallbackCounts).
//
// The packages this file reaches into are pinned exactly in services/core/package.json; an upgrade
// means re-running test/aws-direct-wire.test.ts, which compares these requests with `send`'s byte
// for byte.
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";
import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from "@aws-sdk/client-s3";
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { AwsSdkSigV4Signer } from "@aws-sdk/core/httpAuthSchemes";
import { getEndpointFromInstructions } from "@smithy/core/endpoints";
import { HttpRequest } from "@smithy/core/protocols";
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import { SignatureV4 } from "@smithy/signature-v4";

/** A call AWS answered with an error, shaped like the SDK's service exceptions (`name` is the AWS code). */
export class AwsCallError extends Error {
  readonly $metadata: {
    httpStatusCode: number;
    requestId?: string | undefined;
    attempts?: number;
    clockSkewCorrected?: boolean;
  };
  readonly $fault: "client" | "server";
  /** S3's clock, from an error document that has one (RequestTimeTooSkewed), as the SDK's errors carry it. */
  readonly ServerTime?: string;
  /** The answer (its body already read), as on the SDK's errors: its Date and Retry-After headers count. */
  declare readonly $response: HttpResponse;

  constructor(
    code: string,
    message: string,
    response: HttpResponse,
    requestId: string | undefined,
    serverTime?: string,
  ) {
    super(message || `${code} (HTTP ${response.statusCode})`);
    this.name = code;
    this.$metadata = { httpStatusCode: response.statusCode, requestId };
    this.$fault = response.statusCode >= 500 ? "server" : "client";
    if (serverTime !== undefined) this.ServerTime = serverTime;
    // Not enumerable, as on the SDK's errors: a logged error does not carry the whole answer.
    Object.defineProperty(this, "$response", { value: response, enumerable: false });
  }
}

/** What the SDK's resolved client config holds that a direct call uses (typed loosely on purpose). */
interface ClientConfig {
  region: () => Promise<string>;
  credentials: ConstructorParameters<typeof SignatureV4>[0]["credentials"];
  sha256: ConstructorParameters<typeof SignatureV4>[0]["sha256"];
  /** Milliseconds the server's clock is ahead of ours: the SDK's own field, which both paths keep. */
  systemClockOffset?: number;
  disableClockSkewCorrection?: () => Promise<boolean>;
  /** S3: `Expect: 100-continue` from this many body bytes (or always / never). */
  expectContinueHeader?: number | boolean;
  isCustomEndpoint?: boolean;
  useQueueUrlAsEndpoint?: boolean;
  requestHandler: {
    handle(request: HttpRequest): Promise<{ response: HttpResponse }>;
  };
  retryStrategy: () => Promise<unknown>;
}

interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: NodeJS.ReadableStream & { toArray?: () => Promise<Buffer[]> };
}

interface RetryToken {
  getRetryDelay(): number;
}
interface RetryStrategyV2 {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(
    token: RetryToken,
    info: { error: unknown; errorType: string; retryAfterHint?: Date },
  ): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
}

interface Target {
  url: URL;
  signer: SignatureV4;
  /** false when the client was configured not to correct its clock (AWS_DISABLE_CLOCK_SKEW_CORRECTION). */
  correctsClockSkew: boolean;
}

/** Why a client cannot take the direct path (it goes through `send`). */
type Unsupported = { unsupported: string };

// One endpoint and signer per client and bucket (or queue endpoint): resolving the rules is the
// expensive part, and neither depends on the object key or the message.
const targets = new WeakMap<object, Map<string, Promise<Target | Unsupported>>>();

function cached(
  client: object,
  key: string,
  resolve: () => Promise<Target | Unsupported>,
): Promise<Target | Unsupported> {
  let perClient = targets.get(client);
  if (!perClient) {
    perClient = new Map();
    targets.set(client, perClient);
  }
  let target = perClient.get(key);
  if (!target) {
    target = resolve();
    // A failed resolution (credentials or region not available yet) is tried again next time.
    target.catch(() => perClient.delete(key));
    perClient.set(key, target);
  }
  return target;
}

async function targetFor(
  config: ClientConfig,
  url: URL,
  service: string,
  region: string,
  escapePath: boolean,
): Promise<Target> {
  return {
    url,
    signer: new SignatureV4({
      credentials: config.credentials,
      sha256: config.sha256,
      service,
      region,
      uriEscapePath: escapePath,
      applyChecksum: true,
    }),
    correctsClockSkew: (await config.disableClockSkewCorrection?.()) !== true,
  };
}

// ---------------------------------------------------------------------------------------------
// Falling back to `send`

export type DirectOperation = "PutObject" | "SendMessageBatch";

const fallbacks: Record<DirectOperation, number> = { PutObject: 0, SendMessageBatch: 0 };
const warned = new WeakMap<object, Set<string>>();

/**
 * Calls of each operation the direct path handed to the SDK's `send` since the process started:
 * 0 in a healthy deployment, where every upload takes the direct path. Each client warns once per
 * reason too (a process warning, code AWS_DIRECT_FALLBACK), so the lost saving is never silent.
 *
 * @example
 * if (directFallbackCounts().PutObject > 0) logger.warn("uploads are going through S3Client.send");
 */
export function directFallbackCounts(): Readonly<Record<DirectOperation, number>> {
  return { ...fallbacks };
}

function reportFallback(client: object, operation: DirectOperation, reason: string): void {
  fallbacks[operation]++;
  let reasons = warned.get(client);
  if (!reasons) {
    reasons = new Set();
    warned.set(client, reasons);
  }
  if (reasons.has(reason)) return;
  reasons.add(reason);
  process.emitWarning(`${operation} goes through the SDK's send, not the direct path: ${reason}`, {
    type: "AwsDirectFallback",
    code: "AWS_DIRECT_FALLBACK",
  });
}

const LEGACY_RETRY_STRATEGY = "the client's retry strategy is a legacy (v1) one";

function isRetryStrategyV2(strategy: unknown): strategy is RetryStrategyV2 {
  const s = strategy as Partial<RetryStrategyV2> | undefined;
  return (
    typeof s?.acquireInitialRetryToken === "function" &&
    typeof s.refreshRetryTokenForRetry === "function" &&
    typeof s.recordSuccess === "function"
  );
}

// ---------------------------------------------------------------------------------------------
// One call: attempts under the client's retry strategy

/** S3's escaping of an object key in a path: every segment URI-encoded, `/` kept. */
function escapeKey(key: string): string {
  return key
    .split("/")
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join("/");
}

/** The whole answer body (small: an empty PutObject answer, a batch result, an error document). */
function collect(body: HttpResponse["body"]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on("data", (chunk: Buffer | string) =>
      chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk),
    );
    body.once("end", () => resolve(Buffer.concat(chunks)));
    body.once("error", reject);
  });
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name] ?? response.headers[name.toLowerCase()];
  return value === undefined ? undefined : String(value);
}

interface Call {
  method: "PUT" | "POST";
  path: string;
  query?: Record<string, string>;
  headers: Record<string, string>;
  body: Uint8Array;
}

// The SDK's SigV4 auth scheme, for its clock-skew bookkeeping only (what `send` runs around each
// signed attempt): every answer's Date header sets the client's `systemClockOffset`, and an error
// whose answer shows our clock minutes off is marked `clockSkewCorrected`, which the retry strategy
// classes as transient. The next attempt is signed with the corrected clock.
const clockSkew = new AwsSdkSigV4Signer();

/**
 * Signs and sends one attempt (a fresh request each time: signing adds headers); a non-2xx answer
 * becomes an AwsCallError from `parseError`.
 */
async function attempt(
  config: ClientConfig,
  target: Target,
  call: Call,
  parseError: (status: number, body: string, response: HttpResponse) => AwsCallError,
): Promise<{ response: HttpResponse; body: Buffer }> {
  const request = new HttpRequest({
    protocol: target.url.protocol,
    hostname: target.url.hostname,
    port: target.url.port ? Number(target.url.port) : undefined,
    method: call.method,
    path: call.path,
    query: call.query,
    headers: {
      ...call.headers,
      // The payload's hash, unless the caller chose UNSIGNED-PAYLOAD (the signer would compute the
      // same through the SDK's hash wrapper and a JS hex encoder).
      "x-amz-content-sha256":
        call.headers["x-amz-content-sha256"] ?? createHash("sha256").update(call.body).digest("hex"),
      host: target.url.host,
      "content-length": String(call.body.byteLength),
    },
    body: call.body,
  });
  const offset = config.systemClockOffset ?? 0;
  // What AwsSdkSigV4Signer.sign records for its success and error handlers, under its names.
  const signing = {
    config,
    _disableClockSkewCorrection: !target.correctsClockSkew,
    _preRequestSystemClockOffset: offset,
    _requestSentAt: Date.now(),
  };
  const signed = (await target.signer.sign(request, {
    signingDate: target.correctsClockSkew ? new Date(signing._requestSentAt + offset) : new Date(),
  })) as HttpRequest;
  const { response } = await config.requestHandler.handle(signed);
  const body = await collect(response.body);
  if (response.statusCode < 200 || response.statusCode > 299) {
    clockSkew.errorHandler(signing)(parseError(response.statusCode, body.toString("utf8"), response));
  }
  clockSkew.successHandler(response, signing);
  return { response, body };
}

/** The SDK's classification of an error for its retry strategy (as its retry middleware does it). */
function errorType(error: unknown): string {
  const e = error as Parameters<typeof isThrottlingError>[0];
  if (isThrottlingError(e)) return "THROTTLING";
  if (isTransientError(e)) return "TRANSIENT";
  if (isServerError(e)) return "SERVER_ERROR";
  return "CLIENT_ERROR";
}

/**
 * Runs `call` under the client's retry strategy: same attempts, backoff, retry quota and Retry-After
 * (the strategy waits at least what the answer's Retry-After asks, at most 5 s beyond its own
 * backoff) as `send`.
 */
async function withRetries<T>(strategy: RetryStrategyV2, call: () => Promise<T>): Promise<T> {
  let token = await strategy.acquireInitialRetryToken("");
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      const out = await call();
      strategy.recordSuccess(token);
      return out;
    } catch (error) {
      try {
        token = await strategy.refreshRetryTokenForRetry(token, {
          error,
          errorType: errorType(error),
          retryAfterHint: getRetryAfterHint((error as { $response?: unknown } | undefined)?.$response),
        });
      } catch {
        const withMetadata = error as { $metadata?: Record<string, unknown> };
        if (withMetadata && typeof withMetadata === "object") {
          withMetadata.$metadata = { ...(withMetadata.$metadata ?? {}), attempts };
        }
        throw error;
      }
      const delay = token.getRetryDelay();
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// S3 PutObject

/** The PutObject fields a direct call sends; the body is in memory (the API's uploads below one part). */
export type DirectPutObjectInput = Pick<
  PutObjectCommandInput,
  "Bucket" | "Key" | "ContentType" | "Metadata" | "IfNoneMatch"
> & { Bucket: string; Key: string; Body: Uint8Array };

/** The operation named in the query, as `send` names it (S3 ignores it; access logs show it). */
const PUT_OBJECT_QUERY = { "x-id": "PutObject" };

function s3Target(s3: S3Client, bucket: string, key: string): Promise<Target | Unsupported> {
  const config = s3.config as unknown as ClientConfig;
  return cached(s3, `s3 ${bucket}`, async () => {
    const endpoint = await getEndpointFromInstructions(
      { Bucket: bucket, Key: key },
      PutObjectCommand as unknown as Parameters<typeof getEndpointFromInstructions>[1],
      s3.config as unknown as Parameters<typeof getEndpointFromInstructions>[2],
    );
    const schemes = (endpoint.properties?.authSchemes ?? []) as Array<{
      name?: string;
      signingName?: string;
      signingRegion?: string;
      disableDoubleEncoding?: boolean;
    }>;
    const scheme = schemes[0];
    if (schemes.length !== 1 || scheme?.name !== "sigv4") {
      return { unsupported: `the endpoint of bucket ${bucket} asks for auth ${schemes.map((s) => s.name)}` };
    }
    if (Object.keys(endpoint.headers ?? {}).length > 0) {
      return { unsupported: `the endpoint of bucket ${bucket} asks for headers of its own` };
    }
    const region = scheme.signingRegion ?? (await config.region());
    const url = new URL(endpoint.url.href);
    return targetFor(config, url, scheme.signingName ?? "s3", region, !scheme.disableDoubleEncoding);
  });
}

function s3Error(status: number, body: string, response: HttpResponse): AwsCallError {
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? "";
  const serverTime = /<ServerTime>([^<]+)<\/ServerTime>/.exec(body)?.[1];
  const fallback = status === 412 ? "PreconditionFailed" : status === 404 ? "NotFound" : `Http${status}`;
  return new AwsCallError(
    code ?? fallback,
    message,
    response,
    header(response, "x-amz-request-id"),
    serverTime,
  );
}

/** The big-endian CRC32 of `body` in base64: S3's `x-amz-checksum-crc32`. */
function crc32Base64(body: Uint8Array): string {
  const bytes = Buffer.allocUnsafe(4);
  bytes.writeUInt32BE(crc32(body));
  return bytes.toString("base64");
}

/**
 * PutObject of an in-memory body, signed and sent directly (see the top of this file); through
 * `s3.send` when the client's endpoint or retry strategy is one this path does not handle. Errors
 * are AwsCallError (`name` is S3's code, e.g. PreconditionFailed) or the request handler's own.
 *
 * @example
 * await putObjectDirect(s3, { Bucket: "uploads", Key: "t/uploads/a.md", Body: bytes, IfNoneMatch: "*" });
 */
export async function putObjectDirect(s3: S3Client, input: DirectPutObjectInput): Promise<{ ETag?: string }> {
  const config = s3.config as unknown as ClientConfig;
  const [target, strategy] = await Promise.all([
    s3Target(s3, input.Bucket, input.Key),
    config.retryStrategy(),
  ]);
  if ("unsupported" in target || !isRetryStrategyV2(strategy)) {
    reportFallback(s3, "PutObject", "unsupported" in target ? target.unsupported : LEGACY_RETRY_STRATEGY);
    return s3.send(new PutObjectCommand(input));
  }
  const basePath = target.url.pathname.replace(/\/$/, "");
  const headers: Record<string, string> = {};
  // The body's integrity: its CRC32, which S3 checks against the bytes it received (a mismatch is
  // refused, BadDigest) and keeps as the object's checksum; the header pair is what `send` sends by
  // default. Chosen over a signed payload (the body's SHA-256 in the signature) for the CPU: a fifth
  // of it (node:zlib crc32 against SHA-256: 4 against 20 µs for 16 KiB, 1.4 against 3.8 ms for 5 MiB).
  // Over TLS, which already stops tampering, what is left to catch is accidental corruption (a bug in
  // our buffering, a bad hop), which a CRC catches. Over plain HTTP (an emulator, a private endpoint)
  // the signature covers the payload too.
  headers["x-amz-sdk-checksum-algorithm"] = "CRC32";
  headers["x-amz-checksum-crc32"] = crc32Base64(input.Body);
  if (target.url.protocol === "https:") headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
  // As the SDK's serialiser: a body without a type is application/octet-stream (S3's own default
  // would be binary/octet-stream, a different stored Content-Type).
  headers["content-type"] = input.ContentType || "application/octet-stream";
  if (input.IfNoneMatch !== undefined) headers["if-none-match"] = input.IfNoneMatch;
  for (const [name, value] of Object.entries(input.Metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
  // As S3Client.send does with a Node request handler: a large body waits for S3's 100 Continue, so
  // a refusal (412 of If-None-Match, 403) comes before megabytes are sent. Not signed.
  const expect = config.expectContinueHeader;
  if (expect === true || (typeof expect === "number" && input.Body.byteLength >= expect)) {
    headers.Expect = "100-continue";
  }
  const call: Call = {
    method: "PUT",
    path: `${basePath}/${escapeKey(input.Key)}`,
    query: PUT_OBJECT_QUERY,
    headers,
    body: input.Body,
  };
  const { response } = await withRetries(strategy, () => attempt(config, target, call, s3Error));
  const etag = header(response, "etag");
  return etag === undefined ? {} : { ETag: etag };
}

// ---------------------------------------------------------------------------------------------
// SQS SendMessageBatch (JSON protocol)

/**
 * A message attribute the direct path can send: a String or a Number, with its StringValue. A Binary
 * one needs the SDK's base64 serialisation: send it with SendMessageBatchCommand.
 */
export interface DirectMessageAttribute {
  DataType: "String" | "Number";
  StringValue: string;
}

/** One SendMessageBatch entry of the direct path: its attributes are strings or numbers. */
export interface DirectMessageBatchEntry {
  Id: string;
  MessageBody: string;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, DirectMessageAttribute>;
  MessageDeduplicationId?: string;
  MessageGroupId?: string;
}

/** The fields of an SQS attribute value (the SDK's MessageAttributeValue), as a caller may pass them. */
interface AnyAttribute {
  DataType?: unknown;
  StringValue?: unknown;
  BinaryValue?: unknown;
  StringListValues?: unknown;
  BinaryListValues?: unknown;
}

const ATTRIBUTE_MAPS = ["MessageAttributes", "MessageSystemAttributes"] as const;

/**
 * Entries are serialised as they are (JSON), which is right for String and Number attributes only:
 * a Binary one would go out as an object of byte indexes. The type rules it out; this catches a
 * caller that got past the type (a cast, JavaScript).
 */
function checkAttributes(entries: readonly DirectMessageBatchEntry[]): void {
  for (const entry of entries) {
    for (const map of ATTRIBUTE_MAPS) {
      const attributes = (entry as { [K in (typeof ATTRIBUTE_MAPS)[number]]?: Record<string, AnyAttribute> })[
        map
      ];
      for (const name in attributes) {
        const a = attributes[name]!;
        if (
          (a.DataType === "String" || a.DataType === "Number") &&
          typeof a.StringValue === "string" &&
          a.BinaryValue === undefined &&
          a.StringListValues === undefined &&
          a.BinaryListValues === undefined
        ) {
          continue;
        }
        throw new TypeError(
          `sendMessageBatchDirect: ${map} "${name}" of entry "${entry.Id}" is ${JSON.stringify(a.DataType)}` +
            ` with ${Object.keys(a).join(", ")}; the direct path sends only String and Number` +
            " attributes with a StringValue (send Binary ones with SendMessageBatchCommand)",
        );
      }
    }
  }
}

function sqsTarget(sqs: SQSClient, queueUrl: string): Promise<Target | Unsupported> {
  const config = sqs.config as unknown as ClientConfig;
  // As the SDK does: the queue URL's own host unless an endpoint was configured, or the client was
  // told not to (useQueueUrlAsEndpoint: false).
  const useQueueUrl = config.useQueueUrlAsEndpoint !== false && !config.isCustomEndpoint;
  const queueOrigin = new URL(queueUrl).origin;
  return cached(sqs, `sqs ${useQueueUrl ? queueOrigin : ""}`, async () => {
    const region = await config.region();
    const url = useQueueUrl
      ? new URL(`${queueOrigin}/`)
      : new URL(
          (
            await getEndpointFromInstructions(
              { QueueUrl: queueUrl },
              SendMessageBatchCommand as unknown as Parameters<typeof getEndpointFromInstructions>[1],
              sqs.config as unknown as Parameters<typeof getEndpointFromInstructions>[2],
            )
          ).url.href,
        );
    return targetFor(config, url, "sqs", region, true);
  });
}

function sqsError(status: number, body: string, response: HttpResponse): AwsCallError {
  let parsed: { __type?: string; message?: string; Message?: string } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // not JSON (a proxy's or load balancer's page): the status speaks
  }
  const type = parsed.__type?.split("#").pop();
  const queryCode = header(response, "x-amzn-query-error")?.split(";")[0];
  return new AwsCallError(
    type ?? queryCode ?? `Http${status}`,
    parsed.message ?? parsed.Message ?? "",
    response,
    header(response, "x-amzn-requestid"),
  );
}

/**
 * SendMessageBatch, signed and sent directly (see the top of this file); through `sqs.send` when the
 * client's retry strategy is not one this path handles. Entries SQS refused come back in `Failed`,
 * as from the SDK. The SDK's MD5 check of each accepted body is not repeated: the connection to SQS
 * is TLS, whose integrity check covers the same bytes.
 *
 * @example
 * await sendMessageBatchDirect(sqs, {
 *   QueueUrl: queueUrl,
 *   Entries: [{ Id: "0", MessageBody: body, MessageAttributes: { requestId: { DataType: "String", StringValue: id } } }],
 * });
 */
export async function sendMessageBatchDirect(
  sqs: SQSClient,
  input: { QueueUrl: string; Entries: DirectMessageBatchEntry[] },
): Promise<Pick<SendMessageBatchCommandOutput, "Successful" | "Failed">> {
  checkAttributes(input.Entries);
  const config = sqs.config as unknown as ClientConfig;
  const [target, strategy] = await Promise.all([sqsTarget(sqs, input.QueueUrl), config.retryStrategy()]);
  if ("unsupported" in target || !isRetryStrategyV2(strategy)) {
    reportFallback(
      sqs,
      "SendMessageBatch",
      "unsupported" in target ? target.unsupported : LEGACY_RETRY_STRATEGY,
    );
    return sqs.send(new SendMessageBatchCommand(input));
  }
  const body = Buffer.from(JSON.stringify({ QueueUrl: input.QueueUrl, Entries: input.Entries }));
  const call: Call = {
    method: "POST",
    path: target.url.pathname,
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "AmazonSQS.SendMessageBatch",
      "x-amzn-query-mode": "true",
    },
    body,
  };
  const { body: answer } = await withRetries(strategy, () => attempt(config, target, call, sqsError));
  const out = JSON.parse(answer.toString("utf8")) as Pick<
    SendMessageBatchCommandOutput,
    "Successful" | "Failed"
  >;
  return { Successful: out.Successful ?? [], Failed: out.Failed ?? [] };
}
