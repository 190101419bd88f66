// Renders every dashboard of every environment; `npm run generate` writes them under
// dashboards/generated/, and a test fails when the committed files differ.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadEnvironments } from "@content-engine/environments";
import { cloudWatchDashboard } from "./cloudwatch.ts";
import { composeAgentConfig } from "./collector.ts";
import { dashboardManifest } from "./manifest.ts";
import { platformDashboard } from "./platform.ts";
import { serviceOverviewDashboard } from "./service-overview.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const generatedDashboardsDir: string = resolve(here, "../generated");
/** The repository's environment files, wherever the command runs from. */
export const repositoryEnvironmentsDir: string = resolve(here, "../../environments");

/** Relative path under dashboards/generated/ → file content. */
export type GeneratedDashboards = Map<string, string>;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export function renderDashboards(environmentsDir = repositoryEnvironmentsDir): GeneratedDashboards {
  const files: GeneratedDashboards = new Map();
  for (const env of loadEnvironments(environmentsDir).environments) {
    const { name } = env;
    const overview = serviceOverviewDashboard(env);
    const platform = platformDashboard(env);
    const grafana = [
      { file: `grafana/${name}-service-overview.json`, dashboard: overview },
      { file: `grafana/${name}-platform.json`, dashboard: platform },
    ];
    for (const { file, dashboard } of grafana) files.set(file, json(dashboard.toGrafana()));
    files.set(`cloudwatch/${name}.json`, json(cloudWatchDashboard(env, [overview, platform])));
    files.set(`manifest/${name}.json`, json(dashboardManifest(env, grafana)));
  }
  // docker-compose.yml mounts it: the same collector template, for the compose network.
  files.set("collector/docker-compose-agent.yml", composeAgentConfig());
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = renderDashboards();
  for (const [path, content] of files) {
    const file = join(generatedDashboardsDir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  process.stdout.write(`dashboards: wrote ${files.size} files under dashboards/generated\n`);
}
