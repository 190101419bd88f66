// The alarms package: the definitions of an environment, and what generation renders from them.
export { type CloudWatchAlarms, renderCloudWatchAlarms } from "./cloudwatch.ts";
export { alarmDefinitions } from "./definitions.ts";
export { evaluateMetricAlarm } from "./evaluator.ts";
export { generatedAlarmsDir, renderAlarms, renderEnvironmentAlarms } from "./generate.ts";
export type { AlarmDefinition, Severity } from "./model.ts";
export { renderPrometheusRules, rulesYaml } from "./prometheus.ts";
