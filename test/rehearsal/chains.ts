// The chains users run this repository for, each driven through the real workflows and checked
// against what moto, the registry and the bare remote hold afterwards.
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CloudWatchClient, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import {
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  UpdateAliasCommand,
} from "@aws-sdk/client-lambda";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  apiTaskFamily,
  type Environment,
  environmentFile,
  PREVIEW_CREATED_AT_TAG,
  previewEnvironment,
  previewNames,
  repositoryPath,
} from "@content-engine/environments";
import { parseDocument } from "yaml";
import { getManifest } from "../../actions/delivery/src/registry.ts";
import {
  deployedTag,
  listReferrers,
  SBOM_ARTIFACT_TYPE,
  verifyArtifacts,
} from "../../actions/delivery/src/signing.ts";
import { addEnvironment, writeGenerated } from "../support/new-environment.ts";
import { type ActContext, push, runWorkflow, type WorkflowRun } from "./act.ts";
import type { DataPlane, Served } from "./data-plane/serve.ts";
import type { FakeGitHub } from "./fake-github.ts";
import { git } from "./git.ts";
import {
  aliasConfiguration,
  codeShaOf,
  ecsRollout,
  observe,
  registryDigest,
  serviceTaskDefinition,
  workerBundleDigest,
} from "./observe.ts";
import {
  assume,
  client,
  ENVIRONMENTS,
  type EnvName,
  environmentAt,
  provision,
  pushStandInImage,
  signAs,
  startMoto,
} from "./world.ts";

export interface Check {
  name: string;
  expected: unknown;
  observed: unknown;
  ok: boolean;
}

export interface ChainResult {
  name: string;
  ok: boolean;
  seconds: number;
  checks: Check[];
  /** What served a document in each environment the chain deployed (data-plane/serve.ts). */
  served: Served[];
  runs: Omit<WorkflowRun, "log">[];
  error?: string;
}

export interface Rehearsal {
  ctx: ActContext;
  github: FakeGitHub;
  moto: string;
  registry: string;
  /** Where the docker stand-in looks for a hook to run after its push (the record race). */
  hooks: string;
  /** Runs what an environment's control plane says is deployed, and sends a document through it. */
  dataPlane: DataPlane;
  /** Terraform's part of adding an environment: its roles (trusted and audited) and its resources in moto. */
  addEnvironment: (env: Environment) => Promise<void>;
  logs: (name: string, text: string) => void;
}

/** One chain's checks and workflow runs. */
class Chain {
  checks: Check[] = [];
  served: Served[] = [];
  runs: WorkflowRun[] = [];
  readonly r: Rehearsal;
  constructor(r: Rehearsal) {
    this.r = r;
  }

  expect(name: string, expected: unknown, observed: unknown) {
    this.checks.push({ name, expected, observed, ok: JSON.stringify(expected) === JSON.stringify(observed) });
  }

  record(runs: WorkflowRun[], label: string) {
    for (const [i, run] of runs.entries()) this.r.logs(`${label}-${i}-${run.workflow}`, run.log);
    this.runs.push(...runs);
    return runs;
  }

  main() {
    return git(this.r.ctx.bare, ["rev-parse", "main"]);
  }

  env(name: EnvName, ref = "main"): Environment {
    return environmentAt(this.r.ctx.bare, ref, name);
  }

  /** Commits `edit` on top of main in a scratch clone and pushes it (one or more commits, one push). */
  pushCommits(edits: Array<{ message: string; edit: (dir: string) => void }>) {
    const dir = join(this.r.ctx.work, `push-${Date.now()}`);
    git(this.r.ctx.work, ["clone", "-q", `file://${this.r.ctx.bare}`, dir]);
    const before = git(dir, ["rev-parse", "HEAD"]);
    for (const { message, edit } of edits) {
      edit(dir);
      git(dir, ["commit", "-q", "-am", message]);
    }
    git(dir, ["push", "-q", "origin", "HEAD:main"]);
    return { before, after: git(dir, ["rev-parse", "HEAD"]) };
  }
}

const workerEdit = (n: string) => (dir: string) =>
  appendFileSync(join(dir, "services/worker/src/lambda.ts"), `// rehearsal change ${n}\n`);

function dropField(dir: string, env: EnvName, path: string[]) {
  const file = join(dir, "environments", `${env}.yaml`);
  const doc = parseDocument(readFileSync(file, "utf8"));
  doc.deleteIn(path);
  writeFileSync(file, doc.toString({ flowCollectionPadding: false }));
}

function setField(dir: string, env: EnvName, pattern: RegExp, replacement: string) {
  const file = join(dir, "environments", `${env}.yaml`);
  const text = readFileSync(file, "utf8");
  if (!pattern.test(text)) throw new Error(`${file}: ${pattern} not found`);
  writeFileSync(file, text.replace(pattern, replacement));
}

/**
 * What ships serves: the environment's ECS task definition and Lambda alias, run by the data-plane
 * stand-in, take a document to `succeeded`; so does the same image run as the chart's consumer.
 */
async function expectServes(c: Chain, name: EnvName, label: string) {
  const env = c.env(name);
  const served = await c.r.dataPlane.serve(env);
  c.served.push(served);
  if (served.error) c.r.logs(`${label}-${name}-data-plane`, served.error);
  c.expect(
    `${label}: ${name}'s API task runs the file's image by digest`,
    `${env.image.repository}@${env.image.digest}`,
    served.image,
  );
  c.expect(
    `${label}: ${name}'s task definition health check passes in the running task`,
    "passed",
    served.healthCheck,
  );
  c.expect(
    `${label}: a document through ${name}'s API container reached succeeded through the deployed worker zip`,
    "succeeded",
    served.lambdaJob?.status ?? served.error,
  );
  c.expect(
    `${label}: the poller fed it with the event source mapping's batch size`,
    env.worker.batchSize,
    served.batchSize,
  );
  c.expect(
    `${label}: the zip that ran is the recorded bundle (CodeSha256)`,
    codeShaOf(env.worker.bundle),
    served.codeSha256,
  );
  c.expect(
    `${label}: the same digest, run as the chart's consumer, took a document to succeeded`,
    "succeeded",
    served.consumerJob?.status ?? served.error,
  );
}

