// The IAM record at the moto boundary, for the delivery roles: calls signed with credentials that STS
// issued for a role (through a job's OIDC token, or by one role assuming another) are attributed to that
// role and decided against its rendered policies; the harness's own calls are not. The rehearsal checks
// the record of every real workflow run this way (rehearse.ts); these tests pin the mapping and prove
// the check fails, naming role, action and resource.
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { KMSClient, SignCommand } from "@aws-sdk/client-kms";
import {
  CreateEventSourceMappingCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from "@aws-sdk/client-lambda";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { type Environment, loadEnvironments } from "@content-engine/environments";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assume } from "../rehearsal/world.ts";
import { type AwsProxy, startAwsProxy } from "../support/aws-proxy.ts";
import { createWorkerFunction, workerZip } from "../support/delivery-fixtures.ts";
import { auditFailures, auditRecord, createIamRecorder } from "../support/iam-audit.ts";
import { assumeWithJobToken, jobClaims } from "../support/iam-oidc-token.ts";
import type { RecordedCall } from "../support/iam-requests.ts";
import { type IamRole, renderDeliveryRoles, subjectClaimKeys, withoutGrant } from "../support/iam-roles.ts";
import { useMoto } from "../support/moto.ts";

const REPOSITORY = "acme/content-engine";
const moto = useMoto();
let proxy: AwsProxy;
let recorder: ReturnType<typeof createIamRecorder>;
let roles: IamRole[];
let dev: Environment;
let staging: Environment;
let claimKeys: string[];

beforeAll(async () => {
  const set = loadEnvironments();
  // The build environment and the one it promotes to: the scenarios below use both.
  [dev, staging] = [set.build, set.next(set.build.name)[0]!];
  roles = await renderDeliveryRoles(set.environments, REPOSITORY);
  claimKeys = await subjectClaimKeys();
  recorder = createIamRecorder();
  proxy = await startAwsProxy(moto.endpoint, { restIsS3: false, onExchange: recorder.onExchange });
});
afterAll(async () => {
  await proxy?.stop();
});

const aws = (credentials: AwsCredentialIdentity) => ({
  region: dev.region,
  endpoint: proxy.url,
  credentials,
});

/** A job's OIDC token traded for `roleArn`'s credentials, unsigned as the real action sends it. */
async function withToken(roleArn: string, job: { environment: string; workflow: string; ref?: string }) {
  const claims = jobClaims({
    repository: REPOSITORY,
    workflowFile: job.workflow,
    ref: job.ref ?? "refs/heads/main",
    eventName: "push",
    environment: job.environment,
  });
  return assumeWithJobToken(proxy.url, roleArn, claims, claimKeys);
}

