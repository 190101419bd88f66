import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudWatchClient, DeleteAlarmsCommand, PutDashboardCommand } from "@aws-sdk/client-cloudwatch";
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import {
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createEcsService,
  createWorkerFunction,
  digest,
  testEnvironment,
  workerZip,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import {
  alarmsFolder,
  createLoadBalancer,
  dashboardsDir,
  generatedAlarms,
  startFakeGrafana,
} from "../../observability-apply/test/support.ts";
import { createClient } from "../src/aws.ts";
import {
  type DriftOptions,
  detectDrift,
  driftMarkdown,
  driftOutcome,
  reportDriftIssue,
} from "../src/drift.ts";
import { deployEcs } from "../src/ecs.ts";
import { gitHubClient } from "../src/github.ts";
import { applyObservability } from "../src/observability.ts";
import { memoryReporter } from "../src/reporter.ts";

const moto = useMoto();
const fileDigest = digest("b");
const env = testEnvironment([[["image", "digest"], fileDigest]]);
const fileImage = `${env.image.repository}@${fileDigest}`;
const oldImage = `${env.image.repository}@${digest("a")}`;
const fileZip = workerZip("export const handler = async () => 'file';");
const fast = { pollSeconds: 0.05, progressSeconds: 0, timeoutSeconds: 5 };

let zipFile: string;
let alarmsDir: string;

function options(extra: Partial<DriftOptions> = {}): DriftOptions {
  return {
    env,
    zipFile,
    alarmsDir,
    dashboardsDir,
    aws: awsFor(moto.endpoint),
    reporter: memoryReporter(),
    ...extra,
  };
}

/**
 * dev as its file says, after two deploys: revision :1 ran the old image, :2 (deployed from the file)
 * runs the file's; the alias on the file's zip; alarms and dashboard applied.
 */
async function inSync() {
  const { ecs, taskDefinitionArn: first } = await createEcsService(moto.endpoint, env, oldImage);
  const deployed = await deployEcs({ ...options(), ...fast });
  expect(deployed.status).toBe("succeeded");
  const { lambda } = await createWorkerFunction(moto.endpoint, env, fileZip);
  await createLoadBalancer(moto.endpoint);
  const applied = await applyObservability({ ...options(), reporter: memoryReporter() });
  expect(applied.status).toBe("succeeded");
  return { ecs, lambda, first };
}

beforeEach(async () => {
  await moto.reset();
  const dir = mkdtempSync(join(tmpdir(), "drift-"));
  zipFile = join(dir, "lambda.zip");
  writeFileSync(zipFile, fileZip);
  alarmsDir = alarmsFolder({ ...generatedAlarms("dev"), compositeAlarms: [] });
});
afterEach(() => nock.cleanAll());

/** A hand rollback in the console: the service back on revision :1 (the old image) while :2 is the newest. */
async function handRollbackService(ecs: Awaited<ReturnType<typeof inSync>>["ecs"], first: string) {
  await ecs.send(
    new UpdateServiceCommand({ cluster: env.api.cluster, service: env.api.service, taskDefinition: first }),
  );
}

/** A hand change of the alias: a version with other code behind it. */
async function handMoveAlias(lambda: Awaited<ReturnType<typeof inSync>>["lambda"]) {
  const { functionName, alias } = env.worker;
  await lambda.send(
    new UpdateFunctionCodeCommand({
      FunctionName: functionName,
      ZipFile: workerZip("export const handler = 1;"),
    }),
  );
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: functionName });
  const version = await lambda.send(new PublishVersionCommand({ FunctionName: functionName }));
  await lambda.send(
    new UpdateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: version.Version }),
  );
}