async function expectDevRuns(c: Chain, sha: string, label: string) {
  const { registry } = c.r;
  const dev = c.env("dev");
  const tag = `main-${sha.slice(0, 7)}`;
  const digest = await registryDigest(registry, dev.image.repository, tag);
  const bundle = await workerBundleDigest(registry, dev.image.repository, `${tag}-worker`);
  const live = await observe(c.r.moto, dev);
  c.expect(`${label}: build pushed ${tag} to the registry`, true, digest !== undefined);
  c.expect(`${label}: build stored the worker bundle ${tag}-worker`, true, bundle !== undefined);
  c.expect(`${label}: dev.yaml on main records the pushed digest`, digest, dev.image.digest);
  c.expect(`${label}: dev.yaml on main records the tag`, tag, dev.image.tag);
  c.expect(`${label}: dev.yaml on main records the worker bundle`, bundle, dev.worker.bundle);
  c.expect(
    `${label}: dev's service runs exactly the pushed digest`,
    `${dev.image.repository}@${digest}`,
    live.image,
  );
  c.expect(
    `${label}: dev's alias serves the bundle built from ${sha.slice(0, 7)}`,
    codeShaOf(bundle),
    live.codeSha256,
  );
  c.expect(`${label}: dev's alias is not split`, {}, live.split);
  return { digest, bundle, live };
}

export async function pushToDev(c: Chain) {
  const { before, after } = c.pushCommits([{ message: "worker: a change to ship", edit: workerEdit("1") }]);
  const runs = c.record(await push(c.r.ctx, before, after), "push");
  c.expect(
    "the push starts deploy.yml only",
    ["deploy.yml"],
    runs.map((r) => r.workflow),
  );
  c.expect("deploy.yml succeeds", true, runs[0]?.ok);
  const { live } = await expectDevRuns(c, after, "push");
  const dev = c.env("dev");
  const alarmNames = live.alarms.map((a) => a.name);
  c.expect(
    "dev's deployment alarms exist in dev's account (observability-apply ran)",
    dev.alarms.deploymentAlarms,
    dev.alarms.deploymentAlarms.filter((name) => alarmNames.includes(name)),
  );
  c.expect(
    "observability-apply created dev's generated alarms",
    true,
    alarmNames.length > dev.alarms.deploymentAlarms.length,
  );
  await expectSigned(c, dev);
  const summary = runs.map(summaryOf).join("\n");
  c.expect(
    "deploy-ecs ran dev's pre-deploy task on the new revision before the rollout, and it exited 0",
    true,
    /pre-deploy 1\/1 \(.*pre-deploy check ok.*\): task \S+ exit 0/.test(summary),
  );
  c.expect(
    "deploy-lambda shifted the alias through the linear canary's two steps, and left it whole",
    [true, {}],
    [/canary step 2\/2: 80%/.test(runs.map((r) => r.log).join("\n")), live.split],
  );
  await expectServes(c, "dev", "push");
}

/** build-push signed the image and the bundle, attached the SBOMs, and the deploy kept both digests. */
async function expectSigned(c: Chain, env: Environment) {
  const access = { endpoint: `http://${c.r.registry}` };
  const publicKey = git(c.r.ctx.bare, ["show", `main:${join("environments", env.signing!.publicKey)}`]);
  const repository = env.image.repository;
  c.expect(
    "the image and the worker bundle carry a signature by the KMS key (verified with the committed public key)",
    undefined,
    await verifyArtifacts(
      repository,
      { image: env.image.digest, bundle: env.worker.bundle },
      publicKey,
      access,
    ),
  );
  const sboms = await listReferrers(repository, env.image.digest, access);
  c.expect(
    "three CycloneDX SBOMs (api, consumer, processor thread) are attached to the image as OCI referrers",
    [SBOM_ARTIFACT_TYPE, SBOM_ARTIFACT_TYPE, SBOM_ARTIFACT_TYPE],
    sboms.map((r) => r.artifactType),
  );
  const kept = await getManifest(repository, deployedTag(env.image.digest), access);
  c.expect(
    "the deploy tagged the image deployed-<hex> (the lifecycle rule keeps it)",
    env.image.digest,
    kept?.digest,
  );
}

async function setAlarm(moto: string, env: Environment, name: string, state: "ALARM" | "OK") {
  const cloudwatch = client(CloudWatchClient, moto, await assume(moto, env.deployRoleArn!), env.region);
  await cloudwatch.send(
    new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: "rehearsal" }),
  );
}

export async function promoteRefusedWhileAlarm(c: Chain) {
  const dev = c.env("dev");
  const alarm = dev.alarms.deploymentAlarms[0]!;
  const mainBefore = c.main();
  const pullsBefore = c.r.github.pulls.length;
  await setAlarm(c.r.moto, dev, alarm, "ALARM");
  try {
    const [run] = c.record(
      [
        await runWorkflow(
          c.r.ctx,
          "promote.yml",
          "workflow_dispatch",
          mainBefore,
          { inputs: { to: "staging" } },
          { to: "staging" },
        ),
      ],
      "refused",
    );
    c.expect(`promote dev -> staging fails while ${alarm} is in ALARM`, false, run!.ok);
    c.expect("no pull request was opened", pullsBefore, c.r.github.pulls.length);
    c.expect(
      "no promote/staging branch was pushed",
      false,
      git(c.r.ctx.bare, ["branch", "--list", "promote/staging"]) !== "",
    );
    c.expect("main did not move", mainBefore, c.main());
    c.expect(
      "the job summary names the firing alarm",
      true,
      run!.summaries.some((s) => s.content.includes(alarm) && s.content.includes("refused")),
    );
  } finally {
    await setAlarm(c.r.moto, dev, alarm, "OK");
  }
}

