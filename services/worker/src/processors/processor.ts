import type { JobResult, SupportedContentType, Task } from "@content-engine/core";

export interface ProcessorInput {
  jobId: string;
  text: string;
  tasks: readonly Task[];
}

export type ProcessorOutput = Omit<JobResult, "completedAt">;

/** One AI back end. The worker picks one from configuration; nothing else knows which. */
export interface Processor {
  readonly name: string;
  process(input: ProcessorInput): Promise<ProcessorOutput>;
}

/** A processing failure that retrying cannot fix (bad document, model refused): the job fails. */
export class PermanentProcessingError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "PermanentProcessingError";
    this.code = code;
  }
}

export type { SupportedContentType };
