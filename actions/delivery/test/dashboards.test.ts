import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { deployMarkerTags, grafanaDashboardChanges, readDashboardManifest } from "../src/dashboards.ts";
import { generatedDashboardsDir } from "../src/generated.ts";
import { GrafanaClient } from "../src/grafana.ts";

const env = testEnvironment();
const committed = generatedDashboardsDir();

/** A copy of the committed generated dashboards, to break one file of. */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "dashboards-"));
  cpSync(committed, dir, { recursive: true });
  return dir;
}

const manifestFile = (dir: string) => join(dir, "manifest", `${env.name}.json`);
const rewrite = (file: string, change: (json: Record<string, unknown>) => Record<string, unknown>) =>
  writeFileSync(file, JSON.stringify(change(JSON.parse(readFileSync(file, "utf8")))));

/** A Grafana that holds no dashboard yet (every lookup answers 404). */
const emptyGrafana = () =>
  new GrafanaClient(
    { url: "http://grafana.test", token: "t" },
    { fetch: async () => new Response('{"message":"Dashboard not found"}', { status: 404 }) },
  );

describe("the dashboard manifest dashboards/ writes", () => {
  it("gives the deploy marker the tags every generated dashboard's Deploys annotation shows", () => {
    const tags = deployMarkerTags(env, committed);
    expect(tags).toEqual(["content-engine", "deploy", env.name]);
    for (const { file } of readDashboardManifest(env, committed).grafana) {
      const dashboard = JSON.parse(readFileSync(join(committed, file), "utf8")) as {
        annotations: { list: Array<{ name: string; target?: { tags?: string[] } }> };
      };
      const deploys = dashboard.annotations.list.find((a) => a.name === "Deploys");
      expect(deploys?.target?.tags, file).toEqual(tags);
    }
  });

  it("names the dashboards to publish, by uid, in the order they are published", async () => {
    const { grafana } = readDashboardManifest(env, committed);
    expect(grafana.map((d) => d.uid)).toEqual([`ce-${env.name}-platform`, `ce-${env.name}-overview`]);
    const changes = await grafanaDashboardChanges(emptyGrafana(), env, committed, "");
    expect(changes.map((c) => `${c.action} ${c.where} ${c.name}`)).toEqual(
      grafana.map((d) => `create grafana ${d.uid}`),
    );
  });

  it("is required: without it nothing is published, and the error says to regenerate", async () => {
    const empty = mkdtempSync(join(tmpdir(), "dashboards-"));
    await expect(grafanaDashboardChanges(emptyGrafana(), env, empty, "")).rejects.toThrow(
      /generated dashboard manifest .*manifest\/dev\.json does not exist: run npm run generate and commit/,
    );
    expect(() => deployMarkerTags(env, empty)).toThrow(/does not exist: run npm run generate/);
  });

  it.each([
    [
      "another environment's",
      (m: Record<string, unknown>) => ({ ...m, environment: "prod" }),
      /is the manifest of prod/,
    ],
    [
      "one without dashboards",
      (m: Record<string, unknown>) => ({ ...m, grafana: [] }),
      /names no Grafana dashboard/,
    ],
    [
      "one whose deploy marker has no tags",
      (m: Record<string, unknown>) => ({ ...m, deployMarker: { tags: [] } }),
      /gives the deploy marker no tags/,
    ],
  ])("refuses %s, naming the file", (_what, change, message) => {
    const dir = scratchCopy();
    rewrite(manifestFile(dir), change);
    expect(() => readDashboardManifest(env, dir)).toThrow(message);
    expect(() => readDashboardManifest(env, dir)).toThrow(
      /manifest\/dev\.json .*run npm run generate and commit/,
    );
  });

  it("refuses to publish a dashboard file that is not the dashboard the manifest names", async () => {
    const dir = scratchCopy();
    const [first] = readDashboardManifest(env, dir).grafana;
    rewrite(join(dir, first!.file), (d) => ({ ...d, uid: "hand-edited" }));
    await expect(grafanaDashboardChanges(emptyGrafana(), env, dir, "")).rejects.toThrow(
      `${join(dir, first!.file)} is not dashboard ${first!.uid}: run npm run generate and commit`,
    );
  });
});