async function promoteOnce(c: Chain, from: EnvName, to: EnvName) {
  const source = c.env(from);
  const sourceLive = await observe(c.r.moto, source);
  const [run] = c.record(
    [
      await runWorkflow(
        c.r.ctx,
        "promote.yml",
        "workflow_dispatch",
        c.main(),
        // By hand, only the target: the file's promotion.from names the source.
        { inputs: { to } },
        { to },
      ),
    ],
    `promote-${to}`,
  );
  c.expect(`promote ${from} -> ${to} succeeds`, true, run!.ok);
  const pull = c.r.github.pulls.find((p) => p.head === `promote/${to}` && p.state === "open");
  c.expect(`a pull request promote/${to} -> main is open in GitHub`, true, pull !== undefined);
  if (!pull) return;
  // The PR shows what merging changes in the target, read live there with its read role.
  const targetBefore = c.env(to);
  c.expect(
    `the PR body shows ${to}'s live plan: its service moves from ${to}'s digest to ${from}'s`,
    true,
    pull.body.includes(`### What merging changes in ${to}`) &&
      pull.body.includes(
        `| ecs-service | \`${targetBefore.api.cluster}/${targetBefore.api.service}\` | ✏️ differs | image: ${targetBefore.image.repository}@${targetBefore.image.digest} → ${targetBefore.image.repository}@${source.image.digest}`,
      ),
  );
  const branchEnv = c.env(to, `promote/${to}`);
  c.expect(`the PR moves ${to} to ${from}'s digest`, source.image.digest, branchEnv.image.digest);
  c.expect(`the PR moves ${to} to ${from}'s worker bundle`, source.worker.bundle, branchEnv.worker.bundle);
  const { before, after } = c.r.github.merge(pull.number);
  const runs = c.record(await push(c.r.ctx, before, after), `merge-${to}`);
  c.expect(
    `merging starts deploy-env.yml only`,
    ["deploy-env.yml"],
    runs.map((r) => r.workflow),
  );
  c.expect(`deploy-env.yml deploys ${to}`, true, runs[0]?.ok);
  const target = c.env(to);
  const live = await observe(c.r.moto, target);
  c.expect(
    `${to}'s service runs ${from}'s digest`,
    `${target.image.repository}@${source.image.digest}`,
    live.image,
  );
  c.expect(
    `${to}'s repository (${target.image.repository}) serves that digest`,
    source.image.digest,
    await registryDigest(c.r.registry, target.image.repository, source.image.digest),
  );
  c.expect(
    `${to}'s alias serves ${from}'s worker bytes (same CodeSha256)`,
    sourceLive.codeSha256,
    live.codeSha256,
  );
  c.expect(`${to}'s CodeSha256 is the recorded bundle`, codeShaOf(source.worker.bundle), live.codeSha256);
  c.expect(`${to}'s alias is not split after the canary`, {}, live.split);
  await expectServes(c, to, `promote-${to}`);
}

export async function promoteAlongTheOrder(c: Chain) {
  // main's worker moves on (a commit GitHub does not build: [skip ci]) so a rebuild from main would differ.
  c.pushCommits([{ message: "worker: unreleased change [skip ci]", edit: workerEdit("unreleased") }]);
  // Every promotion the files declare (each file's promotion.from), in promotion order.
  for (const to of ENVIRONMENTS) {
    const from = c.env(to).promotion.from;
    if (from) await promoteOnce(c, from, to);
  }
}

export async function twoCommitsOnePush(c: Chain) {
  const { before, after } = c.pushCommits([
    { message: "staging: more CPU", edit: (d) => setField(d, "staging", /^ {2}cpu: 512$/m, "  cpu: 1024") },
    { message: "dev: more memory", edit: (d) => setField(d, "dev", /^ {2}memory: 512$/m, "  memory: 1024") },
  ]);
  const runs = c.record(await push(c.r.ctx, before, after), "two-commits");
  c.expect(
    "the push starts deploy-env.yml only",
    ["deploy-env.yml"],
    runs.map((r) => r.workflow),
  );
  c.expect("deploy-env.yml succeeds", true, runs[0]?.ok);
  c.expect("staging deployed (cpu 1024)", "1024", (await observe(c.r.moto, c.env("staging"))).cpu);
  c.expect("dev deployed (memory 1024)", "1024", (await observe(c.r.moto, c.env("dev"))).memory);
}

export async function recordRace(c: Chain) {
  // After the build pushed its image, someone else's commit lands on main before record runs.
  const hook = join(c.r.hooks, "after-build");
  writeFileSync(
    hook,
    `#!/usr/bin/env bash
set -euo pipefail
rm -f "$0"
d="$(mktemp -d)"
git clone -q "file://${c.r.ctx.bare}" "$d"
cd "$d"
echo "racing commit" >> docs-race.md
git add docs-race.md
git -c user.name=racer -c user.email=racer@example.invalid commit -q -m "docs: a racing commit [skip ci]"
git push -q origin HEAD:main
git rev-parse HEAD > "${c.r.hooks}/race-commit"
`,
  );
  chmodSync(hook, 0o755);
  const { before, after } = c.pushCommits([{ message: "worker: raced change", edit: workerEdit("race") }]);
  const runs = c.record(await push(c.r.ctx, before, after), "race");
  c.expect("deploy.yml succeeds although main moved during the build", true, runs[0]?.ok);
  const marker = join(c.r.hooks, "race-commit");
  const racing = existsSync(marker) ? readFileSync(marker, "utf8").trim() : undefined;
  c.expect("the racing commit landed on main", true, racing !== undefined);
  if (racing) {
    const kept = git(c.r.ctx.bare, ["merge-base", "--is-ancestor", racing, "main"]) === "";
    c.expect("main keeps the racing commit", true, kept);
  }
  await expectDevRuns(c, after, "race");
}

