export {
  actionEnvironment,
  actionReporter,
  awsOverride,
  booleanInput,
  deployInputs,
  deployOptions,
  environmentInputs,
  environmentOptions,
  gitHubInputs,
  gitHubOptions,
  grafanaInputs,
  grafanaTarget,
  pullRequestInputs,
  pullRequestOptions,
  readInputs,
  runAction,
  runDeployAction,
  splitList,
  workspacePath,
  writeSummary,
} from "./action.ts";
export { type AlarmSelector, alarmsInAlarm } from "./alarms.ts";
export { type AwsOptions, createClient } from "./aws.ts";
export { type BuildPushOptions, buildPush, buildxArgs, planBuildPush } from "./build.ts";
export {
  type CommandOptions,
  type CommandResult,
  type CommandRunner,
  runChecked,
  runCommand,
} from "./command.ts";
export {
  type DeploymentHandle,
  type DeploymentState,
  deactivate,
  environmentUrlOf,
  runUrl,
  type StartDeploymentOptions,
  startDeployment,
} from "./deployments.ts";
export {
  DRIFT_LABEL,
  type DriftOptions,
  type DriftReport,
  detectDrift,
  driftIssueTitle,
  driftMarkdown,
  driftOutcome,
  driftRemains,
  reportDriftIssue,
} from "./drift.ts";
export { ecrLogin, type RegistryLogin } from "./ecr.ts";
export { type DeployEcsOptions, deployEcs, ECS_TIMEOUT_SECONDS, planEcs, targetDesiredCount } from "./ecs.ts";
export { imageReference, renderTaskDefinition } from "./ecs-task-definition.ts";
export { EKS_TOKEN_PREFIX, eksToken, renderKubeconfig, resolveCredentials, writeKubeconfig } from "./eks.ts";
export {
  type EnvironmentPlanOptions,
  environmentPlanMarkdown,
  planEnvironment,
  type ResourceKind,
  type ResourcePlan,
} from "./environment-plan.ts";
export {
  describeEnvironmentSet,
  type EnvironmentSetOptions,
  type EnvironmentSetSummary,
} from "./environment-set.ts";
export { DeliveryError, explainAwsError } from "./errors.ts";
export {
  activeFreezeWindow,
  breakGlassOverride,
  describeFreezeWindow,
  freezeGated,
  freezeRefusal,
} from "./freeze.ts";
export { generatedAlarmsDir, generatedDashboardsDir, repositoryRoot } from "./generated.ts";
export { type GitHub, type GitHubOptions, gitHubClient } from "./github.ts";
export { GrafanaClient, GrafanaHttpError } from "./grafana.ts";
export {
  DEFAULT_KUBE_VERSION,
  type DeployHelmOptions,
  deployHelm,
  HELM_TIMEOUT_SECONDS,
  helmMajorVersion,
  helmUpgradeArgs,
  planHelm,
} from "./helm.ts";
export {
  planHelmRollback,
  planHelmUninstall,
  recoverPendingRelease,
  rollbackHelm,
  uninstallHelm,
} from "./helm-release.ts";
export {
  DEFAULT_CHART,
  generatedRuleGroups,
  helmValues,
  layeredValues,
  releaseValues,
} from "./helm-values.ts";
export { type KubeAccess, kubeAccessFromConfig } from "./kube.ts";
export { recentEvents } from "./kube-diagnostics.ts";
export {
  codeSha256,
  DEFAULT_WORKER_ZIP,
  type DeployLambdaOptions,
  deployLambda,
  LAMBDA_TIMEOUT_SECONDS,
  planLambda,
  withWorkerImage,
} from "./lambda.ts";
export {
  type CanaryOverride,
  type CanarySchedule,
  canarySchedule,
  describeSchedule,
  overrideCanary,
} from "./lambda-canary.ts";
export {
  applyObservability,
  type GrafanaTarget,
  MANAGED_BY,
  type ObservabilityOptions,
  planObservability,
} from "./observability.ts";
export * from "./outcome.ts";
export { commentOnPullRequest, loadPreviewBase, runPreview } from "./preview-run.ts";
export { gitShaFromTag, type PromoteOptions, planPromote, promote } from "./promote.ts";
export {
  configDiff,
  openPullRequest,
  type PullRequestChange,
  type PullRequestResult,
} from "./pull-request.ts";
export { consoleReporter, memoryReporter, type Reporter } from "./reporter.ts";
export { isTransient, type RetryOptions, sleep, withRetry } from "./retry.ts";
export {
  DEFAULT_HISTORY_LIMIT,
  type EnvironmentState,
  planRollback,
  type RollbackOptions,
  rollback,
} from "./rollback.ts";
export {
  bundleCodeSha256,
  readServing,
  type Serving,
  type ServingOptions,
  servingMismatches,
} from "./serving.ts";
export {
  attachSbom,
  cosignReference,
  DEPLOYED_TAG_PREFIX,
  deployedTag,
  keepDeployed,
  SBOM_ARTIFACT_TYPE,
  signatureTag,
  verifyArtifacts,
  verifyManifestSignature,
} from "./signing.ts";
export { outcomeMarkdown, planMarkdown } from "./summary.ts";
export { type Clock, systemClock, type WaitOptions, type WaitResult, waitFor } from "./wait.ts";
