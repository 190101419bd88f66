// Builders for test environments and for the AWS resources a deploy expects to exist (in moto).
import { readFileSync } from "node:fs";
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  LambdaClient,
  PublishVersionCommand,
} from "@aws-sdk/client-lambda";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  apiTaskFamily,
  type Environment,
  parseEnvironment,
  setEnvironmentFields,
} from "@content-engine/environments";
import { zipSync } from "fflate";
import { parseDocument } from "yaml";
import { type AwsOptions, createClient } from "../../actions/delivery/src/aws.ts";
import { MOTO_CREDENTIALS, MOTO_REGION } from "./moto.ts";

export const ENVIRONMENTS_DIR = new URL("../../environments/", import.meta.url).pathname;
export const devYaml = readFileSync(`${ENVIRONMENTS_DIR}dev.yaml`, "utf8");

export const digest = (byte: string) => `sha256:${byte.repeat(64)}`;

/**
 * dev.yaml without `signing`: the deploy tests run against moto with no registry to hold signatures.
 * Verification, and a deploy refused for an unsigned digest, are tested in signing.test.ts.
 */
const unsignedDevYaml = (() => {
  const doc = parseDocument(devYaml);
  doc.deleteIn(["signing"]);
  return doc.toString({ flowCollectionPadding: false });
})();

/** dev.yaml (without signing) with its region set for moto and any field changes applied (comments kept). */
export function testEnvironment(changes: Array<[string[], unknown]> = []): Environment {
  const text = setEnvironmentFields(unsignedDevYaml, [
    { path: ["region"], value: MOTO_REGION },
    ...changes.map(([path, value]) => ({ path, value })),
  ]);
  return parseEnvironment(text, "dev.yaml");
}

export function awsFor(endpoint: string): AwsOptions {
  return { region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS };
}

/**
 * A cluster + service running `image`, as terraform would leave it. `healthy` makes moto report running
 * tasks; `aws` acts in another account (the rehearsal's assumed deploy roles).
 */
export async function createEcsService(
  endpoint: string,
  env: Environment,
  image: string,
  healthy = true,
  aws: AwsOptions = awsFor(endpoint),
  /** Fargate in these subnets with these security groups, as terraform runs the API (RunTask needs it). */
  network?: { subnets: string[]; securityGroups: string[] },
) {
  const ecs = createClient(ECSClient, aws);
  await ecs.send(new CreateClusterCommand({ clusterName: env.api.cluster }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: apiTaskFamily(env),
      cpu: String(env.api.cpu),
      memory: String(env.api.memory),
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      executionRoleArn: "arn:aws:iam::123456789012:role/exec",
      containerDefinitions: [
        {
          name: "api",
          image,
          essential: true,
          memory: env.api.memory,
          portMappings: [{ containerPort: 8080 }],
          environment: [{ name: "PORT", value: "8080" }],
        },
        {
          name: "log-router",
          image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
          essential: false,
          memory: 64,
        },
      ],
      tags: [{ key: "owner", value: "platform" }],
    }),
  );
  const arn = td.taskDefinition!.taskDefinitionArn!;
  await ecs.send(
    new CreateServiceCommand({
      cluster: env.api.cluster,
      serviceName: env.api.service,
      taskDefinition: arn,
      desiredCount: env.api.desiredCount,
      ...(network
        ? {
            launchType: "FARGATE" as const,
            networkConfiguration: {
              awsvpcConfiguration: { ...network, assignPublicIp: "DISABLED" as const },
            },
          }
        : {}),
    }),
  );
  if (healthy) {
    await ecs.send(
      new UpdateServiceCommand({
        cluster: env.api.cluster,
        service: env.api.service,
        desiredCount: env.api.desiredCount,
      }),
    );
  }
  return { ecs, taskDefinitionArn: arn };
}

export function workerZip(body: string): Uint8Array {
  return zipSync(
    { "index.mjs": new TextEncoder().encode(body) },
    { mtime: new Date("2026-01-01T00:00:00Z") },
  );
}

/** The worker function with version 1 behind the alias, as terraform would leave it. */
export async function createWorkerFunction(
  endpoint: string,
  env: Environment,
  /** The zip it runs, or `{ imageUri }` for a container-image function (worker.package: image). */
  code: Uint8Array | { imageUri: string },
  aws: AwsOptions = awsFor(endpoint),
) {
  const iam = createClient(IAMClient, aws);
  const role = await iam
    .send(
      new CreateRoleCommand({
        RoleName: `${env.worker.functionName}-role`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      }),
    )
    .catch(() => undefined);
  const lambda = createClient(LambdaClient, aws);
  await lambda.send(
    new CreateFunctionCommand({
      FunctionName: env.worker.functionName,
      Role: role?.Role?.Arn ?? `arn:aws:iam::123456789012:role/${env.worker.functionName}-role`,
      ...(code instanceof Uint8Array
        ? { Runtime: "nodejs24.x" as const, Handler: "index.handler", Code: { ZipFile: code } }
        : { PackageType: "Image" as const, Code: { ImageUri: code.imageUri } }),
      MemorySize: env.worker.memory,
      Timeout: env.worker.timeout,
    }),
  );
  const version = await lambda.send(new PublishVersionCommand({ FunctionName: env.worker.functionName }));
  await lambda.send(
    new CreateAliasCommand({
      FunctionName: env.worker.functionName,
      Name: env.worker.alias,
      FunctionVersion: version.Version,
    }),
  );
  return { lambda };
}

/** An SQS queue feeding the worker alias, with the given batch size and maximum concurrency. */
export async function createWorkerMapping(
  endpoint: string,
  env: Environment,
  batchSize: number,
  maxConcurrency: number,
) {
  const sqs = createClient(SQSClient, awsFor(endpoint));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `${env.worker.functionName}-jobs` }));
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const lambda = createClient(LambdaClient, awsFor(endpoint));
  return lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: `${env.worker.functionName}:${env.worker.alias}`,
      EventSourceArn: attributes.Attributes!.QueueArn,
      BatchSize: batchSize,
      ScalingConfig: { MaximumConcurrency: maxConcurrency },
    }),
  );
}

/** A page-tier alarm of dev (it notifies dev's page topic): what promote and canaries gate on. */
export async function createAlarm(
  endpoint: string,
  name: string,
  actions: string[] = [testEnvironment().alarms.pageTopicArn],
) {
  const cloudwatch = createClient(CloudWatchClient, awsFor(endpoint));
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      AlarmActions: actions,
      Namespace: "ContentEngine",
      MetricName: "WorkerErrors",
      Statistic: "Sum",
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: "GreaterThanThreshold",
    }),
  );
  return cloudwatch;
}

/** A page-tier alarm of dev, put in ALARM (what a deploy's alarm gate reads). */
export async function fireAlarm(endpoint: string, name: string) {
  const cloudwatch = await createAlarm(endpoint, name);
  await cloudwatch.send(
    new SetAlarmStateCommand({ AlarmName: name, StateValue: "ALARM", StateReason: "test" }),
  );
  return cloudwatch;
}