export async function brokenRollout(c: Chain) {
  // An account of its own (a second moto) so the broken revision cannot leak into the other chains.
  const broken = await startMoto();
  try {
    const dev = c.env("dev");
    await provision(broken.endpoint, dev, { healthy: true });
    // terraform registers a revision whose api container exits at start (moto_server.py reads the
    // REHEARSAL_EXIT_CODE variable as that); the service ignores it until the next deploy carries it.
    const exitCode = 1;
    await registerExitingRevision(broken.endpoint, dev, exitCode);
    const before = await observe(broken.endpoint, dev);
    const ctx = { ...c.r.ctx, env: { ...c.r.ctx.env, AWS_ENDPOINT_URL: broken.endpoint } };
    const { before: b, after } = c.pushCommits([
      {
        message: "dev: more CPU, on a revision whose tasks never start",
        edit: (d) => {
          setField(d, "dev", /^ {2}cpu: 256$/m, "  cpu: 512");
          // Its pre-deploy task would exit at start too and stop the deploy first (as it should): this
          // chain is about the rollout, so the commit runs without one.
          dropField(d, "dev", ["api", "preDeploy"]);
        },
      },
    ]);
    const runs = c.record(await push(ctx, b, after), "broken");
    c.expect(
      "the push starts deploy-env.yml only",
      ["deploy-env.yml"],
      runs.map((r) => r.workflow),
    );
    c.expect("deploy-env.yml fails", false, runs[0]?.ok);
    const now = await observe(broken.endpoint, dev);
    c.expect("the previous task definition serves again", before.taskDefinitionArn, now.taskDefinitionArn);
    c.expect("the previous size serves (cpu 256)", "256", now.cpu);
    const rollout = await ecsRollout(broken.endpoint, dev);
    c.expect(
      "ECS settled on one completed deployment of the previous revision",
      [{ status: "PRIMARY", rolloutState: "COMPLETED", taskDefinition: before.taskDefinitionArn }],
      rollout.deployments.map(({ status, rolloutState, taskDefinition }) => ({
        status,
        rolloutState,
        taskDefinition,
      })),
    );
    const attempted = [...new Set(rollout.stoppedTasks.map((t) => t.taskDefinition))];
    c.expect("the stopped tasks all ran one new revision", 1, attempted.length);
    c.expect("that revision is not the one serving", true, attempted[0] !== before.taskDefinitionArn);
    c.expect(
      "the circuit breaker stopped the rollout after 3 failed tasks, each exiting 1",
      Array.from({ length: 3 }, () => ({
        stoppedReason: "Essential container in task exited",
        exitCodes: [exitCode],
      })),
      rollout.stoppedTasks.map(({ stoppedReason, exitCodes }) => ({ stoppedReason, exitCodes })),
    );
    const summary = runs[0]?.summaries.map((s) => s.content).join("\n") ?? "";
    c.expect(
      "the job summary says deploy-ecs rolled_back",
      true,
      /^### \S+ deploy-ecs \S+: rolled_back$/m.test(summary),
    );
    c.expect(
      "the job summary says why: the circuit breaker, tasks failed to start",
      true,
      summary.includes("ECS deployment circuit breaker: tasks failed to start."),
    );
    c.expect(
      "the job summary names the stopped tasks' reason",
      true,
      summary.includes("Essential container in task exited"),
    );
    c.expect(
      "the job summary shows the previous revision serving now",
      true,
      summary.includes(
        `| \`${before.taskDefinitionArn}\` | \`${attempted[0]}\` | \`${before.taskDefinitionArn}\` |`,
      ),
    );
  } finally {
    await broken.stop();
  }
}

/** A new revision of the live family whose api container exits with `code` at start. */
async function registerExitingRevision(endpoint: string, env: Environment, code: number) {
  const credentials = await assume(endpoint, env.deployRoleArn!);
  const ecs = client(ECSClient, endpoint, credentials, env.region);
  const service = (
    await ecs.send(new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }))
  ).services![0]!;
  const live = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition })))
    .taskDefinition!;
  const containerDefinitions = live.containerDefinitions!.map((container) =>
    container.name === "api"
      ? {
          ...container,
          environment: [
            ...(container.environment ?? []),
            { name: "REHEARSAL_EXIT_CODE", value: String(code) },
          ],
        }
      : container,
  );
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: live.family,
      cpu: live.cpu,
      memory: live.memory,
      networkMode: live.networkMode,
      requiresCompatibilities: live.requiresCompatibilities,
      executionRoleArn: live.executionRoleArn,
      containerDefinitions,
    }),
  );
}

/**
 * Hand changes in dev's account, as a person in the console makes them: the service back on an older
 * revision that ran another image, the alias back on an older version with other code.
 */
async function handChanges(moto: string, env: Environment) {
  const credentials = await assume(moto, env.deployRoleArn!);
  const ecs = client(ECSClient, moto, credentials, env.region);
  const lambda = client(LambdaClient, moto, credentials, env.region);
  const fileImage = `${env.image.repository}@${env.image.digest}`;
  const { service } = await serviceTaskDefinition(ecs, env);
  const family = service!.taskDefinition!.split("/").pop()!.split(":")[0]!;
  const revisions = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: family, sort: "DESC", status: "ACTIVE" }),
  );
  let older: string | undefined;
  for (const arn of revisions.taskDefinitionArns ?? []) {
    const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }))).taskDefinition;
    const image = td?.containerDefinitions?.find((c) => c.name === "api")?.image;
    if (image?.startsWith(env.image.repository) && image !== fileImage) {
      older = arn;
      break;
    }
  }
  if (!older) throw new Error(`no revision of ${family} runs another image than ${fileImage}`);
  await ecs.send(
    new UpdateServiceCommand({ cluster: env.api.cluster, service: env.api.service, taskDefinition: older }),
  );
  const { config } = await aliasConfiguration(lambda, env);
  const versions = await lambda.send(
    new ListVersionsByFunctionCommand({ FunctionName: env.worker.functionName }),
  );
  const other = (versions.Versions ?? []).find(
    (v) => v.Version !== "$LATEST" && v.CodeSha256 !== config.CodeSha256,
  );
  if (!other) throw new Error(`no version of ${env.worker.functionName} holds other code`);
  await lambda.send(
    new UpdateAliasCommand({
      FunctionName: env.worker.functionName,
      Name: env.worker.alias,
      FunctionVersion: other.Version,
    }),
  );
  const check = await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: env.worker.functionName, Qualifier: other.Version }),
  );
  return { revision: older, version: other.Version!, codeSha256: check.CodeSha256 };
}

const summaryOf = (run: WorkflowRun | undefined) => run?.summaries.map((s) => s.content).join("\n") ?? "";

