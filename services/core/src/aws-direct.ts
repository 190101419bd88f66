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
// SignatureV4 with the client's credential provider and clock offset, the connection from the
// client's request handler (its connection pool and connect/response/socket deadlines), the retry
// decisions from the client's retry strategy (attempts, backoff, retry quota) with the SDK's own
// error classification. Only the two requests' serialisation and their error parsing are ours, and a
// client whose endpoint needs another auth scheme (S3 Express, multi-region access points) or whose
// retry strategy is a legacy one goes through `send` as before.
import { createHash } from "node:crypto";
import { PutObjectCommand, type PutObjectCommandInput, type S3Client } from "@aws-sdk/client-s3";
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { getEndpointFromInstructions } from "@smithy/core/endpoints";
import { HttpRequest } from "@smithy/core/protocols";
import { isServerError, isThrottlingError, isTransientError } from "@smithy/core/retry";
import { SignatureV4 } from "@smithy/signature-v4";

/** A call AWS answered with an error, shaped like the SDK's service exceptions (`name` is the AWS code). */
export class AwsCallError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string | undefined; attempts?: number };
  readonly $fault: "client" | "server";

  constructor(code: string, message: string, status: number, requestId: string | undefined) {
    super(message || `${code} (HTTP ${status})`);
    this.name = code;
    this.$metadata = { httpStatusCode: status, requestId };
    this.$fault = status >= 500 ? "server" : "client";
  }
}

/** What the SDK's resolved client config holds that a direct call uses (typed loosely on purpose). */
interface ClientConfig {
  region: () => Promise<string>;
  credentials: ConstructorParameters<typeof SignatureV4>[0]["credentials"];
  sha256: ConstructorParameters<typeof SignatureV4>[0]["sha256"];
  systemClockOffset?: number;
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
    info: { error: unknown; errorType: string },
  ): Promise<RetryToken>;
  recordSuccess(token: RetryToken): void;
}

interface Target {
  url: URL;
  signer: SignatureV4;
}

// One endpoint and signer per client and bucket (or queue endpoint): resolving the rules is the
// expensive part, and neither depends on the object key or the message.
const targets = new WeakMap<object, Map<string, Promise<Target | undefined>>>();

function cached(
  client: object,
  key: string,
  resolve: () => Promise<Target | undefined>,
): Promise<Target | undefined> {
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

function signerFor(config: ClientConfig, service: string, region: string, escapePath: boolean) {
  return new SignatureV4({
    credentials: config.credentials,
    sha256: config.sha256,
    service,
    region,
    uriEscapePath: escapePath,
    applyChecksum: true,
  });
}

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
  headers: Record<string, string>;
  body: Uint8Array;
}

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
  const signed = (await target.signer.sign(request, {
    signingDate: new Date(Date.now() + (config.systemClockOffset ?? 0)),
  })) as HttpRequest;
  const { response } = await config.requestHandler.handle(signed);
  const body = await collect(response.body);
  if (response.statusCode < 200 || response.statusCode > 299) {
    throw parseError(response.statusCode, body.toString("utf8"), response);
  }
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

function isRetryStrategyV2(strategy: unknown): strategy is RetryStrategyV2 {
  const s = strategy as Partial<RetryStrategyV2> | undefined;
  return (
    typeof s?.acquireInitialRetryToken === "function" &&
    typeof s.refreshRetryTokenForRetry === "function" &&
    typeof s.recordSuccess === "function"
  );
}

/** Runs `call` under the client's retry strategy: same attempts, backoff and retry quota as `send`. */
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
        token = await strategy.refreshRetryTokenForRetry(token, { error, errorType: errorType(error) });
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

function s3Target(s3: S3Client, bucket: string, key: string): Promise<Target | undefined> {
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
    if (schemes.length !== 1 || scheme?.name !== "sigv4" || Object.keys(endpoint.headers ?? {}).length > 0)
      return undefined;
    const region = scheme.signingRegion ?? (await config.region());
    return {
      url: new URL(endpoint.url.href),
      signer: signerFor(config, scheme.signingName ?? "s3", region, !scheme.disableDoubleEncoding),
    };
  });
}

function s3Error(status: number, body: string, response: HttpResponse): AwsCallError {
  const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? "";
  const fallback = status === 412 ? "PreconditionFailed" : status === 404 ? "NotFound" : `Http${status}`;
  return new AwsCallError(code ?? fallback, message, status, header(response, "x-amz-request-id"));
}

/**
 * PutObject of an in-memory body, signed and sent directly (see the top of this file); through
 * `s3.send` when the client's endpoint or retry strategy is one this path does not handle. Errors
 * are AwsCallError (`name` is S3's code, e.g. PreconditionFailed) or the request handler's own.
 */
export async function putObjectDirect(s3: S3Client, input: DirectPutObjectInput): Promise<{ ETag?: string }> {
  const config = s3.config as unknown as ClientConfig;
  const [target, strategy] = await Promise.all([
    s3Target(s3, input.Bucket, input.Key),
    config.retryStrategy(),
  ]);
  if (!target || !isRetryStrategyV2(strategy)) return s3.send(new PutObjectCommand(input));
  const basePath = target.url.pathname.replace(/\/$/, "");
  const headers: Record<string, string> = {};
  // Over TLS the payload is not hashed into the signature (as boto3 and the other SDKs do for S3):
  // TLS already protects those bytes, and hashing them was a tenth of the CPU of an upload. Over
  // plain HTTP (an emulator, a private endpoint) the signature covers the payload.
  if (target.url.protocol === "https:") headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
  if (input.ContentType) headers["content-type"] = input.ContentType;
  if (input.IfNoneMatch) headers["if-none-match"] = input.IfNoneMatch;
  for (const [name, value] of Object.entries(input.Metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
  const call: Call = {
    method: "PUT",
    path: `${basePath}/${escapeKey(input.Key)}`,
    headers,
    body: input.Body,
  };
  const { response } = await withRetries(strategy, () => attempt(config, target, call, s3Error));
  const etag = header(response, "etag");
  return etag === undefined ? {} : { ETag: etag };
}

// ---------------------------------------------------------------------------------------------
// SQS SendMessageBatch (JSON protocol)

function sqsTarget(sqs: SQSClient, queueUrl: string): Promise<Target | undefined> {
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
    return { url, signer: signerFor(config, "sqs", region, true) };
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
    status,
    header(response, "x-amzn-requestid"),
  );
}

/**
 * SendMessageBatch, signed and sent directly (see the top of this file); through `sqs.send` when the
 * client's retry strategy is not one this path handles. Entries SQS refused come back in `Failed`,
 * as from the SDK. The SDK's MD5 check of each accepted body is not repeated: the connection to SQS
 * is TLS, whose integrity check covers the same bytes.
 */
export async function sendMessageBatchDirect(
  sqs: SQSClient,
  input: { QueueUrl: string; Entries: SendMessageBatchRequestEntry[] },
): Promise<Pick<SendMessageBatchCommandOutput, "Successful" | "Failed">> {
  const config = sqs.config as unknown as ClientConfig;
  const [target, strategy] = await Promise.all([sqsTarget(sqs, input.QueueUrl), config.retryStrategy()]);
  if (!target || !isRetryStrategyV2(strategy)) return sqs.send(new SendMessageBatchCommand(input));
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
