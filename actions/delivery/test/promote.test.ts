import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { UpdateServiceCommand } from "@aws-sdk/client-ecs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { environmentNames, loadEnvironment, setEnvironmentFields } from "@content-engine/environments";
import nock from "nock";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createAlarm,
  createEcsService,
  createWorkerFunction,
  digest,
  ENVIRONMENTS_DIR,
  workerZip,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { DeliveryError } from "../src/errors.ts";
import { type PromoteOptions, planPromote, promote } from "../src/promote.ts";
import { memoryReporter } from "../src/reporter.ts";

const moto = useMoto();
const api = "https://github.test";
const repo = "/repos/acme/content-engine";
const newSha = "bbbbbbb";
const oldSha = "aaaaaaa";
// A Wednesday noon (UTC): outside prod's Friday and weekend freezes.
const wednesdayNoon = Date.parse("2026-11-25T12:00:00Z");
const clockAt = (ms: number) => ({ now: () => ms, sleep: async () => {} });

async function assumeRole(roleArn: string) {
  const sts = new STSClient(awsFor(moto.endpoint));
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "test" }),
  );
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  };
}

function environmentsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "promote-"));
  for (const name of environmentNames(ENVIRONMENTS_DIR)) {
    let text = readFileSync(join(ENVIRONMENTS_DIR, `${name}.yaml`), "utf8");
    const isDev = name === "dev";
    text = setEnvironmentFields(text, [
      { path: ["region"], value: "eu-west-1" },
      { path: ["image", "digest"], value: isDev ? digest("b") : digest("a") },
      { path: ["image", "tag"], value: isDev ? `main-${newSha}` : `main-${oldSha}` },
    ]);
    writeFileSync(join(dir, `${name}.yaml`), text);
  }
  return dir;
}

let dir: string;
function options(overrides: Partial<PromoteOptions> = {}): PromoteOptions {
  return {
    from: "dev",
    to: "staging",
    environmentsDir: dir,
    github: { token: "ghs_test", repository: "acme/content-engine", apiUrl: api },
    dashboardUrl: "https://grafana.example.com/d/content-engine?var-env={env}",
    aws: awsFor(moto.endpoint),
    reporter: memoryReporter(),
    clock: clockAt(wednesdayNoon),
    ...overrides,
  };
}

function soakedFor(minutes: number) {
  return nock(api)
    .get(`${repo}/commits`)
    .query({ path: "environments/dev.yaml", sha: "main", per_page: "1" })
    .reply(200, [
      {
        sha: "c0ffee",
        commit: { committer: { date: new Date(wednesdayNoon - minutes * 60_000).toISOString() } },
      },
    ]);
}

function compareCommits() {
  return nock(api)
    .get(`${repo}/compare/${oldSha}...${newSha}`)
    .reply(200, {
      html_url: "https://github.com/acme/content-engine/compare/aaaaaaa...bbbbbbb",
      commits: [
        { sha: "1111111aaaa", commit: { message: "Add summaries endpoint\n\nlong text" } },
        { sha: "2222222bbbb", commit: { message: "Fix worker retry" } },
      ],
    });
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect("127.0.0.1");
});
/** The worker zip dev serves, and its digest as build-push records it (worker.bundle). */
const devZip = workerZip("export const handler = async () => 'dev';");
const devBundle = `sha256:${createHash("sha256").update(devZip).digest("hex")}`;
let devService: Awaited<ReturnType<typeof createEcsService>>;

beforeEach(async () => {
  dir = environmentsDir();
  await moto.reset();
  // dev serves what its file says: the service on digest b, the alias on devZip.
  const dev = loadEnvironment("dev", dir);
  devService = await createEcsService(moto.endpoint, dev, `${dev.image.repository}@${digest("b")}`);
  await createWorkerFunction(moto.endpoint, dev, devZip);
});
afterEach(() => nock.cleanAll());