export async function driftRepaired(c: Chain) {
  const dev = c.env("dev");
  const mainBefore = c.main();
  const before = await observe(c.r.moto, dev);
  const hand = await handChanges(c.r.moto, dev);
  const changed = await observe(c.r.moto, dev);
  c.expect(
    "the hand change put dev's service on an older revision",
    hand.revision,
    changed.taskDefinitionArn,
  );
  c.expect("the hand change put dev's alias on other code", hand.codeSha256, changed.codeSha256);
  const title = "Drift: dev differs from environments/dev.yaml";

  // The check, report only: drift.yml run by hand with reconcile false.
  const [report] = c.record(
    [
      await runWorkflow(
        c.r.ctx,
        "drift.yml",
        "workflow_dispatch",
        c.main(),
        { inputs: { environment: "dev", reconcile: "false" } },
        { environment: "dev", reconcile: "false" },
      ),
    ],
    "drift-report",
  );
  c.expect("drift.yml fails while dev drifts and is not reconciled", false, report!.ok);
  const summary = summaryOf(report);
  c.expect(
    "its summary shows the ECS service as drifted, with the image it runs",
    true,
    summary.includes("| ecs-service |") &&
      /\| ecs-service \|[^\n]*✏️ differs[^\n]*image:/.test(summary) &&
      summary.includes(changed.image!),
  );
  c.expect(
    "its summary shows the Lambda alias as drifted (code)",
    true,
    /\| lambda-alias \|[^\n]*✏️ differs[^\n]*code:/.test(summary),
  );
  c.expect(
    "the alarms and dashboards are in sync",
    true,
    /\| alarms \|[^\n]*✅ in sync/.test(summary) && /\| dashboards \|[^\n]*✅ in sync/.test(summary),
  );
  const issue = c.r.github.issues.find((i) => i.title === title);
  c.expect(
    "one drift issue is open for dev, labelled drift",
    ["open", ["drift"]],
    [issue?.state, issue?.labels],
  );
  c.expect(
    "the issue names both drifted resources",
    true,
    Boolean(issue?.body.includes("| ecs-service |") && issue.body.includes("| lambda-alias |")),
  );
  const still = await observe(c.r.moto, dev);
  c.expect("report only: dev still runs the hand-changed revision", hand.revision, still.taskDefinitionArn);

  // The scheduled check: dev's file says drift.reconcile, so it puts dev back.
  const [repair] = c.record(
    [
      await runWorkflow(
        c.r.ctx,
        "drift.yml",
        "workflow_dispatch",
        c.main(),
        { inputs: { environment: "dev", reconcile: "auto" } },
        { environment: "dev", reconcile: "auto" },
      ),
    ],
    "drift-repair",
  );
  c.expect("drift.yml reconciles dev (its file sets drift.reconcile)", true, repair!.ok);
  const after = await observe(c.r.moto, dev);
  c.expect(
    "dev's service runs the file's digest again",
    `${dev.image.repository}@${dev.image.digest}`,
    after.image,
  );
  c.expect(
    "dev's alias serves the file's worker bundle again",
    codeShaOf(dev.worker.bundle),
    after.codeSha256,
  );
  c.expect("dev's alias is not split", {}, after.split);
  c.expect("dev's size is the file's", [before.cpu, before.memory], [after.cpu, after.memory]);
  c.expect(
    "the summary shows every resource in sync after the reconcile",
    true,
    /### After reconcile[\s\S]*\| ecs-service \|[^\n]*✅ in sync[\s\S]*\| lambda-alias \|[^\n]*✅ in sync/.test(
      summaryOf(repair),
    ),
  );
  const closed = c.r.github.issues.filter((i) => i.title === title);
  c.expect(
    "the drift issue is closed, with a comment saying reconcile put dev back",
    [["closed", true]],
    closed.map((i) => [i.state, i.comments.some((comment) => comment.includes("reconcile put it back"))]),
  );
  c.expect("main did not move: reconcile deploys the file, it does not edit it", mainBefore, c.main());
}

export async function rollbackMerged(c: Chain) {
  const dev = c.env("dev");
  const pullsBefore = c.r.github.pulls.length;
  const [run] = c.record(
    [
      await runWorkflow(
        c.r.ctx,
        "rollback.yml",
        "workflow_dispatch",
        c.main(),
        { inputs: { environment: "dev" } },
        { environment: "dev" },
      ),
    ],
    "rollback",
  );
  c.expect("rollback.yml succeeds", true, run!.ok);
  const pull = c.r.github.pulls.find((p) => p.head === "rollback/dev" && p.state === "open");
  c.expect("a pull request rollback/dev -> main is open", pullsBefore + 1, c.r.github.pulls.length);
  if (!pull) return;
  // The state before dev's current digest in the file's history (no deployment records here: act makes none).
  const history = git(c.r.ctx.bare, ["log", "--format=%H", "main", "--", "environments/dev.yaml"]).split(
    "\n",
  );
  const previous = history
    .map((sha) => c.env("dev", sha))
    .find((env) => env.image.digest !== dev.image.digest);
  const branch = c.env("dev", "rollback/dev");
  c.expect("the PR sets dev's digest back to the previous one", previous?.image.digest, branch.image.digest);
  c.expect("the PR sets dev's worker bundle back with it", previous?.worker.bundle, branch.worker.bundle);
  c.expect(
    "the PR changes nothing else in dev.yaml",
    { ...dev, image: branch.image, worker: { ...dev.worker, bundle: branch.worker.bundle } },
    branch,
  );
  const { before, after } = c.r.github.merge(pull.number);
  const runs = c.record(await push(c.r.ctx, before, after), "rollback-merge");
  c.expect(
    "merging starts deploy-env.yml only",
    ["deploy-env.yml"],
    runs.map((r) => r.workflow),
  );
  c.expect("deploy-env.yml deploys dev", true, runs[0]?.ok);
  const live = await observe(c.r.moto, dev);
  c.expect(
    "dev's service runs the previous digest again",
    `${dev.image.repository}@${previous?.image.digest}`,
    live.image,
  );
  c.expect(
    "dev's alias serves the previous bundle again",
    codeShaOf(previous?.worker.bundle),
    live.codeSha256,
  );
  await expectServes(c, "dev", "rollback");
}

