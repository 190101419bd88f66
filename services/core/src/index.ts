export * from "./aws.ts";
export * from "./aws-direct.ts";
export * from "./config.ts";
export * from "./errors.ts";
export * from "./job-store.ts";
export * from "./jobs.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export { NodeSha256 } from "./sha256.ts";
