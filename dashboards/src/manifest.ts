// What the deploy step needs to know of an environment's generated dashboards, written beside them
// (`generated/manifest/<env>.json`) so that it never reads it back out of the dashboards' JSON: the
// Grafana dashboards to publish, and the deploy marker their "Deploys" annotation shows.
import type { Environment } from "@content-engine/environments";
import type { GridDashboard } from "./grafana/dashboard.ts";

export interface DeployMarker {
  /** observability-apply posts each deploy to Grafana's annotation API with these tags. */
  tags: string[];
}

/**
 * The deploy marker of an environment: the one place its tags are made. The dashboards' "Deploys"
 * annotation shows annotations with exactly these tags, and the manifest hands them to the deploy step.
 */
export function deployMarker(env: Environment): DeployMarker {
  return { tags: ["content-engine", "deploy", env.name] };
}

export interface DashboardManifest {
  environment: string;
  /** In file order, the order observability-apply publishes them in. */
  grafana: Array<{ uid: string; file: string }>;
  deployMarker: DeployMarker;
}

/** The manifest of the Grafana dashboards of `env`, each with its path under dashboards/generated/. */
export function dashboardManifest(
  env: Environment,
  dashboards: Array<{ file: string; dashboard: GridDashboard }>,
): DashboardManifest {
  return {
    environment: env.name,
    grafana: dashboards
      .map(({ file, dashboard }) => ({ uid: dashboard.uid, file }))
      .sort((a, b) => a.file.localeCompare(b.file)),
    deployMarker: deployMarker(env),
  };
}