export async function promoteRefusedAfterRollback(c: Chain) {
  // dev's own account (a second moto): its next rollout fails and rolls back.
  const broken = await startMoto();
  try {
    const dev = c.env("dev");
    await provision(broken.endpoint, dev, { healthy: true });
    await registerExitingRevision(broken.endpoint, dev, 1);
    const ctx = { ...c.r.ctx, env: { ...c.r.ctx.env, AWS_ENDPOINT_URL: broken.endpoint } };
    // A digest build-push would have signed (deploys verify before anything else), whose tasks exit.
    const next = await pushStandInImage(c.r.registry, dev.image.repository, "tasks that never start");
    await signAs(c.r.moto, c.r.registry, dev, next);
    const { before: b, after } = c.pushCommits([
      {
        message: "dev: a digest whose tasks never start",
        edit: (d) => {
          setField(d, "dev", /^ {2}digest: sha256:[a-f0-9]{64}/m, `  digest: ${next}`);
        },
      },
    ]);
    const runs = c.record(await push(ctx, b, after), "rolled-back");
    c.expect("dev's deploy of the new digest fails (rolled back)", false, runs[0]?.ok);
    const live = await observe(broken.endpoint, dev);
    c.expect(
      "dev still serves its previous digest",
      `${dev.image.repository}@${dev.image.digest}`,
      live.image,
    );
    c.expect("dev.yaml on main names the digest that never served", next, c.env("dev").image.digest);
    const pullsBefore = c.r.github.pulls.filter((p) => p.state === "open").length;
    const branchBefore = git(c.r.ctx.bare, [
      "for-each-ref",
      "--format=%(objectname)",
      "refs/heads/promote/staging",
    ]);
    const [run] = c.record(
      [
        await runWorkflow(
          ctx,
          "promote.yml",
          "workflow_dispatch",
          c.main(),
          { inputs: { to: "staging" } },
          { to: "staging" },
        ),
      ],
      "refused-source",
    );
    c.expect("promote dev -> staging is refused", false, run!.ok);
    c.expect(
      "no pull request was opened or updated",
      pullsBefore,
      c.r.github.pulls.filter((p) => p.state === "open").length,
    );
    c.expect(
      "promote/staging did not move",
      branchBefore,
      git(c.r.ctx.bare, ["for-each-ref", "--format=%(objectname)", "refs/heads/promote/staging"]),
    );
    c.expect(
      "the job summary says what dev serves instead",
      true,
      summaryOf(run).includes(`dev does not serve the digest its file names`) &&
        summaryOf(run).includes(`runs ${dev.image.repository}@${dev.image.digest}, not ${next}`),
    );
  } finally {
    await broken.stop();
  }
}

/**
 * A digest nobody signed, put into dev.yaml by hand: deploy-env refuses it before anything changes,
 * and says why. (The push -> dev chain proves the signed path: build-push signs, every deploy verifies.)
 */
export async function unsignedDigestRefused(c: Chain) {
  const dev = c.env("dev");
  const unsigned = await pushStandInImage(c.r.registry, dev.image.repository, "pushed by hand, never signed");
  const before = await observe(c.r.moto, dev);
  const definitions = await taskDefinitionCount(c, dev);
  const { before: b, after } = c.pushCommits([
    {
      message: "dev: a digest pushed by hand",
      edit: (d) => setField(d, "dev", /^ {2}digest: sha256:[a-f0-9]{64}/m, `  digest: ${unsigned}`),
    },
  ]);
  const runs = c.record(await push(c.r.ctx, b, after), "unsigned");
  c.expect(
    "the push starts deploy-env.yml only",
    ["deploy-env.yml"],
    runs.map((r) => r.workflow),
  );
  c.expect("deploy-env.yml fails", false, runs[0]?.ok);
  c.expect(
    "the job summary says the digest is not signed and nothing changed",
    true,
    summaryOf(runs[0]).includes(`refused: ${dev.image.repository}@${unsigned} is not signed`) &&
      summaryOf(runs[0]).includes("nothing was changed"),
  );
  const now = await observe(c.r.moto, dev);
  c.expect("dev still runs its signed image", before.image, now.image);
  c.expect("no task definition revision was registered", definitions, await taskDefinitionCount(c, dev));
  c.expect("dev's worker alias did not move", before.aliasVersion, now.aliasVersion);
}

async function taskDefinitionCount(c: Chain, env: Environment) {
  const ecs = client(ECSClient, c.r.moto, await assume(c.r.moto, env.deployRoleArn!), env.region);
  const { taskDefinitionArns } = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: apiTaskFamily(env) }),
  );
  return taskDefinitionArns?.length ?? 0;
}

/**
 * A fourth environment, `qa`, between the build environment and the next: one new file and its terraform
 * variables file (test/support/new-environment.ts), the next file's promotion.from. Terraform's part (roles,
 * resources) is applied first, as a person would; then the commit lands, deploy-env.yml deploys qa from
 * its file, promote.yml promotes the build environment's digest into it and the data plane serves it.
 * At the end qa is removed again (its file deleted, the order restored), so later chains see the seed's set.
 */
