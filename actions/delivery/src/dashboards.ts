// Publishing the generated Grafana dashboards of one environment (dashboards/generated/grafana/<env>-*.json)
// through the Grafana client, and the deploy marker the dashboards' "Deploys" annotation shows.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Environment } from "@content-engine/environments";
import { DeliveryError } from "./errors.ts";
import { readGeneratedJson } from "./generated.ts";
import type { DashboardModel, GrafanaClient } from "./grafana.ts";

/** One dashboard (or folder) to publish: planned first, published only by apply. */
export interface DashboardChange {
  where: "grafana" | "grafana folder" | "cloudwatch";
  name: string;
  action: "create" | "update";
  publish: () => Promise<void>;
}

export function grafanaDashboardFiles(env: Environment, dashboardsDir: string): string[] {
  const dir = join(dashboardsDir, "grafana");
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.startsWith(`${env.name}-`) && f.endsWith(".json"))
        .sort()
        .map((f) => join(dir, f))
    : [];
  if (files.length === 0)
    throw new DeliveryError(`no Grafana dashboards for ${env.name} in ${dir}: run npm run generate`);
  return files;
}

/** The folder and dashboards that differ from what Grafana holds (content, or the folder they sit in). */
export async function grafanaDashboardChanges(
  grafana: GrafanaClient,
  env: Environment,
  dashboardsDir: string,
  folderUid: string,
): Promise<DashboardChange[]> {
  const files = grafanaDashboardFiles(env, dashboardsDir);
  const out: DashboardChange[] = [];
  if (folderUid && !(await grafana.getFolder(folderUid))) {
    out.push({
      where: "grafana folder",
      name: folderUid,
      action: "create",
      publish: async () => {
        await grafana.createFolder(folderUid, folderUid);
      },
    });
  }
  const strip = ({ id: _id, version: _version, ...rest }: DashboardModel) => JSON.stringify(rest);
  for (const file of files) {
    const dashboard = readGeneratedJson<DashboardModel>(file, "generated dashboard");
    const uid = String(dashboard.uid);
    const live = await grafana.getDashboard(uid);
    // Same content in the same folder: nothing to publish.
    if (live && strip(live.dashboard) === strip(dashboard) && (live.meta?.folderUid ?? "") === folderUid)
      continue;
    out.push({
      where: "grafana",
      name: uid,
      action: live ? "update" : "create",
      publish: () =>
        grafana.saveDashboard(dashboard, folderUid, `content-engine observability-apply ${env.name}`),
    });
  }
  return out;
}

/** The tags of the generated dashboards' deploy annotation (one source: what the dashboards show). */
export function deployMarkerTags(env: Environment, dashboardsDir: string): string[] {
  for (const file of grafanaDashboardFiles(env, dashboardsDir)) {
    const dashboard = readGeneratedJson<{
      annotations?: { list?: Array<{ target?: { type?: string; tags?: string[] } }> };
    }>(file, "generated dashboard");
    const marker = dashboard.annotations?.list?.find((a) => a.target?.type === "tags");
    if (marker?.target?.tags?.length) return marker.target.tags;
  }
  throw new DeliveryError(
    `the generated Grafana dashboards of ${env.name} show no deploy annotation: run npm run generate`,
  );
}

/** Posts the deploy marker (image tag and digest of the environment file); returns its text. */
export async function postDeployMarker(
  grafana: GrafanaClient,
  env: Environment,
  dashboardsDir: string,
  now: () => number = Date.now,
): Promise<string> {
  const text = `${env.name}: deployed ${env.image.tag} (${env.image.digest})`;
  await grafana.annotate({ time: now(), tags: deployMarkerTags(env, dashboardsDir), text });
  return text;
}
