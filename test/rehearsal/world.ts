// The rehearsal's world: moto (one server, every account apart through STS), a local OCI registry
// (crane), a bare git remote seeded from this checkout, and the AWS resources terraform would leave
// in each environment's account. Nothing here is reachable beyond 127.0.0.1.
import { spawnSync } from "node:child_process";
import { createPublicKey } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  CreateSecurityGroupCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import { type ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { CreateAliasCommand, CreateKeyCommand, GetPublicKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  CreateEventSourceMappingCommand,
  GetAliasCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import { type BucketLocationConstraint, CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import {
  apiTaskFamily,
  type Environment,
  environmentFile,
  environmentNames,
  loadEnvironments,
  parseEnvironment,
  queueNames,
  setEnvironmentFields,
} from "@content-engine/environments";
import { cosignReference } from "../../actions/delivery/src/signing.ts";
import { repoRoot, toolPath } from "../../scripts/tools.ts";
import { createEcsService, createWorkerFunction, workerZip } from "../support/delivery-fixtures.ts";
import { type RecordingProxy, startRecordingProxy } from "../support/iam-recording-proxy.ts";
import type { RecordedCall } from "../support/iam-requests.ts";
import { MOTO_CREDENTIALS, type MotoServer, startMoto as startMotoServer } from "../support/moto.ts";
import { type Registry, startRegistry } from "../support/registry.ts";

export { pushStandInImage } from "../support/registry.ts";

import { git } from "./git.ts";

/** The environments of this checkout, in promotion order: the files (environments/<name>.yaml) are the list. */
export const ENVIRONMENTS: readonly string[] = environmentNames(join(repoRoot, "environments"));
export type EnvName = string;

export interface OverlayEdit {
  path: string[];
  value: unknown;
  why: string;
}

/**
 * What the rehearsal changes in a seeded environment file, and why: wall-clock gates that would make
 * a ten-minute rehearsal wait hours, and, in the build environment (the one without promotion.from),
 * one pre-deploy task and a two-step linear canary, so push -> dev proves both. Everything else is the
 * repository's own file. Rules by what a file holds, not by its name: a new environment gets them too.
 */
export function overlay(env: Environment): OverlayEdit[] {
  const edits: OverlayEdit[] = [];
  if (env.promotion.soakMinutes > 0)
    edits.push({
      path: ["promotion", "soakMinutes"],
      value: 0,
      why: "soak time is wall-clock; the gate itself is unit-tested",
    });
  if (env.promotion.freezeWindows.length > 0)
    edits.push({
      path: ["promotion", "freezeWindows"],
      value: [],
      why: "a weekend freeze would refuse on Saturdays",
    });
  if (env.promotion.from === undefined) {
    edits.push(
      {
        path: ["api", "preDeploy"],
        value: [
          { command: ["/nodejs/bin/node", "-e", "console.log('pre-deploy check ok')"], timeoutSeconds: 120 },
        ],
        why: "the build environment's file runs no migration; one pre-deploy task proves RunTask before the rollout",
      },
      {
        path: ["worker", "canary"],
        value: { type: "linear", percent: 40, intervalSeconds: 1 },
        why: "the build environment's file shifts at once; a two-step linear canary (40%, 80%, 1 s each) proves the schedule",
      },
    );
  } else if (env.worker.canary?.minutes !== undefined && env.worker.canary.minutes > 0.05) {
    edits.push({
      path: ["worker", "canary", "minutes"],
      value: 0.05,
      why: "a 3 s canary instead of minutes",
    });
  } else if (env.worker.canary?.intervalSeconds !== undefined && env.worker.canary.intervalSeconds > 3) {
    edits.push({
      path: ["worker", "canary", "intervalSeconds"],
      value: 3,
      why: "3 s canary steps instead of minutes",
    });
  }
  return edits;
}

/** Every seeded file's overlay, by environment (the rehearsal report records it). */
export function overlays(dir: string): Record<string, OverlayEdit[]> {
  return Object.fromEntries(loadEnvironments(dir).environments.map((env) => [env.name, overlay(env)]));
}

/** Credentials acting in the account of `roleArn`: moto's STS keeps accounts apart by the assumed role. */
export async function assume(endpoint: string, roleArn: string): Promise<AwsCredentialIdentity> {
  const sts = new STSClient({ region: "eu-west-1", endpoint, credentials: MOTO_CREDENTIALS });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "rehearsal" }),
  );
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  };
}

export function client<T>(
  Client: new (config: object) => T,
  endpoint: string,
  credentials: AwsCredentialIdentity,
  region = "eu-west-1",
): T {
  return new Client({ region, endpoint, credentials });
}