export async function fourthEnvironment(c: Chain) {
  const build = ENVIRONMENTS.map((name) => c.env(name)).find((env) => env.promotion.from === undefined)!;
  const next = ENVIRONMENTS.map((name) => c.env(name)).find((env) => env.promotion.from === build.name)!;
  const qa = { name: "qa", from: build.name, accountId: "444444444444" };
  let files: string[] = [];
  let generated: string[] = [];
  const { before, after } = c.pushCommits([
    {
      message: `environments: qa between ${build.name} and ${next.name}`,
      edit: (dir) => {
        files = addEnvironment(dir, qa);
        // npm run generate, as a person does before committing: qa's alarms and dashboards.
        generated = writeGenerated(dir);
        git(dir, ["add", "-A"]);
      },
    },
  ]);
  c.expect(
    "adding qa is one environment file, its tfvars and the next file's promotion.from",
    ["qa", next.name]
      .map((name) => repositoryPath(environmentFile(name, "environments"), "."))
      .concat("terraform/envs/qa.tfvars"),
    files,
  );
  c.expect(
    "npm run generate wrote qa's alarms and dashboards, and changed nothing else",
    true,
    generated.length > 0 && generated.every((file) => /(^|\/)qa[-/.]/.test(file)),
  );
  // Terraform applies before the file lands on main (the rehearsal's stand-in: roles and resources in moto).
  await c.r.addEnvironment(c.env("qa"));
  const runs = c.record(await push(c.r.ctx, before, after), "fourth-environment");
  // deploy.yml too: the generated alarms and dashboards changed (they reach dev through its deploy).
  c.expect(
    "the push starts deploy-env.yml, and deploy.yml for the generated output",
    ["deploy-env.yml", "deploy.yml"],
    runs.map((r) => r.workflow),
  );
  c.expect(
    "both succeed: deploy-env.yml deploys the changed files, qa's among them",
    [true, true],
    runs.map((r) => r.ok),
  );
  c.expect(
    `deploy-env.yml's matrix held qa and ${next.name} (the files the push changed)`,
    true,
    runs[0]?.summaries.some((s) => s.content.includes(`Deploying: \`["qa","${next.name}"]\``)),
  );
  const file = c.env("qa");
  const live = await observe(c.r.moto, file);
  c.expect(
    "qa's service runs the digest its file records",
    `${file.image.repository}@${file.image.digest}`,
    live.image,
  );
  c.expect(
    "qa's generated alarms exist in qa's account (observability-apply ran for it)",
    true,
    live.alarms.length > 0,
  );
  await promoteOnce(c, build.name, "qa");
  // Back to the seed's set: qa's file and tfvars deleted, the next environment promoting from the build one again.
  const removed = c.pushCommits([
    {
      message: "environments: remove qa",
      edit: (dir) => {
        git(dir, ["rm", "-q", "environments/qa.yaml", "terraform/envs/qa.tfvars", ...generated]);
        setField(dir, next.name, /^(\s+)from: qa\b/m, `$1from: ${build.name}`);
      },
    },
  ]);
  const removal = c.record(await push(c.r.ctx, removed.before, removed.after), "fourth-environment-removed");
  c.expect("removing qa deploys only what remains (a deleted file deploys nothing)", true, removal[0]?.ok);
  c.expect(`${next.name} promotes from ${build.name} again`, build.name, c.env(next.name).promotion.from);
}

const PREVIEW_PR = 7;

/** The pull_request_target payload GitHub sends for pull request PREVIEW_PR at `head`. */
function pullRequestEvent(c: Chain, action: string, head: string, labelled: boolean) {
  return {
    action,
    number: PREVIEW_PR,
    label: { name: "preview" },
    pull_request: {
      number: PREVIEW_PR,
      state: action === "closed" ? "closed" : "open",
      merged: false,
      labels: labelled ? [{ name: "preview" }] : [],
      head: { sha: head, ref: "feature/preview", repo: { full_name: c.r.ctx.repository } },
      base: { ref: "main", sha: c.main(), repo: { full_name: c.r.ctx.repository } },
    },
  };
}

/** What is left in the base account of preview pr-<n>: each kind checked with its own API, not the engine's. */
async function previewLeftovers(c: Chain, base: Environment): Promise<string[]> {
  const names = previewNames(base, PREVIEW_PR);
  const credentials = await assume(c.r.moto, base.deployRoleArn!);
  const at = <T>(Client: new (config: object) => T) => client(Client, c.r.moto, credentials, base.region);
  const left: string[] = [];
  const ecs = at(ECSClient);
  const services = await ecs.send(
    new DescribeServicesCommand({ cluster: base.api.cluster, services: [names.service] }),
  );
  if ((services.services ?? []).some((s) => s.status !== "INACTIVE"))
    left.push(`ECS service ${names.service}`);
  const families = await ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: names.taskFamily, status: "ACTIVE" }),
  );
  if ((families.taskDefinitionArns ?? []).length > 0) left.push(`task definitions ${names.taskFamily}`);
  const lambda = at(LambdaClient);
  const functions = (await lambda.send(new ListFunctionsCommand({}))).Functions ?? [];
  if (functions.some((f) => f.FunctionName === names.functionName))
    left.push(`Lambda function ${names.functionName}`);
  const mappings = (await lambda.send(new ListEventSourceMappingsCommand({}))).EventSourceMappings ?? [];
  if (mappings.some((m) => m.EventSourceArn?.endsWith(`:${names.queue}`)))
    left.push(`event source mapping of ${names.queue}`);
  const queues =
    (await at(SQSClient).send(new ListQueuesCommand({ QueueNamePrefix: names.queue }))).QueueUrls ?? [];
  if (queues.length > 0) left.push(`queues ${queues.join(", ")}`);
  const groups = await at(ElasticLoadBalancingV2Client)
    .send(new DescribeTargetGroupsCommand({ Names: [names.targetGroup] }))
    .then((r) => r.TargetGroups ?? [])
    .catch(() => []);
  if (groups.length > 0) left.push(`target group ${names.targetGroup}`);
  const objects = await at(S3Client)
    .send(new ListObjectsV2Command({ Bucket: base.bucket, Prefix: names.bucketPrefix }))
    .then((r) => r.KeyCount ?? 0)
    .catch(() => 0);
  if (objects > 0) left.push(`${objects} objects under ${names.bucketPrefix}`);
  return left;
}

/**
 * A pull request labelled `preview` (preview.yml on pull_request_target): the preview role builds the
 * PR's image unsigned and creates pr-7 from the base file (the one with `previews`): its own service on
 * the PR's digest, worker function, queues and key prefix, recorded as a GitHub deployment with its URL;
 * a document goes through it. A second push updates it; closing the PR destroys it, and nothing is left.
 */