describe("the delivery roles' calls, recorded at moto", () => {
  let calls: RecordedCall[];

  beforeAll(async () => {
    // What terraform leaves in dev's account, set up by the harness (not checked).
    const harness = await assume(proxy.url, dev.deployRoleArn!);
    await createWorkerFunction(proxy.url, dev, workerZip("// placeholder"), aws(harness));
    const sqs = new SQSClient(aws(harness));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: "content-engine-dev-jobs" }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    await new LambdaClient(aws(harness)).send(
      new CreateEventSourceMappingCommand({
        FunctionName: `${dev.worker.functionName}:${dev.worker.alias}`,
        EventSourceArn: Attributes!.QueueArn,
        BatchSize: 5,
      }),
    );

    // deploy-env's job in dev: register a revision (passing the execution role), roll out, alarms, mapping.
    const deploy = aws(
      await withToken(dev.deployRoleArn!, { environment: "dev", workflow: "deploy-env.yml" }),
    );
    const ecs = new ECSClient(deploy);
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "content-engine-dev-api",
        executionRoleArn: `arn:aws:iam::${dev.accountId}:role/content-engine-dev-api-execution`,
        containerDefinitions: [{ name: "api", image: "busybox", memory: 128 }],
      }),
    );
    // No service in this account: moto answers ClusterNotFound; what IAM decides is the call.
    await ecs
      .send(new DescribeServicesCommand({ cluster: dev.api.cluster, services: [dev.api.service] }))
      .catch(() => undefined);
    const cloudwatch = new CloudWatchClient(deploy);
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: "content-engine-dev-api-5xx",
        Namespace: "ContentEngine",
        MetricName: "Errors",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: "content-engine-dev-" }));
    const lambda = new LambdaClient(deploy);
    const { EventSourceMappings } = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: `${dev.worker.functionName}:${dev.worker.alias}` }),
    );
    await lambda.send(
      new UpdateEventSourceMappingCommand({ UUID: EventSourceMappings![0]!.UUID, BatchSize: 10 }),
    );

    // promote's job in dev, as dev's read role, plans staging through staging's read role.
    const read = aws(await withToken(dev.readRoleArn!, { environment: "dev", workflow: "promote.yml" }));
    await new STSClient(read).send(
      new AssumeRoleCommand({ RoleArn: staging.readRoleArn!, RoleSessionName: "promote-plan" }),
    );
    calls = recorder.calls();
  });

  it("attributes each call to the role STS issued its key for, and the harness's to no role", () => {
    const by = (arn: string) => calls.filter((c) => c.principal === arn).map((c) => c.operation);
    expect(by(dev.deployRoleArn!)).toEqual([
      "ecs RegisterTaskDefinition",
      "ecs DescribeServices",
      "cloudwatch PutMetricAlarm",
      "cloudwatch DescribeAlarms",
      "lambda ListEventSourceMappings",
      "lambda UpdateEventSourceMapping",
    ]);
    expect(by(dev.readRoleArn!)).toEqual(["sts AssumeRole"]);
    const harness = calls.filter(
      (c) => !c.checked && !c.operation.startsWith("sts AssumeRoleWithWebIdentity"),
    );
    expect(harness.length).toBeGreaterThan(4);
  });

  it("derives what IAM authorises: the role a task definition passes, the function a mapping invokes", () => {
    const register = calls.find((c) => c.operation === "ecs RegisterTaskDefinition")!;
    expect(register.requests).toEqual([
      { action: "ecs:RegisterTaskDefinition", resource: "*" },
      {
        action: "iam:PassRole",
        resource: `arn:aws:iam::${dev.accountId}:role/content-engine-dev-api-execution`,
        context: { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
      },
    ]);
    const update = calls.find((c) => c.operation === "lambda UpdateEventSourceMapping")!;
    // The mapping's function as the answers named it (moto gives the alias's version, AWS the alias).
    expect(update.requests[0]?.context).toEqual({
      "lambda:FunctionArn": expect.stringMatching(
        new RegExp(
          `^arn:aws:lambda:${dev.region}:${dev.accountId}:function:${dev.worker.functionName}:\\w+$`,
        ),
      ),
    });
  });

  it("allows every call of the deploy and read roles, and the tokens and role chain they came through", () => {
    const result = auditRecord(calls, roles);
    expect(auditFailures(result)).toEqual([]);
    expect(result.actionOnly).toEqual([]);
  });

  it("names the role, the action and the resource when a grant goes missing", () => {
    const result = auditRecord(
      calls,
      roles.map((r) => (r.name === "dev deploy" ? withoutGrant(r, "ecs:DescribeServices") : r)),
    );
    expect(auditFailures(result)).toEqual([
      `✖ dev deploy (${dev.deployRoleArn}) may not ecs:DescribeServices on arn:aws:ecs:${dev.region}:${dev.accountId}:service/${dev.api.cluster}/${dev.api.service}: implicit-deny [ecs DescribeServices]`,
    ]);
  });

  it("refuses at the boundary a token of another branch, even where moto let it through", async () => {
    await withToken(dev.deployRoleArn!, {
      environment: "dev",
      workflow: "deploy-env.yml",
      ref: "refs/heads/fix",
    });
    const result = auditRecord(recorder.calls(), roles);
    expect(result.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `may not sts:AssumeRoleWithWebIdentity on ${dev.deployRoleArn}: implicit-deny \\(its trust policy refuses sub .*deploy-env\\.yml@refs/heads/fix\\)$`,
        ),
      ),
    ]);
  });

  it("decides a role chain on both sides: the caller's grant and the target's trust", async () => {
    const deploy = aws(await withToken(dev.deployRoleArn!, { environment: "dev", workflow: "drift.yml" }));
    await new STSClient(deploy)
      .send(new AssumeRoleCommand({ RoleArn: staging.readRoleArn!, RoleSessionName: "x" }))
      .catch(() => undefined);
    const last = recorder.calls().at(-1)!;
    const result = auditRecord([last], roles);
    expect(result.violations.map((v) => v.message)).toEqual([
      `dev deploy (${dev.deployRoleArn}) may not sts:AssumeRole on ${staging.readRoleArn}: implicit-deny`,
    ]);
    // Granted the call, the target's trust still refuses anyone but dev's read role.
    const granted = roles.map((r) =>
      r.name === "dev deploy"
        ? {
            ...r,
            permissions: [
              ...r.permissions,
              {
                Statement: [
                  { Effect: "Allow" as const, Action: "sts:AssumeRole", Resource: staging.readRoleArn! },
                ],
              },
            ],
          }
        : r,
    );
    expect(auditRecord([last], granted).violations[0]?.message).toBe(
      `dev deploy (${dev.deployRoleArn}) may not sts:AssumeRole on ${staging.readRoleArn}: implicit-deny (staging promote read's trust policy refuses dev deploy)`,
    );
  });
  it("decides the preview role's calls (preview.yml's token, in the preview environment) against its own policies", async () => {
    const before = recorder.calls().length;
    const previewRole = dev.previews!.roleArn!;
    const preview = aws(await withToken(previewRole, { environment: "preview", workflow: "preview.yml" }));
    const ecs = new ECSClient(preview);
    // Reading the base service (what a preview copies) is granted; rolling the base out is not.
    await ecs
      .send(new DescribeServicesCommand({ cluster: dev.api.cluster, services: [dev.api.service] }))
      .catch(() => undefined);
    await ecs
      .send(new UpdateServiceCommand({ cluster: dev.api.cluster, service: dev.api.service, desiredCount: 0 }))
      .catch(() => undefined);
    // Nor signing with the release key.
    const key = `arn:aws:kms:${dev.region}:${dev.accountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    await new KMSClient(preview)
      .send(
        new SignCommand({
          KeyId: key,
          Message: Buffer.from("sha256:…"),
          MessageType: "RAW",
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      )
      .catch(() => undefined);
    // preview.yml's token is no key to the deploy role, in any environment.
    await withToken(dev.deployRoleArn!, { environment: "preview", workflow: "preview.yml" });
    await withToken(dev.deployRoleArn!, { environment: "dev", workflow: "preview.yml" });

    const made = recorder.calls().slice(before);
    expect(made.filter((c) => c.principal === previewRole).map((c) => c.operation)).toEqual([
      "ecs DescribeServices",
      "ecs UpdateService",
      "kms Sign",
    ]);
    const result = auditRecord(made, roles);
    const service = `arn:aws:ecs:${dev.region}:${dev.accountId}:service/${dev.api.cluster}/${dev.api.service}`;
    expect(result.violations.map((v) => v.message)).toEqual([
      `dev preview (${previewRole}) may not ecs:UpdateService on ${service}: implicit-deny`,
      `dev preview (${previewRole}) may not kms:Sign on ${key}: implicit-deny`,
      expect.stringMatching(
        new RegExp(
          `may not sts:AssumeRoleWithWebIdentity on ${dev.deployRoleArn}: implicit-deny \\(its trust policy refuses sub repo:${REPOSITORY}:environment:preview:job_workflow_ref:.*preview\\.yml@refs/heads/main\\)$`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `may not sts:AssumeRoleWithWebIdentity on ${dev.deployRoleArn}: implicit-deny \\(its trust policy refuses sub repo:${REPOSITORY}:environment:dev:job_workflow_ref:.*preview\\.yml@refs/heads/main\\)$`,
        ),
      ),
    ]);
    expect(result.used["github-oidc/previews"]).toEqual(["ecs:DescribeServices"]);
  });
});
