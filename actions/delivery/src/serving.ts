// What an environment serves right now, read from the live system (never from its file): the image
// digest of the ECS service's primary deployment or of the Helm release, and the worker code behind
// the Lambda alias. Read-only; promote checks its source with it before moving a digest on.
import { DescribeTaskDefinitionCommand, ECSClient } from "@aws-sdk/client-ecs";
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { Environment } from "@content-engine/environments";
import { type AwsOptions, createClient } from "./aws.ts";
import { type CommandRunner, runCommand } from "./command.ts";
import { readRunningService } from "./ecs.ts";
import { primaryDeployment } from "./ecs-diagnostics.ts";
import { pickContainer } from "./ecs-task-definition.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { releaseStatus } from "./helm-release.ts";
import { eksOf } from "./helm-values.ts";
import { connectCluster } from "./kube-connection.ts";
import { readLambda } from "./lambda-live.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";

export interface Serving {
  /** Where the image was read: the task definition revision, or the release and its revision. */
  source: string;
  /** The API image's digest (undefined when the live reference is a tag). */
  digest?: string;
  /** The API image as the live system names it. */
  image?: string;
  /** ECS: what the worker alias serves (EKS runs the worker from the same image). */
  worker?: { version?: string; codeSha256?: string; split: Record<string, number> };
  /** A rollout that is still moving or did not settle (ECS: more than one deployment, or a failed primary). */
  unsettled?: string;
}

export interface ServingOptions {
  env: Environment;
  aws?: Partial<AwsOptions>;
  ecs?: ECSClient;
  lambda?: LambdaClient;
  /** EKS: an existing kubeconfig (default: DescribeCluster + an STS token). */
  kubeconfig?: string;
  helm?: string;
  run?: CommandRunner;
  reporter?: Reporter;
}

/** Lambda's CodeSha256 (base64 SHA-256 of the zip) of a worker bundle recorded by its OCI digest. */
export function bundleCodeSha256(bundleDigest: string): string {
  return Buffer.from(bundleDigest.replace(/^sha256:/, ""), "hex").toString("base64");
}

const digestOf = (image: string | undefined) => image?.match(/@(sha256:[a-f0-9]{64})$/)?.[1];

async function servingEcs(options: ServingOptions): Promise<Serving> {
  const { env } = options;
  const aws: AwsOptions = { region: env.region, ...options.aws };
  const ecs = options.ecs ?? createClient(ECSClient, aws);
  const lambda = options.lambda ?? createClient(LambdaClient, aws);
  const { service, runningArn } = await readRunningService(ecs, env);
  try {
    const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: runningArn }));
    const image = pickContainer(td.taskDefinition?.containerDefinitions ?? [], env).image;
    const primary = primaryDeployment(service);
    const deployments = service.deployments ?? [];
    const unsettled =
      primary?.rolloutState === "FAILED"
        ? `its last rollout failed (${primary.rolloutStateReason ?? "no reason given"})`
        : deployments.length > 1
          ? `a rollout is in progress (${deployments.length} deployments)`
          : undefined;
    const live = await readLambda(lambda, env);
    return {
      source: `${env.api.cluster}/${env.api.service} ${runningArn.split("/").pop()}`,
      image,
      digest: digestOf(image),
      worker: { version: live.aliasVersion, codeSha256: live.serving.codeSha256, split: live.split },
      unsettled,
    };
  } catch (error) {
    throw explainAwsError(error);
  }
}

async function servingHelm(options: ServingOptions): Promise<Serving> {
  const { env } = options;
  const eks = eksOf(env);
  const helm = options.helm ?? "helm";
  const run = options.run ?? runCommand;
  const { kubeconfig } = await connectCluster({
    env,
    kubeconfig: options.kubeconfig,
    aws: { region: env.region, ...options.aws } as AwsOptions,
    reporter: options.reporter ?? consoleReporter,
  });
  const base = [eks.release, "--namespace", eks.namespace, "--kubeconfig", kubeconfig];
  const release = await releaseStatus(run, helm, base);
  if (!release) return { source: `release ${eks.release} (not installed)` };
  const values = await run(helm, ["get", "values", ...base, "--output", "json"]);
  if (values.code !== 0)
    throw new DeliveryError(`helm get values failed: ${values.stderr.trim().split("\n").pop()}`);
  const image = (JSON.parse(values.stdout) as { image?: { repository?: string; digest?: string } }).image;
  return {
    source: `release ${eks.release} revision ${release.revision}`,
    image: image?.repository && image.digest ? `${image.repository}@${image.digest}` : undefined,
    digest: image?.digest,
    unsettled: release.status === "deployed" ? undefined : `the release is ${release.status}`,
  };
}

/** What the environment serves now: read from ECS and Lambda, or from the Helm release on EKS. */
export function readServing(options: ServingOptions): Promise<Serving> {
  return options.env.platform === "eks" ? servingHelm(options) : servingEcs(options);
}

/**
 * Why the environment does not serve what its file says (image digest, worker bundle, a settled
 * rollout); empty when it does. Used before a promotion moves the file's digest on.
 */
export function servingMismatches(env: Environment, serving: Serving): string[] {
  const reasons: string[] = [];
  if (serving.digest !== env.image.digest) {
    reasons.push(
      `${env.name} does not serve the digest its file names: ${serving.source} runs ${serving.image ?? "nothing"}, not ${env.image.digest}`,
    );
  }
  if (serving.unsettled) reasons.push(`${env.name} has not settled: ${serving.unsettled}`);
  if (env.platform === "ecs" && env.worker.bundle) {
    const expected = bundleCodeSha256(env.worker.bundle);
    const worker = serving.worker;
    if (worker?.codeSha256 !== expected) {
      reasons.push(
        `${env.name}'s worker alias ${env.worker.alias} serves code ${worker?.codeSha256 ?? "none"} (version ${worker?.version ?? "none"}), not the recorded bundle ${env.worker.bundle}`,
      );
    } else if (Object.keys(worker.split).length > 0) {
      reasons.push(`${env.name}'s worker alias ${env.worker.alias} is still split by an unfinished canary`);
    }
  }
  return reasons;
}
