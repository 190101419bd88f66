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
} from "./load.ts";
export {
  ALB_REFERENCE,
  type AlbReferenceKind,
  albReference,
  CHART_NAME,
  helmFullname,
  type KubernetesNames,
  kubernetesNames,
  loadBalancerNames,
} from "./names.ts";
export * from "./schema.ts";
