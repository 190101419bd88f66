export { type CloudWatchDashboard, cloudWatchDashboard } from "./cloudwatch.ts";
export { type GeneratedDashboards, generatedDashboardsDir, renderDashboards } from "./generate.ts";
export * from "./grafana.ts";
export { kubernetesNames, platformDashboard } from "./platform.ts";
export { type DashboardQuery, dashboardQueries, resolveGrafanaVariables } from "./queries.ts";
export { queueName, serviceOverviewDashboard } from "./service-overview.ts";
