import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { AWS_CALL_DEFAULTS } from "./config.ts";
import { NodeSha256 } from "./sha256.ts";

export interface AwsClientOptions {
  region: string;
  /** Endpoint override: AWS when undefined, otherwise an emulator, moto or a private endpoint. */
  endpoint: string | undefined;
  /** Give up on a connection that is not established after this long. Default 3 s. */
  awsConnectTimeoutMs?: number;
  /**
   * Give up on an attempt whose response has not started after this long, or whose socket has
   * been silent this long while a body streams. Default 10 s.
   */
  awsRequestTimeoutMs?: number;
  /** Attempts per call, the first included (the SDK retries timeouts and throttling). Default 3. */
  awsMaxAttempts?: number;
}

type HttpRequest = Parameters<NodeHttpHandler["handle"]>[0];

/** SQS holds a long poll open for up to 20 s before it answers (an empty receive). */
const SQS_MAX_WAIT_SECONDS = 20;

/**
 * The SDK's Node handler with the configured deadlines. A ReceiveMessage long poll is given its wait
 * time on top of the request deadline: its silence is the queue waiting for messages, not a hang.
 */
class DeadlineHttpHandler extends NodeHttpHandler {
  readonly #requestTimeoutMs: number;

  constructor(connectTimeoutMs: number, requestTimeoutMs: number, socketTimeoutMs: number) {
    super({
      connectionTimeout: connectTimeoutMs,
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: socketTimeoutMs,
    });
    this.#requestTimeoutMs = requestTimeoutMs;
  }

  override handle(request: HttpRequest, options: Parameters<NodeHttpHandler["handle"]>[1] = {}) {
    const wait = longPollSeconds(request);
    if (wait > 0 && options.requestTimeout === undefined) {
      return super.handle(request, { ...options, requestTimeout: this.#requestTimeoutMs + wait * 1000 });
    }
    return super.handle(request, options);
  }
}

/** Seconds an SQS ReceiveMessage may wait server-side (its WaitTimeSeconds, or the queue's up to 20). */
function longPollSeconds(request: HttpRequest): number {
  const target = request.headers["x-amz-target"] ?? request.headers["X-Amz-Target"];
  if (target !== "AmazonSQS.ReceiveMessage") return 0;
  try {
    const body =
      request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : String(request.body);
    const wait = (JSON.parse(body) as { WaitTimeSeconds?: number }).WaitTimeSeconds;
    return typeof wait === "number" && wait >= 0
      ? Math.min(wait, SQS_MAX_WAIT_SECONDS)
      : SQS_MAX_WAIT_SECONDS;
  } catch {
    return SQS_MAX_WAIT_SECONDS;
  }
}

function deadlines(options: AwsClientOptions, socketSlackMs: number) {
  const connect = options.awsConnectTimeoutMs ?? AWS_CALL_DEFAULTS.connectTimeoutMs;
  const request = options.awsRequestTimeoutMs ?? AWS_CALL_DEFAULTS.requestTimeoutMs;
  return {
    maxAttempts: options.awsMaxAttempts ?? AWS_CALL_DEFAULTS.maxAttempts,
    requestHandler: new DeadlineHttpHandler(connect, request, request + socketSlackMs),
    // SigV4's hashes with HMAC keys kept as KeyObjects: an eighth of the CPU of a signed call.
    sha256: NodeSha256,
  };
}

/**
 * The one place AWS clients are made. Every call has a deadline (connect, first response byte,
 * socket silence), so a backend that accepts connections and never answers costs at most
 * `awsMaxAttempts × awsRequestTimeoutMs` plus the SDK's short backoff, then fails like any outage.
 * With an endpoint override S3 uses path-style addressing (emulators do not resolve
 * `<bucket>.host`) and SQS sends to the endpoint rather than to the host inside the queue URL.
 */
export function createS3Client(options: AwsClientOptions): S3Client {
  return new S3Client({
    region: options.region,
    ...deadlines(options, 0),
    // No flexible checksums S3 does not require: a CRC32 of every upload cost 7 % of the API's CPU.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
  });
}

export function createSqsClient(options: AwsClientOptions): SQSClient {
  return new SQSClient({
    region: options.region,
    // The socket of a long poll is silent while SQS waits; the request deadline still bounds it.
    ...deadlines(options, SQS_MAX_WAIT_SECONDS * 1000),
    ...(options.endpoint ? { endpoint: options.endpoint, useQueueUrlAsEndpoint: false } : {}),
  });
}
