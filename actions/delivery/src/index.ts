export { type AlarmSelector, alarmsInAlarm } from "./alarms.ts";
export { type AwsOptions, createClient } from "./aws.ts";
export {
  type DeployEcsOptions,
  deployEcs,
  imageReference,
  planEcs,
  renderTaskDefinition,
  targetDesiredCount,
} from "./ecs.ts";
export { DeliveryError, explainAwsError } from "./errors.ts";
export {
  codeSha256,
  DEFAULT_WORKER_ZIP,
  type DeployLambdaOptions,
  deployLambda,
  planLambda,
} from "./lambda.ts";
export * from "./outcome.ts";
export { consoleReporter, memoryReporter, type Reporter } from "./reporter.ts";
export { isTransient, type RetryOptions, sleep, withRetry } from "./retry.ts";
export { type Clock, systemClock, type WaitOptions, type WaitResult, waitFor } from "./wait.ts";
