import type { JobResult, SupportedContentType, Task } from "@content-engine/core";

export interface ProcessorInput {
  jobId: string;
  /** The document's text; with `contentType`, the raw upload the processor extracts the text from. */
  text: string;
  tasks: readonly Task[];
  /**
   * How to read `text` (HTML, markdown, JSON…). Set it to let the processor extract the text itself,
   * off the caller's event loop and within its time budget; leave it out when `text` is plain text.
   */
  contentType?: SupportedContentType;
}

export type ProcessorOutput = Omit<JobResult, "completedAt">;

/** One AI back end. The worker picks one from configuration; nothing else knows which. */
export interface Processor {
  readonly name: string;
  process(input: ProcessorInput): Promise<ProcessorOutput>;
  /** Releases what the processor holds (threads); a long-running service calls it on shutdown. */
  close?(): Promise<void>;
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
