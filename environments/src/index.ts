export {
  type FieldChange,
  type FieldPath,
  getEnvironmentField,
  setEnvironmentFields,
  updateEnvironmentFile,
} from "./edit.ts";
export { EnvironmentError, formatIssues } from "./errors.ts";
export { environmentJsonSchema } from "./json-schema.ts";
export {
  assertEnvironmentName,
  defaultEnvironmentsDir,
  displayPath,
  environmentFile,
  environmentSource,
  isEnvironmentName,
  loadEnvironment,
  loadEnvironmentFile,
  parseEnvironment,
  readEnvironmentFile,
  repositoryPath,
} from "./load.ts";
export {
  ALB_REFERENCE,
  type AlbReferenceKind,
  alarmName,
  alarmNamePrefix,
  albReference,
  apiTaskFamily,
  CHART_NAME,
  cloudWatchDashboardName,
  helmFullname,
  type KubernetesNames,
  kubernetesNames,
  loadBalancerNames,
  queueNames,
  ruleGroupName,
} from "./names.ts";
export * from "./schema.ts";
