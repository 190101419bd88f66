import { loadConfig } from "@content-engine/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createBatchHandler } from "./batch.ts";
import { createEmfObserver } from "./emf.ts";
import { createWorkerRuntime } from "./runtime.ts";

// Built once per execution environment (cold start), reused by every invocation.
const runtime = createWorkerRuntime(loadConfig());
const emf = createEmfObserver();
const handleBatch = createBatchHandler(runtime.handlerDeps(emf.observe));

/** SQS-triggered Lambda entry point; the event source mapping must enable ReportBatchItemFailures. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  try {
    return await handleBatch(event);
  } finally {
    emf.flush();
  }
}
