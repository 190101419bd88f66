import { loadConfig } from "@content-engine/core";
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createBatchHandler } from "./batch.ts";
import { createEmfObserver } from "./emf.ts";
import { checkDeadLetterQueue, newDeadLetterState, sweepStalledJobs, sweepWindow } from "./recovery.ts";
import { createWorkerRuntime } from "./runtime.ts";

// Built once per execution environment (cold start), reused by every invocation.
const runtime = createWorkerRuntime(loadConfig());
const emf = createEmfObserver();
const handleBatch = createBatchHandler(runtime.handlerDeps(emf.observe));
const deadLetters = newDeadLetterState();

/**
 * The Lambda entry point. From the SQS event source mapping (which must enable
 * ReportBatchItemFailures) it handles the batch; from the EventBridge schedule terraform sets up
 * (a "Scheduled Event") it runs `recoveryHandler`. One function, one deploy.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse>;
export async function handler(event: ScheduledEvent): Promise<RecoveryResult>;
export async function handler(event: SQSEvent | ScheduledEvent): Promise<SQSBatchResponse | RecoveryResult> {
  if (!("Records" in event)) return recoveryHandler();
  try {
    return await handleBatch(event);
  } finally {
    emf.flush();
  }
}

export interface RecoveryResult {
  markedFailed: number;
  redriven: number;
}

/**
 * What the schedule runs (CONTENT_ENGINE_DLQ_URL set): marks dead-lettered jobs failed, and re-drives
 * uploads that have waited longer than CONTENT_ENGINE_REDRIVE_AFTER_SECONDS with no final record.
 * The consumer does the same in-process.
 */
export async function recoveryHandler(): Promise<RecoveryResult> {
  const { config, sqs, jobs, logger } = runtime;
  const markedFailed = config.dlqUrl
    ? await checkDeadLetterQueue(
        {
          sqs,
          dlqUrl: config.dlqUrl,
          jobs,
          logger,
          maxReceiveCount: config.maxReceiveCount,
        },
        deadLetters,
      )
    : 0;
  const redriven = await sweepStalledJobs({
    sqs,
    queueUrl: config.queueUrl,
    bucket: config.bucket,
    jobs,
    logger,
    ...sweepWindow(config),
  });
  return { markedFailed, redriven: redriven.length };
}
