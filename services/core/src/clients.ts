// The clients every process of the service builds from its configuration: S3, SQS, and the job store
// over S3 (the API and the worker, Lambda or consumer, each build one set at start).
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createS3Client, createSqsClient } from "./aws.ts";
import type { RuntimeConfig } from "./config.ts";
import { JobStore } from "./job-store.ts";

export interface ServiceClients {
  s3: S3Client;
  sqs: SQSClient;
  jobs: JobStore;
}

export function createServiceClients(config: RuntimeConfig): ServiceClients {
  const s3 = createS3Client(config);
  return { s3, sqs: createSqsClient(config), jobs: new JobStore(s3, config.bucket, config.keyPrefix) };
}