/** The files of this checkout a clone would have (tracked and new, not ignored), copied to `dir`. */
function copyCheckout(root: string, dir: string) {
  const files = git(root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    try {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(root, file), join(dir, file), { verbatimSymlinks: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // deleted, not yet committed
    }
  }
}

/**
 * Deliberate breaks (REHEARSAL_BREAK=name) applied to the seed, never to the checkout: each must turn
 * the rehearsal red, which is how we know its checks can fail.
 */
export const BREAKS: Record<string, { file: string; from: string | RegExp; to: string }> = {
  // deploy.yml points at a Dockerfile the repository does not have.
  dockerfile: {
    file: ".github/workflows/deploy.yml",
    from: "dockerfile: services/api/Dockerfile",
    to: "dockerfile: Dockerfile",
  },
  // The API image stops carrying the processor thread its consumer role loads (round 2's defect).
  "drop-thread": {
    file: "services/api/Dockerfile",
    from: "COPY --from=build --chown=10001:10001 /src/services/worker/dist/processor-thread.mjs /app/processor-thread.mjs",
    to: "",
  },
  // promote stops carrying the worker bundle (in the bundled action that runs): staging keeps its own worker.
  "drop-worker": {
    file: "actions/promote/dist/action.js",
    from: '[["image","digest"],["image","tag"],["worker","bundle"]]',
    to: '[["image","digest"],["image","tag"]]',
  },
  // deploy-ecs stops refusing what its signature check rejects (the bundled action): the unsigned
  // digest rolls out.
  "accept-unsigned": {
    file: "actions/deploy-ecs/dist/action.js",
    from: /if\((\w+)\)return (\w+)\((\w+),\{operation:(\w+)\.operation,target:\4\.target,status:"failed",reason:`refused: /,
    to: 'if(false&&$1)return $2($3,{operation:$4.operation,target:$4.target,status:"failed",reason:`refused: ',
  },
  // A preview's destroy skips its worker (the bundled action): the function, its alias and its event
  // source mapping outlive the pull request, and the verification must say so.
  "preview-keeps-worker": {
    file: "actions/preview/dist/action.js",
    from: /await (\w+)\("worker",\(\)=>/,
    to: 'await $1("worker",async()=>[])||(()=>',
  },
  // promote stops checking that the source serves the digest its file names (the bundled action).
  "promote-source": {
    file: "actions/promote/dist/action.js",
    from: /if\(\w+\.digest!==\w+\.image\.digest&&/,
    to: "if(false&&",
  },
};

function applyBreak(dir: string, name: string) {
  const brk = BREAKS[name];
  if (!brk) throw new Error(`REHEARSAL_BREAK=${name}: expected one of ${Object.keys(BREAKS).join(", ")}`);
  const file = join(dir, brk.file);
  const text = readFileSync(file, "utf8");
  if (typeof brk.from === "string" ? !text.includes(brk.from) : !brk.from.test(text))
    throw new Error(`REHEARSAL_BREAK=${name}: ${brk.file} no longer holds ${JSON.stringify(brk.from)}`);
  writeFileSync(file, text.replace(brk.from, brk.to));
}

/** The bare remote, its main seeded with this checkout (overlay applied) in one commit. */
export function seedRemote(
  root: string,
  work: string,
  breakName?: string,
  /** Files to write into the seed (path relative to the checkout → text), e.g. the signing public key. */
  files: Record<string, string> = {},
): { bare: string; seed: string } {
  const bare = join(work, "remote.git");
  git(work, ["init", "-q", "--bare", "-b", "main", bare]);
  git(bare, ["config", "uploadpack.allowAnySHA1InWant", "true"]);
  const seedDir = join(work, "seed");
  mkdirSync(seedDir);
  copyCheckout(root, seedDir);
  for (const env of loadEnvironments(join(seedDir, "environments")).environments) {
    const file = join(seedDir, "environments", `${env.name}.yaml`);
    const text = readFileSync(file, "utf8");
    writeFileSync(file, setEnvironmentFields(text, overlay(env), file));
  }
  for (const [path, text] of Object.entries(files)) writeFileSync(join(seedDir, path), text);
  if (breakName) applyBreak(seedDir, breakName);
  git(seedDir, ["init", "-q", "-b", "main"]);
  git(seedDir, ["add", "-A"]);
  git(seedDir, ["commit", "-q", "-m", "seed: this checkout, rehearsal overlay on the environment files"]);
  git(seedDir, ["push", "-q", `file://${bare}`, "HEAD:main"]);
  return { bare, seed: git(seedDir, ["rev-parse", "HEAD"]) };
}

export function environmentAt(bare: string, ref: string, name: EnvName): Environment {
  const file = environmentFile(name, "environments");
  return parseEnvironment(git(bare, ["show", `${ref}:${file}`]), file);
}

/**
 * The signing key terraform creates (terraform/modules/ecr): an ECC P-256 KMS key in the account that
 * builds, under the alias `signing.key` names, here in moto (moto_server.py makes its Sign real).
 * Returns the seed's files: the public key (PEM) where `signing.publicKey` points, as a person commits
 * `terraform output -raw signing_public_key`.
 */
export async function createSigningKey(endpoint: string, env: Environment): Promise<Record<string, string>> {
  const alias = env.signing?.key?.match(/^awskms:\/\/\/(alias\/.+)$/)?.[1];
  if (!alias || !env.signing)
    throw new Error(`${env.name}.yaml: signing.key must name a KMS alias for the rehearsal`);
  const kms = client(KMSClient, endpoint, await assume(endpoint, env.deployRoleArn!), env.region);
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }),
  );
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: KeyMetadata!.KeyId }));
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: alias }));
  const pem = createPublicKey({ key: Buffer.from(PublicKey!), format: "der", type: "spki" }).export({
    format: "pem",
    type: "spki",
  });
  return { [join("environments", env.signing.publicKey)]: pem.toString() };
}

