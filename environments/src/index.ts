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
  listEnvironmentNames,
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
export {
  isPreviewName,
  MAX_PREVIEW_NUMBER,
  PREVIEW_CREATED_AT_TAG,
  PREVIEW_NAME_PATTERN,
  PREVIEW_PULL_REQUEST_TAG,
  PREVIEW_TAG,
  type PreviewAwareEnvironment,
  type PreviewNames,
  type PreviewSettings,
  parsePreviewName,
  previewEnvironment,
  previewName,
  previewNames,
  previewNumber,
} from "./preview.ts";
export * from "./schema.ts";
export { type EnvironmentSet, environmentNames, loadEnvironments, type Promotion } from "./set.ts";
