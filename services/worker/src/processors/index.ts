import { BedrockRuntimeClient } from "@aws-sdk/client-bedrock-runtime";
import type { RuntimeConfig } from "@content-engine/core";
import { ProcessorPool } from "../processor-pool.ts";
import { BedrockProcessor } from "./bedrock.ts";
import type { Processor } from "./processor.ts";

export * from "../processor-pool.ts";
export * from "./bedrock.ts";
export * from "./keywords.ts";
export * from "./local-nlp.ts";
export * from "./processor.ts";
export * from "./text.ts";

/** Threads, CPU budget and heap limit of a processor pool, from configuration. */
function poolLimits(config: RuntimeConfig) {
  return {
    threads: config.processorThreads === 0 ? undefined : config.processorThreads,
    budgetMs: config.processingBudgetMs,
    heapMb: config.processingHeapMb,
  };
}

/** Picks the processor named by `CONTENT_ENGINE_PROCESSOR`. */
export function createProcessor(config: RuntimeConfig): Processor {
  if (config.processor === "bedrock") {
    // Not the S3/SQS endpoint override: an emulator does not serve Bedrock. The SDK still honours
    // AWS_ENDPOINT_URL_BEDROCK_RUNTIME for a private endpoint.
    const client = new BedrockRuntimeClient({ region: config.region });
    return new BedrockProcessor(
      client,
      config.bedrockModelId,
      new ProcessorPool({ ...poolLimits(config), operation: "prepare" }),
    );
  }
  return new ProcessorPool(poolLimits(config));
}