/** `cosign sign` of a digest with the environment's KMS key, as build-push does in its job. */
export async function signAs(endpoint: string, registry: string, env: Environment, digest: string) {
  const credentials = await assume(endpoint, env.deployRoleArn!);
  const result = spawnSync(
    toolPath("cosign"),
    [
      "sign",
      "--yes",
      "--key",
      env.signing!.key!,
      "--tlog-upload=false",
      "--allow-http-registry",
      "--allow-insecure-registry",
      cosignReference(env.image.repository, digest, `http://${registry}`),
    ],
    {
      encoding: "utf8",
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: env.region,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_SESSION_TOKEN: credentials.sessionToken,
      },
    },
  );
  if (result.status !== 0) throw new Error(`cosign sign ${digest} failed: ${result.stderr}`);
}

const trust = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
});

/** What terraform leaves in one environment's account: deploy role, ECS service on the seed image, ALB, worker function. */
export async function provision(endpoint: string, env: Environment, options: { healthy: boolean }) {
  const credentials = await assume(endpoint, env.deployRoleArn!);
  const aws = { region: env.region, endpoint, credentials };
  const iam = client(IAMClient, endpoint, credentials);
  // The deploy role, the read role promote assumes to plan this environment in its PR, and the role
  // preview.yml runs as (an environment with previews).
  for (const role of [env.deployRoleArn, env.readRoleArn, env.previews?.roleArn].filter(Boolean)) {
    await iam.send(
      new CreateRoleCommand({ RoleName: role!.split("/").pop()!, AssumeRolePolicyDocument: trust }),
    );
  }
  // The VPC the service runs in (moto's default one, with DNS hostnames on as terraform's network sets).
  const ec2 = client(EC2Client, endpoint, credentials, env.region);
  const vpc = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!;
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpc, EnableDnsHostnames: { Value: true } }));
  const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!.filter((s) => s.VpcId === vpc);
  const group = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${env.api.service}-tasks`,
      Description: "api tasks",
      VpcId: vpc,
    }),
  );
  const { ecs } = await createEcsService(
    endpoint,
    env,
    `${env.image.repository}@${env.image.digest}`,
    options.healthy,
    aws,
    { subnets: [subnets[0]!.SubnetId!], securityGroups: [group.GroupId!] },
  );
  await runTerraformTaskDefinition(ecs, env);
  // The load balancer and target group the ALB alarms name (terraform's names).
  const elb = client(ElasticLoadBalancingV2Client, endpoint, credentials, env.region);
  const { LoadBalancers } = await elb.send(
    new CreateLoadBalancerCommand({
      Name: env.api.loadBalancer,
      Subnets: subnets.slice(0, 2).map((s) => s.SubnetId!),
    }),
  );
  const { TargetGroups } = await elb.send(
    new CreateTargetGroupCommand({
      Name: env.api.targetGroup,
      Protocol: "HTTP",
      Port: 8080,
      VpcId: vpc,
      TargetType: "ip",
    }),
  );
  // Its listener, forwarding to the API (terraform's is HTTPS 443 with the certificate; HTTP here).
  await elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: LoadBalancers![0]!.LoadBalancerArn,
      Protocol: "HTTP",
      Port: 80,
      DefaultActions: [{ Type: "forward", TargetGroupArn: TargetGroups![0]!.TargetGroupArn }],
    }),
  );
  // The bucket (terraform's storage module): previews keep their objects under a prefix of it.
  await client(S3Client, endpoint, credentials, env.region).send(
    new CreateBucketCommand({
      Bucket: env.bucket,
      CreateBucketConfiguration: { LocationConstraint: env.region as BucketLocationConstraint },
    }),
  );
  const { lambda } = await createWorkerFunction(endpoint, env, workerZip("// terraform's placeholder"), aws);
  // The jobs queue and the event source mapping that feeds the alias (terraform's lambda-worker module).
  const sqs = client(SQSClient, endpoint, credentials, env.region);
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: queueNames(env).jobs }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl!, AttributeNames: ["QueueArn"] }),
  );
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: env.worker.functionName, Name: env.worker.alias }),
  );
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: alias.AliasArn,
      EventSourceArn: Attributes!.QueueArn,
      BatchSize: env.worker.batchSize,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: env.worker.maxConcurrency },
    }),
  );
  // The function's configuration as terraform's lambda-worker module sets it; deploys change only code.
  await lambda.send(
    new UpdateFunctionConfigurationCommand({
      FunctionName: env.worker.functionName,
      Environment: {
        Variables: {
          ...sharedEnvironment(env),
          CONTENT_ENGINE_PROCESSOR: "local",
          CONTENT_ENGINE_BEDROCK_MODEL_ID: "",
        },
      },
    }),
  );
}

/** terraform/modules/content-engine: the environment both the API task and the worker function get. */
function sharedEnvironment(env: Environment): Record<string, string> {
  return {
    CONTENT_ENGINE_BUCKET: env.bucket,
    CONTENT_ENGINE_QUEUE_URL: env.queue.url,
    CONTENT_ENGINE_DLQ_URL: env.queue.dlqUrl ?? "",
    LOG_LEVEL: "info",
  };
}

/**
 * The api container as terraform's ecs-service module defines it (user, read-only root, /tmp volume,
 * no capabilities, the API keys secret, the health check), registered and run by the service: what a
 * deploy carries forward and the data-plane stand-in runs.
 */
async function runTerraformTaskDefinition(ecs: ECSClient, env: Environment) {
  const port = 8080;
  const { taskDefinition } = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: apiTaskFamily(env),
      cpu: String(env.api.cpu),
      memory: String(env.api.memory),
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      executionRoleArn: `arn:aws:iam::${env.accountId}:role/${env.api.cluster}-api-execution`,
      volumes: [{ name: "tmp" }],
      containerDefinitions: [
        {
          name: "api",
          image: `${env.image.repository}@${env.image.digest}`,
          essential: true,
          user: "10001:10001",
          readonlyRootFilesystem: true,
          portMappings: [{ containerPort: port, protocol: "tcp" }],
          environment: Object.entries({ ...sharedEnvironment(env), PORT: String(port) }).map(
            ([name, value]) => ({
              name,
              value,
            }),
          ),
          secrets: [
            {
              name: "CONTENT_ENGINE_API_KEYS",
              valueFrom: `arn:aws:secretsmanager:${env.region}:${env.accountId}:secret:${env.api.cluster}-api-keys`,
            },
          ],
          mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
          // terraform/modules/ecs-service: the API logs to /ecs/<name>/api (a pre-deploy task's log tail).
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": `/ecs/${env.api.cluster}/api`,
              "awslogs-region": env.region,
              "awslogs-stream-prefix": "api",
            },
          },
          linuxParameters: { capabilities: { drop: ["ALL"] } },
          healthCheck: API_HEALTH_CHECK,
        },
      ],
    }),
  );
  await ecs.send(
    new UpdateServiceCommand({
      cluster: env.api.cluster,
      service: env.api.service,
      taskDefinition: taskDefinition!.taskDefinitionArn,
      desiredCount: env.api.desiredCount,
    }),
  );
}

/** terraform/modules/ecs-service's container health check: the image's HEALTHCHECK, which ECS ignores. */
export const API_HEALTH_CHECK = {
  command: [
    "CMD",
    "/nodejs/bin/node",
    "-e",
    "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
  ],
  interval: 10,
  timeout: 3,
  retries: 3,
  startPeriod: 10,
};

/** Every AWS call made to any moto of the rehearsal, with who made it: the IAM record (rehearse.ts checks it). */
export const iamRecord: RecordedCall[] = [];
const recording = new Set<RecordingProxy>();

/** Resolves once every call made so far to a running moto is in `iamRecord`. */
export async function flushIamRecord() {
  await Promise.all([...recording].map((proxy) => proxy.flush()));
}

/** moto behind a recording proxy (on its own thread): the endpoint every job and check uses is the proxy's. */
export async function startMoto(): Promise<MotoServer> {
  const moto = await startMotoServer();
  const proxy = await startRecordingProxy(moto.endpoint, {
    restIsS3: false,
    onCall: (call) => iamRecord.push(call),
  });
  recording.add(proxy);
  return {
    ...moto,
    endpoint: proxy.url,
    async stop() {
      recording.delete(proxy);
      await proxy.stop();
      await moto.stop();
    },
  };
}

export { type MotoServer, type Registry, startRegistry };