export async function previewPullRequest(c: Chain) {
  const base = ENVIRONMENTS.map((name) => c.env(name)).find((env) => env.previews)!;
  const names = previewNames(base, PREVIEW_PR);
  const dir = join(c.r.ctx.work, `preview-${Date.now()}`);
  git(c.r.ctx.work, ["clone", "-q", `file://${c.r.ctx.bare}`, dir]);
  git(dir, ["checkout", "-q", "-b", "feature/preview"]);
  const pushBranch = (n: string) => {
    workerEdit(`preview ${n}`)(dir);
    git(dir, ["commit", "-q", "-am", `worker: preview change ${n}`]);
    git(dir, ["push", "-q", "origin", "HEAD:feature/preview"]);
    return git(dir, ["rev-parse", "HEAD"]);
  };
  const run = async (action: string, head: string, labelled: boolean, label: string) => {
    const [result] = c.record(
      [
        await runWorkflow(
          c.r.ctx,
          "preview.yml",
          "pull_request_target",
          c.main(),
          pullRequestEvent(c, action, head, labelled),
        ),
      ],
      label,
    );
    return result!;
  };
  const deployments = () => c.r.github.deployments.filter((d) => d.environment === names.name);
  const live = async (head: string, label: string) => {
    const digest = await registryDigest(c.r.registry, base.image.repository, `pr-${PREVIEW_PR}-${head}`);
    c.expect(
      `${label}: the preview build pushed pr-${PREVIEW_PR}-${head.slice(0, 7)}`,
      true,
      digest !== undefined,
    );
    const env = { ...previewEnvironment(base, PREVIEW_PR, { digest }), deployRoleArn: base.deployRoleArn };
    const seen = await observe(c.r.moto, env);
    c.expect(
      `${label}: ${names.service} runs the pull request's digest`,
      `${base.image.repository}@${digest}`,
      seen.image,
    );
    return { digest, env, seen };
  };

  const first = pushBranch("1");
  const created = await run("labeled", first, true, "preview-up");
  c.expect("labelling the pull request runs preview.yml, and it succeeds", true, created.ok);
  const { env } = await live(first, "created");
  const ecs = client(ECSClient, c.r.moto, await assume(c.r.moto, base.deployRoleArn!), base.region);
  const createdAt = async () => {
    const [service] =
      (await ecs.send(new DescribeServicesCommand({ cluster: base.api.cluster, services: [names.service] })))
        .services ?? [];
    const tags = service?.serviceArn
      ? ((await ecs.send(new ListTagsForResourceCommand({ resourceArn: service.serviceArn }))).tags ?? [])
      : [];
    return tags.find((t) => t.key === PREVIEW_CREATED_AT_TAG)?.value;
  };
  const stamped = await createdAt();
  c.expect("the preview's service is tagged with its creation time", true, stamped !== undefined);
  const recorded = deployments();
  c.expect(
    `GitHub records a transient deployment of ${names.name} at the PR's head, success with its URL`,
    [true, first, "success", names.url],
    [
      recorded[0]?.transient_environment,
      recorded[0]?.sha,
      recorded[0]?.statuses.at(-1)?.state,
      recorded[0]?.statuses.at(-1)?.environment_url,
    ],
  );
  const served = await c.r.dataPlane.serve(env);
  c.served.push(served);
  if (served.error) c.r.logs(`preview-${names.name}-data-plane`, served.error);
  c.expect(
    "a document through the preview's API container reached succeeded through its own worker",
    "succeeded",
    served.lambdaJob?.status ?? served.error,
  );

  const second = pushBranch("2");
  const updated = await run("synchronize", second, true, "preview-update");
  c.expect("a push to the pull request updates the preview", true, updated.ok);
  await live(second, "updated");
  c.expect("the update keeps the preview's creation time", stamped, await createdAt());
  c.expect("each push is a deployment of its own", 2, deployments().length);

  const closed = await run("closed", second, true, "preview-down");
  c.expect(
    "closing the pull request destroys the preview (and the destroy verified itself)",
    true,
    closed.ok,
  );
  c.expect(`nothing of ${names.name} is left in ${base.name}'s account`, [], await previewLeftovers(c, base));
  c.expect(
    `every deployment of ${names.name} is inactive`,
    deployments().map(() => "inactive"),
    deployments().map((d) => d.statuses.at(-1)?.state),
  );
}

export const CHAINS: Array<{ id: string; name: string; run: (c: Chain) => Promise<void> }> = [
  { id: "push-dev", name: "push -> dev", run: pushToDev },
  { id: "refuse", name: "promote refused while a dev alarm fires", run: promoteRefusedWhileAlarm },
  { id: "promote", name: "promote along the promotion order", run: promoteAlongTheOrder },
  { id: "two-commits", name: "two commits in one push", run: twoCommitsOnePush },
  { id: "race", name: "record race", run: recordRace },
  // After promote and race: qa starts from the next environment's file (a digest promote signed and
  // shipped), older than the build environment's newest, so promoting into qa moves it.
  { id: "fourth-environment", name: "a fourth environment, added by its file", run: fourthEnvironment },
  { id: "preview", name: "preview environment of a pull request", run: previewPullRequest },
  { id: "drift", name: "drift reported and repaired", run: driftRepaired },
  { id: "rollback", name: "rollback PR merged", run: rollbackMerged },
  { id: "broken", name: "broken rollout", run: brokenRollout },
  // Last: it leaves main's dev.yaml naming a digest no account serves.
  { id: "refused-source", name: "promotion refused: dev rolled back", run: promoteRefusedAfterRollback },
  // Last too: it leaves main's dev.yaml naming a digest nobody signed.
  { id: "unsigned", name: "unsigned digest refused", run: unsignedDigestRefused },
];

export async function runChain(r: Rehearsal, chain: (typeof CHAINS)[number]): Promise<ChainResult> {
  const c = new Chain(r);
  const started = performance.now();
  let error: string | undefined;
  try {
    await chain.run(c);
  } catch (e) {
    error = (e as Error).stack ?? String(e);
  }
  return {
    name: chain.name,
    ok: !error && c.checks.length > 0 && c.checks.every((check) => check.ok),
    seconds: (performance.now() - started) / 1000,
    checks: c.checks,
    served: c.served,
    runs: c.runs.map(({ log: _log, ...run }) => run),
    error,
  };
}
