// The Grafana deploy marker and the job summary link to each other: the marker's text links the run
// (where the summary is) and the GitHub deployment; the summary links the marker's dashboards at the
// deploy's time, and the GitHub deployment.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsFor, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import {
  alarmsFolder,
  createLoadBalancer,
  dashboardsDir,
  type FakeGrafana,
  generatedAlarms,
  startFakeGrafana,
} from "../../observability-apply/test/support.ts";
import { deploymentStateOf, grafanaTarget } from "../src/action.ts";
import { applyObservability } from "../src/observability.ts";
import { memoryReporter } from "../src/reporter.ts";
import { deploymentMarkdown, outcomeMarkdown } from "../src/summary.ts";

const moto = useMoto();
const env = testEnvironment();
let grafana: FakeGrafana;
beforeAll(async () => {
  grafana = await startFakeGrafana();
});
afterAll(() => grafana?.stop());
beforeEach(() => moto.reset());

const RUN = "https://github.com/acme/content-engine/actions/runs/42";
const DEPLOYMENT = "https://github.com/acme/content-engine/deployments/dev";

describe("the deploy marker and the job summary", () => {
  it("links the run and the GitHub deployment from the marker, and the dashboards at the deploy's time from the summary", async () => {
    await createLoadBalancer(moto.endpoint);
    const before = Date.now();
    const outcome = await applyObservability({
      env,
      alarmsDir: alarmsFolder({ ...generatedAlarms("dev"), compositeAlarms: [] }),
      dashboardsDir,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      grafana: {
        url: grafana.url,
        token: grafana.token,
        markerLinks: { run: RUN, deployment: { id: 7, url: DEPLOYMENT } },
      },
      deployMarker: true,
    });
    const marker = grafana.annotations.at(-1)!;
    expect(marker.text).toBe(
      `dev: deployed ${env.image.tag} (${env.image.digest}) · <a href="${RUN}">job summary</a> · <a href="${DEPLOYMENT}">GitHub deployment #7</a>`,
    );
    expect(outcome.outputs["deploy-marker-id"]).toBe(String(grafana.annotations.length));
    const url = new URL(outcome.outputs["deploy-marker-url"]!);
    expect(`${url.origin}${url.pathname}`).toBe(`${grafana.url.replace(/\/$/, "")}/d/ce-dev-platform`);
    const [from, to] = [Number(url.searchParams.get("from")), Number(url.searchParams.get("to"))];
    expect(to - from).toBe(60 * 60_000);
    expect(from + 30 * 60_000).toBe(marker.time);
    expect(marker.time).toBeGreaterThanOrEqual(before);
    expect(outcome.diagnostics.join("\n")).toContain(`/d/ce-dev-overview?from=${from}&to=${to}`);
    expect(outcomeMarkdown(outcome)).toContain(
      `- Grafana deploy marker #${outcome.outputs["deploy-marker-id"]}: [dashboards at the deploy](${outcome.outputs["deploy-marker-url"]}) (30 minutes either side)`,
    );
  });

  it("takes the links from the runner in the action adapter: the run, and the deployment this job recorded", () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, {
        GITHUB_SERVER_URL: "https://github.com",
        GITHUB_REPOSITORY: "acme/content-engine",
        GITHUB_RUN_ID: "42",
        GITHUB_RUN_ATTEMPT: "1",
        CONTENT_ENGINE_DEPLOYMENT_DEV: JSON.stringify({ id: 7, sha: "0".repeat(40) }),
      });
      const target = grafanaTarget({ environment: "dev", "grafana-url": grafana.url, "grafana-token": "t" });
      expect(target?.markerLinks).toEqual({ run: RUN, deployment: { id: 7, url: DEPLOYMENT } });
      delete process.env.CONTENT_ENGINE_DEPLOYMENT_DEV;
      const alone = grafanaTarget({ environment: "dev", "grafana-url": grafana.url, "grafana-token": "t" });
      expect(alone?.markerLinks).toEqual({ run: RUN, deployment: undefined });
    } finally {
      process.env = saved;
    }
  });

  it("names the GitHub deployment in the deploy's summary, and maps outcomes to deployment states", () => {
    expect(
      deploymentMarkdown(
        { id: 7, environment: "dev", environmentUrl: "http://alb.example", htmlUrl: DEPLOYMENT },
        "success",
      ),
    ).toBe(
      `\nGitHub deployment [#7](${DEPLOYMENT}) of dev: \`success\` · environment URL http://alb.example\n`,
    );
    expect(
      deploymentMarkdown(
        { id: undefined, environment: "dev", environmentUrl: undefined, htmlUrl: undefined },
        "success",
      ),
    ).toBe("");
    expect(
      (["succeeded", "unchanged", "started", "rolled_back", "failed", "timed_out"] as const).map(
        deploymentStateOf,
      ),
    ).toEqual(["success", "success", "in_progress", "failure", "failure", "error"]);
  });
});
