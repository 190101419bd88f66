// Publishing the generated Grafana dashboards of one environment through the Grafana client, and the
// deploy marker their "Deploys" annotation shows. Both are named by the manifest dashboards/ writes
// beside them (dashboards/generated/manifest/<env>.json): its uids and files, and the marker's tags.
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

/** dashboards/generated/manifest/<env>.json, as dashboards/src/manifest.ts writes it. */
export interface DashboardManifest {
  environment: string;
  /** Each Grafana dashboard by uid, its `file` relative to the generated folder; in publishing order. */
  grafana: Array<{ uid: string; file: string }>;
  deployMarker: { tags: string[] };
}

/** The manifest of the environment's generated dashboards; one that is missing or stale says to regenerate. */
export function readDashboardManifest(env: Environment, dashboardsDir: string): DashboardManifest {
  const file = join(dashboardsDir, "manifest", `${env.name}.json`);
  const manifest = readGeneratedJson<DashboardManifest>(file, "generated dashboard manifest");
  const stale = (what: string) => new DeliveryError(`${file} ${what}: run npm run generate and commit`);
  if (manifest.environment !== env.name) throw stale(`is the manifest of ${manifest.environment}`);
  if (!manifest.grafana?.length) throw stale("names no Grafana dashboard");
  if (!manifest.deployMarker?.tags?.length) throw stale("gives the deploy marker no tags");
  return manifest;
}

/** The folder and dashboards that differ from what Grafana holds (content, or the folder they sit in). */
export async function grafanaDashboardChanges(
  grafana: GrafanaClient,
  env: Environment,
  dashboardsDir: string,
  folderUid: string,
): Promise<DashboardChange[]> {
  const { grafana: dashboards } = readDashboardManifest(env, dashboardsDir);
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
  for (const { uid, file } of dashboards) {
    const path = join(dashboardsDir, file);
    const dashboard = readGeneratedJson<DashboardModel>(path, "generated dashboard");
    if (dashboard.uid !== uid)
      throw new DeliveryError(`${path} is not dashboard ${uid}: run npm run generate and commit`);
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

/** The tags the deploy marker carries: the manifest's, which the dashboards' "Deploys" annotation shows. */
export function deployMarkerTags(env: Environment, dashboardsDir: string): string[] {
  return readDashboardManifest(env, dashboardsDir).deployMarker.tags;
}
