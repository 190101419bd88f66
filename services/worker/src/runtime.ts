import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  createLogger,
  createServiceClients,
  type JobStore,
  type Logger,
  type RuntimeConfig,
} from "@content-engine/core";
import type { JobHandlerDeps } from "./job-handler.ts";
import { createProcessor } from "./processors/index.ts";
import type { Processor } from "./processors/processor.ts";

export interface WorkerRuntime {
  config: RuntimeConfig;
  s3: S3Client;
  sqs: SQSClient;
  jobs: JobStore;
  logger: Logger;
  /** The configured processor; on the local one, a pool of model threads sized to the cores. */
  processor: Processor;
  handlerDeps: (observe: JobHandlerDeps["observe"]) => JobHandlerDeps;
}

/** Builds the worker's clients and handler dependencies from parsed configuration. */
export function createWorkerRuntime(
  config: RuntimeConfig,
  logger = createLogger("worker", config.logLevel),
): WorkerRuntime {
  const { s3, sqs, jobs } = createServiceClients(config);
  const processor = createProcessor(config);
  return {
    config,
    s3,
    sqs,
    jobs,
    logger,
    processor,
    handlerDeps: (observe) => ({
      s3,
      jobs,
      processor,
      logger,
      maxReceiveCount: config.maxReceiveCount,
      observe,
    }),
  };
}
