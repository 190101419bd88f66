import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { handleJobRecord, type JobHandlerDeps } from "./job-handler.ts";

export class ReleasedRecordError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ReleasedRecordError";
  }
}

/**
 * The SQS batch handler shared by the Lambda and the consumer: records run in parallel, and the ones
 * to release come back as `batchItemFailures` (Lambda's ReportBatchItemFailures contract).
 */
export function createBatchHandler(deps: JobHandlerDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    const handled = await handleJobRecord(record, deps);
    if (handled.release) throw new ReleasedRecordError(handled.reason ?? handled.outcome ?? "released");
  };
  return async (event) => {
    if (event.Records.length === 0) return { batchItemFailures: [] };
    // A processor per call: the consumer runs batches concurrently and they must not share state.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(event, recordHandler, processor, { throwOnFullBatchFailure: false });
  };
}
