import { randomBytes } from "node:crypto";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { type RunningApi, startApiServer } from "@content-engine/api";
import {
  createLogger,
  createS3Client,
  createSqsClient,
  type Logger,
  loadConfig,
  type RuntimeConfig,
} from "@content-engine/core";
import { type RunningWorker, startWorkerService } from "@content-engine/worker";
import { startFauxqs } from "fauxqs";

export interface LocalStackOptions {
  /** API port; 0 picks a free one. Default 8000. */
  port?: number;
  host?: string;
  /** `key:tenant` pairs; default: one generated dev key for tenant `dev`. */
  apiKeys?: string;
  bucket?: string;
  /** CONTENT_ENGINE_KEY_PREFIX of the API and the worker (default "": the bucket's root). */
  keyPrefix?: string;
  queueName?: string;
  /** Start the long-poll worker too (default true). */
  worker?: boolean;
  workerMetricsPort?: number;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  maxUploadBytes?: number;
  workerConcurrency?: number;
  /** Seconds before the worker's sweep re-drives an upload that has no final record (default 900). */
  redriveAfterSeconds?: number;
  /** Start the API, the worker and the clients against this endpoint instead of the emulator (a fault proxy). */
  endpointFor?: (emulatorUrl: string) => Promise<string>;
  logLevel?: string;
  apiLogger?: Logger;
  workerLogger?: Logger;
}

export interface LocalStack {
  config: RuntimeConfig;
  apiUrl: string;
  workerUrl: string | undefined;
  emulatorUrl: string;
  dlqUrl: string;
  /** The generated (or given) first API key. */
  apiKey: string;
  api: RunningApi;
  worker: RunningWorker | undefined;
  stop(): Promise<void>;
}

/**
 * The whole product on one machine: an S3+SQS emulator speaking the AWS wire protocol (fauxqs), the
 * bucket, the jobs queue with its DLQ, the API and the worker consumer. The services get the same
 * configuration they get on AWS, with AWS_ENDPOINT_URL pointing at the emulator.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
  const region = "us-east-1";
  // The emulator accepts any credentials; real AWS ones in the environment are left alone.
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const clientOptions = { region, endpoint: emulator.address };
  const bucket = options.bucket ?? "content-engine-local";
  const queueName = options.queueName ?? "content-engine-jobs";
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const maxReceiveCount = options.maxReceiveCount ?? 3;

  const s3 = createS3Client(clientOptions);
  const sqs = createSqsClient(clientOptions);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${queueName}-dlq`,
      Attributes: { MessageRetentionPeriod: "1209600" },
    }),
  );
  const dlqArn = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ["QueueArn"] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: queueName,
      Attributes: {
        VisibilityTimeout: String(visibility),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn.Attributes!.QueueArn,
          maxReceiveCount,
        }),
      },
    }),
  );
  s3.destroy();
  sqs.destroy();

  const serviceEndpoint = options.endpointFor
    ? await options.endpointFor(emulator.address)
    : emulator.address;
  const apiKey = `dev_${randomBytes(18).toString("base64url")}`;
  const apiKeys = options.apiKeys ?? `${apiKey}:dev`;
  const config = loadConfig({
    AWS_REGION: region,
    AWS_ENDPOINT_URL: serviceEndpoint,
    CONTENT_ENGINE_BUCKET: bucket,
    CONTENT_ENGINE_KEY_PREFIX: options.keyPrefix,
    CONTENT_ENGINE_QUEUE_URL: queue.QueueUrl!,
    CONTENT_ENGINE_DLQ_URL: dlq.QueueUrl!,
    CONTENT_ENGINE_REDRIVE_AFTER_SECONDS: options.redriveAfterSeconds?.toString(),
    CONTENT_ENGINE_API_KEYS: apiKeys,
    CONTENT_ENGINE_MAX_UPLOAD_BYTES: options.maxUploadBytes?.toString(),
    CONTENT_ENGINE_MAX_RECEIVE_COUNT: String(maxReceiveCount),
    CONTENT_ENGINE_VISIBILITY_TIMEOUT: String(visibility),
    CONTENT_ENGINE_WORKER_CONCURRENCY: options.workerConcurrency?.toString(),
    CONTENT_ENGINE_PROCESSOR: process.env.CONTENT_ENGINE_PROCESSOR,
    CONTENT_ENGINE_BEDROCK_MODEL_ID: process.env.CONTENT_ENGINE_BEDROCK_MODEL_ID,
    PORT: String(options.port ?? 8000),
    HOST: options.host ?? "127.0.0.1",
    WORKER_METRICS_PORT: String(options.workerMetricsPort ?? 9100),
    LOG_LEVEL: options.logLevel ?? "info",
  });
  const api = await startApiServer(config, options.apiLogger ?? createLogger("api", config.logLevel));
  const worker =
    options.worker === false
      ? undefined
      : await startWorkerService(config, options.workerLogger ?? createLogger("worker", config.logLevel));

  return {
    config,
    apiUrl: api.url,
    workerUrl: worker?.url,
    emulatorUrl: emulator.address,
    dlqUrl: dlq.QueueUrl!,
    apiKey: apiKeys.split(",")[0]!.replace(/:[^:]*$/, ""),
    api,
    worker,
    async stop() {
      await worker?.stop();
      await api.close();
      await emulator.stop();
    },
  };
}
