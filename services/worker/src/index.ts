export * from "./batch.ts";
export * from "./consumer.ts";
export * from "./emf.ts";
export * from "./job-handler.ts";
export * from "./processors/index.ts";
export * from "./prom.ts";
export * from "./runtime.ts";
export * from "./service.ts";