describe("drift against moto", () => {
  it("reports every managed resource of an ECS environment in sync with its file", async () => {
    await inSync();
    const report = await detectDrift(options());
    expect(report.resources.map((r) => [r.kind, r.differs, r.error])).toEqual([
      ["ecs-service", false, undefined],
      ["lambda-alias", false, undefined],
      ["alarms", false, undefined],
      ["dashboards", false, undefined],
    ]);
    expect(report.drifted).toBe(false);
    expect(driftOutcome(report).status).toBe("unchanged");
  });

  it("sees a hand rollback of the ECS service: the image the service runs, not the family's newest revision", async () => {
    const { ecs, first } = await inSync();
    await handRollbackService(ecs, first);
    const report = await detectDrift(options({ reconcile: false }));
    const service = report.resources.find((r) => r.kind === "ecs-service")!;
    expect(service.differs).toBe(true);
    expect(service.changes).toContainEqual({
      field: "image",
      from: oldImage,
      to: fileImage,
    });
    expect(report.resources.filter((r) => r.differs).map((r) => r.kind)).toEqual(["ecs-service"]);
    const outcome = driftOutcome(report);
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe("dev drifted from its file: ecs-service (not reconciled)");
  });

  it("sees a hand-moved Lambda alias (other code behind it)", async () => {
    const { lambda } = await inSync();
    await handMoveAlias(lambda);
    const report = await detectDrift(options({ reconcile: false }));
    expect(report.resources.filter((r) => r.differs).map((r) => r.kind)).toEqual(["lambda-alias"]);
    expect(report.resources.find((r) => r.kind === "lambda-alias")!.changes.map((c) => c.field)).toEqual([
      "code",
    ]);
  });

  it("sees a managed alarm deleted by hand and a dashboard edited by hand", async () => {
    await inSync();
    const cloudwatch = createClient(CloudWatchClient, awsFor(moto.endpoint));
    await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ["content-engine-dev-api-5xx"] }));
    await cloudwatch.send(
      new PutDashboardCommand({
        DashboardName: "content-engine-dev-overview",
        DashboardBody: JSON.stringify({ widgets: [] }),
      }),
    );
    const report = await detectDrift(options({ reconcile: false }));
    const alarms = report.resources.find((r) => r.kind === "alarms")!;
    const dashboards = report.resources.find((r) => r.kind === "dashboards")!;
    expect(alarms.steps).toEqual(["create metric alarm content-engine-dev-api-5xx"]);
    expect(dashboards.differs).toBe(true);
    expect(dashboards.steps).toEqual([
      expect.stringMatching(/^update cloudwatch dashboard content-engine-dev-overview$/),
    ]);
  });

  it("sees a Grafana dashboard edited by hand (Grafana faked) and republishes it on reconcile", async () => {
    const grafana = await startFakeGrafana();
    try {
      await inSync();
      const target = { url: grafana.url, token: grafana.token };
      await applyObservability({ ...options(), grafana: target, reporter: memoryReporter() });
      expect((await detectDrift(options({ grafana: target, reconcile: false }))).drifted).toBe(false);
      const saved = grafana.saved.get("ce-dev-overview")!;
      saved.dashboard = { ...saved.dashboard, title: "edited in the UI" };
      const report = await detectDrift(options({ grafana: target, reconcile: false }));
      const dashboards = report.resources.find((r) => r.kind === "dashboards")!;
      expect(dashboards.steps).toEqual(["update grafana dashboard ce-dev-overview"]);
      const repaired = await detectDrift(options({ grafana: target, reconcile: true }));
      expect(repaired.reconciled?.map((o) => [o.operation, o.status])).toEqual([
        ["observability-apply", "succeeded"],
      ]);
      expect(grafana.saved.get("ce-dev-overview")!.dashboard.title).not.toBe("edited in the UI");
      expect(repaired.after?.filter((r) => r.differs)).toEqual([]);
    } finally {
      await grafana.stop();
    }
  });

  it("reconciles when the file says so (drift.reconcile): service, alias and alarms are put back", async () => {
    const { ecs, lambda, first } = await inSync();
    await handRollbackService(ecs, first);
    await handMoveAlias(lambda);
    await createClient(CloudWatchClient, awsFor(moto.endpoint)).send(
      new DeleteAlarmsCommand({ AlarmNames: ["content-engine-dev-api-5xx"] }),
    );
    expect(env.drift.reconcile).toBe(true); // dev.yaml's setting
    const report = await detectDrift({ ...options(), ...fast } as DriftOptions);
    expect(report.reconciled?.map((o) => [o.operation, o.status])).toEqual([
      ["deploy-ecs", "succeeded"],
      ["deploy-lambda", "succeeded"],
      ["observability-apply", "succeeded"],
    ]);
    expect(report.after?.filter((r) => r.differs)).toEqual([]);
    const outcome = driftOutcome(report);
    expect(outcome.status).toBe("succeeded");
    expect(outcome.reason).toBe(
      "dev drifted (ecs-service, lambda-alias, alarms); reconciled: it matches its file again",
    );
    const summary = driftMarkdown(report);
    expect(summary).toContain(`| ecs-service | \`${env.api.cluster}/${env.api.service}\` | ✏️ differs |`);
    expect(summary).toContain("### After reconcile");
  });

  it("only reports when reconcile is off, whatever the file says", async () => {
    const { ecs, first } = await inSync();
    await handRollbackService(ecs, first);
    const report = await detectDrift(options({ reconcile: false }));
    expect(report.reconciled).toBeUndefined();
    const again = await detectDrift(options({ reconcile: false }));
    expect(again.drifted).toBe(true);
  });

  it("counts a resource it cannot read as unreadable, not in sync, and fails", async () => {
    await inSync();
    const missing = testEnvironment([
      [["image", "digest"], fileDigest],
      [["worker", "functionName"], "no-such-function"],
    ]);
    const report = await detectDrift(options({ env: missing, reconcile: false }));
    const alias = report.resources.find((r) => r.kind === "lambda-alias")!;
    expect(alias.error).toMatch(/Lambda function "no-such-function" does not exist \(worker\.functionName/);
    expect(report.unreadable).toBe(1);
    expect(driftOutcome(report).status).toBe("failed");
  });
});