describe("promote", () => {
  it("opens one pull request on promote/staging that moves only the digest and tag, keeping comments", async () => {
    const bodies: Record<string, unknown> = {};
    const scopes = [
      soakedFor(120),
      compareCommits(),
      nock(api)
        .get(`${repo}/git/ref/heads%2Fmain`)
        .reply(200, { object: { sha: "base123" } }),
      nock(api).get(`${repo}/git/ref/heads%2Fpromote%2Fstaging`).reply(404, { message: "Not Found" }),
      nock(api)
        .post(`${repo}/git/refs`, (body) => {
          bodies.ref = body;
          return true;
        })
        .reply(201, {}),
      nock(api)
        .get(`${repo}/contents/environments%2Fstaging.yaml`)
        .query({ ref: "promote/staging" })
        .reply(200, { sha: "blob456" }),
      nock(api)
        .put(`${repo}/contents/environments%2Fstaging.yaml`, (body) => {
          bodies.contents = body;
          return true;
        })
        .reply(200, {}),
      nock(api)
        .get(`${repo}/pulls`)
        .query({ state: "open", head: "acme:promote/staging", base: "main" })
        .reply(200, []),
      nock(api)
        .post(`${repo}/pulls`, (body) => {
          bodies.pull = body;
          return true;
        })
        .reply(201, { number: 42, html_url: "https://github.com/acme/content-engine/pull/42" }),
    ];
    const outcome = await promote(options());

    expect(outcome.status).toBe("succeeded");
    for (const scope of scopes) expect(scope.isDone()).toBe(true);
    expect(outcome.outputs).toEqual({
      "pull-request-number": "42",
      "pull-request-url": "https://github.com/acme/content-engine/pull/42",
      digest: digest("b"),
    });
    expect(bodies.ref).toEqual({ ref: "refs/heads/promote/staging", sha: "base123" });
    const contents = bodies.contents as { content: string; sha: string; branch: string; message: string };
    expect(contents).toMatchObject({
      sha: "blob456",
      branch: "promote/staging",
      message: `Promote dev to staging: main-${newSha}`,
    });
    const before = readFileSync(join(dir, "staging.yaml"), "utf8").split("\n");
    const after = Buffer.from(contents.content, "base64").toString("utf8").split("\n");
    expect(after.filter((line, i) => line !== before[i])).toEqual([
      `  digest: ${digest("b")}`,
      `  tag: main-${newSha}`,
    ]);
    const pull = bodies.pull as { title: string; head: string; base: string; body: string };
    expect(pull).toMatchObject({
      head: "promote/staging",
      base: "main",
      title: `Promote dev → staging: main-${newSha} (sha256:bbbbbbbbbbbb)`,
    });
    expect(pull.body).toContain(`| \`image.digest\` | \`${digest("a")}\` | \`${digest("b")}\` |`);
    expect(pull.body).toContain("- 1111111 Add summaries endpoint");
    expect(pull.body).toContain(`+  digest: ${digest("b")}`);
    expect(pull.body).toContain("https://grafana.example.com/d/content-engine?var-env=staging");
  });

  it("updates the existing pull request instead of opening a second one", async () => {
    soakedFor(120);
    compareCommits();
    nock(api)
      .get(`${repo}/git/ref/heads%2Fmain`)
      .reply(200, { object: { sha: "base789" } });
    nock(api)
      .get(`${repo}/git/ref/heads%2Fpromote%2Fstaging`)
      .reply(200, { object: { sha: "old" } });
    const reset = nock(api)
      .patch(`${repo}/git/refs/heads%2Fpromote%2Fstaging`, { sha: "base789", force: true })
      .reply(200, {});
    nock(api).get(`${repo}/contents/environments%2Fstaging.yaml`).query(true).reply(200, { sha: "blob" });
    nock(api).put(`${repo}/contents/environments%2Fstaging.yaml`).reply(200, {});
    nock(api)
      .get(`${repo}/pulls`)
      .query(true)
      .reply(200, [{ number: 7, html_url: "https://github.com/acme/content-engine/pull/7" }]);
    const update = nock(api)
      .patch(`${repo}/pulls/7`)
      .reply(200, { number: 7, html_url: "https://github.com/acme/content-engine/pull/7" });
    const outcome = await promote(options());
    expect(outcome.reason).toBe(`updated pull request #7 moving staging to ${digest("b")}`);
    expect(reset.isDone() && update.isDone()).toBe(true);
  });

  it("refuses while a dev alarm of the page tier is in ALARM and makes no GitHub write", async () => {
    const cloudwatch = await createAlarm(moto.endpoint, "content-engine-dev-queue-age");
    // Promote counts the alarms that page (ticket-tier ones, e.g. a rejected document, block nothing).
    const devPageTopic = "arn:aws:sns:eu-west-1:111111111111:content-engine-dev-paging";
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: "content-engine-dev-queue-age",
        Namespace: "AWS/SQS",
        MetricName: "ApproximateAgeOfOldestMessage",
        Statistic: "Maximum",
        Period: 60,
        EvaluationPeriods: 5,
        Threshold: 300,
        ComparisonOperator: "GreaterThanThreshold",
        AlarmActions: [devPageTopic],
      }),
    );
    await cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: "content-engine-dev-queue-age",
        StateValue: "ALARM",
        StateReason: "test",
      }),
    );
    soakedFor(120);
    const outcome = await promote(options());
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe("refused: dev has alarms in ALARM: content-engine-dev-queue-age");
    expect(nock.pendingMocks()).toEqual([]);
  });

  it("refuses before the source environment's soak time has passed", async () => {
    soakedFor(12);
    const outcome = await promote(options());
    expect(outcome.reason).toBe(
      "refused: dev has run this digest for 12 min; its soak time is 30 min (18 min left)",
    );
  });

  it("refuses inside a freeze window of the target", async () => {
    const stagingSoaked = nock(api)
      .get(`${repo}/commits`)
      .query(true)
      .reply(200, [{ sha: "c0ffee", commit: { committer: { date: "2026-11-20T00:00:00Z" } } }]);
    const staging = join(dir, "staging.yaml");
    writeFileSync(
      staging,
      setEnvironmentFields(readFileSync(staging, "utf8"), [
        { path: ["image", "digest"], value: digest("c") },
      ]),
    );
    const source = loadEnvironment("staging", dir);
    await createEcsService(moto.endpoint, source, `${source.image.repository}@${digest("c")}`);
    await createWorkerFunction(moto.endpoint, source, devZip);
    const fridayEvening = Date.parse("2026-11-27T16:30:00Z");
    const outcome = await promote(options({ from: "staging", to: "prod", clock: clockAt(fridayEvening) }));
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe("refused: prod is frozen: Friday afternoon freeze (fri 15:00-23:59 UTC)");
    expect(stagingSoaked.isDone()).toBe(true);
  });

  it("refuses to promote from prod up to dev before any call", async () => {
    const error = await promote(options({ from: "prod", to: "dev" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toMatch(
      /^cannot promote from prod to dev: dev is where builds land \(no promotion\.from in .*dev\.yaml\); nothing promotes from prod$/,
    );
  });

  it("refuses to skip staging on the way to prod", async () => {
    await expect(promote(options({ to: "prod" }))).rejects.toThrow(
      /^cannot promote from dev to prod: prod promotes from staging \(promotion\.from in .*prod\.yaml\); dev promotes to staging$/,
    );
  });

  it("refuses an unknown environment", async () => {
    await expect(promote(options({ to: "qa" }))).rejects.toThrow(
      /^unknown environment "qa": no .*qa\.yaml \(the environments are dev, staging, prod\)$/,
    );
  });

  it("says how to pass a token when the GitHub token is missing", async () => {
    await expect(
      promote(options({ github: { token: "", repository: "acme/content-engine", apiUrl: api } })),
    ).rejects.toThrow(
      "GitHub token is missing: pass the github-token input (the workflow's github.token) or set GITHUB_TOKEN",
    );
  });

  it("names an expired token in one line when GitHub answers 401", async () => {
    nock(api).get(`${repo}/commits`).query(true).reply(401, { message: "Bad credentials" });
    await expect(promote(options())).rejects.toThrow(
      "GitHub rejected the token (401 on GET /repos/acme/content-engine/commits?path=environments/dev.yaml&sha=main&per_page=1): it is missing, expired or revoked",
    );
  });

  it("plans the pull request body without any GitHub write", async () => {
    soakedFor(120);
    compareCommits();
    const plan = await planPromote(options());
    expect(plan.steps).toEqual([
      "update branch promote/staging from main",
      "commit environments/staging.yaml",
      "open or update the pull request into main",
    ]);
    expect(plan.details[0]).toContain("## Promote dev → staging");
    expect(nock.pendingMocks()).toEqual([]);
  });

  it("carries the worker bundle with the digest, so the target runs the bytes the source ran", async () => {
    const devFile = join(dir, "dev.yaml");
    writeFileSync(
      devFile,
      setEnvironmentFields(readFileSync(devFile, "utf8"), [{ path: ["worker", "bundle"], value: devBundle }]),
    );
    soakedFor(120);
    compareCommits();
    const plan = await planPromote(options());
    expect(plan.changes).toEqual([
      { field: "image.digest", from: digest("a"), to: digest("b") },
      { field: "image.tag", from: `main-${oldSha}`, to: `main-${newSha}` },
      { field: "worker.bundle", from: undefined, to: devBundle },
    ]);
    expect(plan.details[0]).toContain(`+  bundle: ${devBundle}`);
  });

  it("refuses when dev does not serve the digest its file names (its last rollout rolled back), and says what it found", async () => {
    // The rollout of digest b rolled back: the service runs a revision with digest a again.
    const dev = loadEnvironment("dev", dir);
    const old = await createEcsService(
      moto.endpoint,
      { ...dev, api: { ...dev.api, cluster: "other" } },
      `${dev.image.repository}@${digest("a")}`,
    );
    await devService.ecs.send(
      new UpdateServiceCommand({
        cluster: dev.api.cluster,
        service: dev.api.service,
        taskDefinition: old.taskDefinitionArn,
      }),
    );
    soakedFor(120);
    const outcome = await promote(options());
    expect(outcome.status).toBe("failed");
    expect(outcome.outputs.refused).toBe("true");
    expect(outcome.diagnostics).toEqual([
      `dev does not serve the digest its file names: ${dev.api.cluster}/${dev.api.service} ${old.taskDefinitionArn.split("/").pop()} runs ${dev.image.repository}@${digest("a")}, not ${digest("b")}`,
    ]);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it("refuses when dev's worker alias does not serve the recorded bundle", async () => {
    const devFile = join(dir, "dev.yaml");
    writeFileSync(
      devFile,
      setEnvironmentFields(readFileSync(devFile, "utf8"), [
        { path: ["worker", "bundle"], value: digest("c") },
      ]),
    );
    soakedFor(120);
    const outcome = await promote(options());
    expect(outcome.status).toBe("failed");
    expect(outcome.diagnostics).toEqual([
      expect.stringMatching(
        /^dev's worker alias live serves code \S+ \(version 1\), not the recorded bundle sha256:c{64}$/,
      ),
    ]);
  });

  it("shows in the PR body what merging changes in staging, read live with staging's read role", async () => {
    const staging = loadEnvironment("staging", dir);
    const credentials = await assumeRole(staging.readRoleArn!);
    await createEcsService(moto.endpoint, staging, `${staging.image.repository}@${digest("a")}`, true, {
      ...awsFor(moto.endpoint),
      credentials,
    });
    soakedFor(120);
    compareCommits();
    const plan = await planPromote(options());
    const body = plan.details[0]!;
    expect(body).toContain("### What merging changes in staging");
    expect(body).toContain(
      `| ecs-service | \`${staging.api.cluster}/${staging.api.service}\` | ✏️ differs | image: ${staging.image.repository}@${digest("a")} → ${staging.image.repository}@${digest("b")} |`,
    );
  });

  it("says the target plan is not shown when the target names no read role", async () => {
    const stagingFile = join(dir, "staging.yaml");
    writeFileSync(stagingFile, readFileSync(stagingFile, "utf8").replace(/^readRoleArn: .*\n/m, ""));
    soakedFor(120);
    compareCommits();
    const plan = await planPromote(options());
    expect(plan.details[0]).toContain("_Not shown: staging's file sets no `readRoleArn`");
  });

  it("calls GitHub Enterprise Server at GITHUB_API_URL when no API URL is passed", async () => {
    const ghes = "https://ghe.example.com/api/v3";
    const date = new Date(wednesdayNoon - 7_200_000).toISOString();
    const commits = nock("https://ghe.example.com")
      .get(`/api/v3${repo}/commits`)
      .query({ path: "environments/dev.yaml", sha: "main", per_page: "1" })
      .reply(200, [{ sha: "c0ffee", commit: { committer: { date } } }]);
    const compare = nock("https://ghe.example.com")
      .get(`/api/v3${repo}/compare/${oldSha}...${newSha}`)
      .reply(200, { html_url: `${ghes}/compare`, commits: [] });
    const saved = process.env.GITHUB_API_URL;
    process.env.GITHUB_API_URL = ghes;
    try {
      const plan = await planPromote(
        options({ github: { token: "ghs_test", repository: "acme/content-engine" } }),
      );
      expect(plan.steps[0]).toBe("update branch promote/staging from main");
    } finally {
      if (saved === undefined) delete process.env.GITHUB_API_URL;
      else process.env.GITHUB_API_URL = saved;
    }
    expect(commits.isDone() && compare.isDone()).toBe(true);
  });
});
