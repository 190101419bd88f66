export { type CloudWatchDashboard, cloudWatchDashboard } from "./cloudwatch.ts";
export {
  type AgentConfigValues,
  agentArgs,
  agentConfigTemplate,
  composeAgentConfig,
  renderAgentConfig,
} from "./collector.ts";
export { type GeneratedDashboards, generatedDashboardsDir, renderDashboards } from "./generate.ts";
export * from "./grafana.ts";
export { kubernetesNames, platformDashboard } from "./platform.ts";
export {
  type DashboardQuery,
  dashboardQueries,
  dashboardVariableValues,
  resolveGrafanaVariables,
} from "./queries.ts";
export { loadBalancerVariables, queueName, serviceOverviewDashboard } from "./service-overview.ts";