describe("the drift issue (GitHub faked with nock)", () => {
  const api = "https://github.test";
  const repo = "/repos/acme/content-engine";
  const gh = () => gitHubClient({ token: "t", repository: "acme/content-engine", apiUrl: api, retries: 0 });
  const drifted = {
    environment: "staging",
    checkedAt: "2026-12-07T08:00:00.000Z",
    drifted: true,
    unreadable: 0,
    resources: [
      {
        kind: "ecs-service" as const,
        target: "c/s",
        differs: true,
        changes: [{ field: "image", from: "r@sha256:aa", to: "r@sha256:bb" }],
        steps: [],
      },
    ],
  };
  const title = "Drift: staging differs from environments/staging.yaml";

  it("opens one issue labelled drift for a drifted environment", async () => {
    let created: { title: string; labels: string[]; body: string } | undefined;
    nock(api).get(`${repo}/issues`).query(true).reply(200, []);
    nock(api)
      .post(`${repo}/issues`, (body) => {
        created = body;
        return true;
      })
      .reply(201, { number: 7 });
    expect(await reportDriftIssue(gh(), drifted)).toBe("opened issue #7");
    expect(created?.title).toBe(title);
    expect(created?.labels).toEqual(["drift"]);
    expect(created?.body).toContain("| ecs-service | `c/s` | ✏️ differs | image: r@sha256:aa → r@sha256:bb |");
  });

  it("updates the open issue instead of opening a second one", async () => {
    nock(api)
      .get(`${repo}/issues`)
      .query(true)
      .reply(200, [{ number: 7, title }]);
    const patched = nock(api)
      .patch(`${repo}/issues/7`, (body) => body.body.includes("ecs-service"))
      .reply(200, {});
    expect(await reportDriftIssue(gh(), drifted)).toBe("updated issue #7");
    expect(patched.isDone()).toBe(true);
  });

  it("closes the issue with a comment when the environment is in sync again", async () => {
    nock(api)
      .get(`${repo}/issues`)
      .query(true)
      .reply(200, [{ number: 7, title }]);
    const comment = nock(api).post(`${repo}/issues/7/comments`).reply(201, {});
    const close = nock(api)
      .patch(`${repo}/issues/7`, { state: "closed", state_reason: "completed" })
      .reply(200, {});
    const clear = {
      ...drifted,
      drifted: false,
      resources: [{ ...drifted.resources[0]!, differs: false, changes: [] }],
    };
    expect(await reportDriftIssue(gh(), clear)).toBe("closed issue #7: staging no longer drifts");
    expect(comment.isDone() && close.isDone()).toBe(true);
  });

  it("does nothing when in sync and no issue is open", async () => {
    nock(api).get(`${repo}/issues`).query(true).reply(200, []);
    const clear = { ...drifted, drifted: false, resources: [] };
    expect(await reportDriftIssue(gh(), clear)).toBeUndefined();
  });
});
