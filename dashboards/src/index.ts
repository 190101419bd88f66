export { type CloudWatchDashboard, cloudWatchDashboard } from "./cloudwatch.ts";
export {
  type AgentConfigValues,
  agentArgs,
  agentConfigTemplate,
  composeAgentConfig,
  renderAgentConfig,
} from "./collector.ts";
export { type GeneratedDashboards, generatedDashboardsDir, renderDashboards } from "./generate.ts";
export * from "./grafana/annotations.ts";
export * from "./grafana/dashboard.ts";
export * from "./grafana/panels.ts";
export * from "./grafana/targets.ts";
export * from "./grafana/variables.ts";
export { type DashboardManifest, type DeployMarker, dashboardManifest, deployMarker } from "./manifest.ts";
export { platformDashboard } from "./platform.ts";
export {
  type DashboardQuery,
  dashboardQueries,
  dashboardVariableValues,
  resolveGrafanaVariables,
} from "./queries.ts";
export { loadBalancerVariables, serviceOverviewDashboard } from "./service-overview.ts";
