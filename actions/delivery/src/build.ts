// build-push: docker buildx build with OCI labels and GitHub cache, pushed to ECR; returns the digest.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ECRClient } from "@aws-sdk/client-ecr";
import { DIGEST_PATTERN } from "@content-engine/environments";
import { type AwsOptions, createClient } from "./aws.ts";
import { type CommandRunner, runChecked, runCommand } from "./command.ts";
import { ecrLogin } from "./ecr.ts";
import { DeliveryError } from "./errors.ts";
import { finish, type Outcome, type Plan, Stopwatch } from "./outcome.ts";
import { pushWorkerBundle } from "./registry.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { attachSbom, cosignSign } from "./signing.ts";
import { type Clock, systemClock } from "./wait.ts";

export interface BuildPushOptions {
  /** ECR repository URL without tag: <account>.dkr.ecr.<region>.amazonaws.com/<name>. */
  repository: string;
  context: string;
  dockerfile: string;
  platforms: string[];
  /** Human tags pushed next to the digest, e.g. main-1a2b3c4. */
  tags: string[];
  gitSha: string;
  /** Repository URL for org.opencontainers.image.source. */
  source: string;
  /** GitHub Actions cache scope (type=gha); `false` builds without cache. */
  cacheScope: string | false;
  buildArgs?: Record<string, string>;
  push?: boolean;
  /** The worker bundle (lambda.zip) to store next to the image, addressed by its sha256. */
  workerBundle?: string;
  /** Registry endpoint override for the worker bundle, signature and SBOM pushes (see registry.ts). */
  registryEndpoint?: string;
  /** cosign key that signs the image and the worker bundle (awskms:///alias/…); unsigned without. */
  signingKey?: string;
  /** SBOM files (CycloneDX JSON) attached to the image as OCI referrers. */
  sboms?: string[];
  /** SBOM files attached to the worker bundle's manifest. */
  workerSboms?: string[];
  aws: AwsOptions;
  reporter?: Reporter;
  run?: CommandRunner;
  ecr?: ECRClient;
  clock?: Clock;
}

const ECR_REPOSITORY = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/[a-z0-9][a-z0-9._/-]*$/;

function validate(options: BuildPushOptions) {
  if (!ECR_REPOSITORY.test(options.repository)) {
    throw new DeliveryError(
      `repository "${options.repository}" is not an ECR repository URL: expected <account>.dkr.ecr.<region>.amazonaws.com/<name>`,
    );
  }
  if (!existsSync(resolve(options.dockerfile))) {
    throw new DeliveryError(
      `Dockerfile "${options.dockerfile}" does not exist (paths are relative to the working directory, e.g. services/api/Dockerfile)`,
    );
  }
  for (const sbom of [...(options.sboms ?? []), ...(options.workerSboms ?? [])]) {
    if (!existsSync(sbom))
      throw new DeliveryError(
        `SBOM ${sbom} does not exist (npm run build writes <bundle>.cdx.json beside each bundle)`,
      );
  }
  if (options.workerSboms?.length && !options.workerBundle)
    throw new DeliveryError("worker-sbom needs worker-bundle: it is attached to the bundle's manifest");
  if (
    options.signingKey !== undefined &&
    !/^(awskms|file|env|k8s|hashivault|gcpkms|azurekms):\/\/|^[^:]+\.key$/.test(options.signingKey)
  ) {
    throw new DeliveryError(
      `signing key "${options.signingKey}" is not a cosign key reference (awskms:///alias/<name>, or a .key file)`,
    );
  }
  if (options.workerBundle !== undefined && !existsSync(options.workerBundle)) {
    throw new DeliveryError(
      `worker bundle ${options.workerBundle} does not exist: run npm run build -w @content-engine/worker first`,
    );
  }
  if (!/^[0-9a-f]{40}$/.test(options.gitSha)) {
    throw new DeliveryError(`git sha "${options.gitSha}" is not a full 40-character commit sha`);
  }
  for (const tag of options.tags) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))
      throw new DeliveryError(`tag "${tag}" is not a valid image tag`);
  }
}

/** The exact argv of `docker buildx build` (without the leading `docker`). */
export function buildxArgs(options: BuildPushOptions, metadataFile: string): string[] {
  const args = ["buildx", "build", "--file", options.dockerfile, "--platform", options.platforms.join(",")];
  const labels: Record<string, string> = {
    "org.opencontainers.image.revision": options.gitSha,
    "org.opencontainers.image.source": options.source,
    "org.opencontainers.image.version": options.tags[0] ?? options.gitSha,
  };
  for (const [key, value] of Object.entries(labels)) args.push("--label", `${key}=${value}`);
  for (const [key, value] of Object.entries(options.buildArgs ?? {}))
    args.push("--build-arg", `${key}=${value}`);
  if (options.cacheScope) {
    args.push("--cache-from", `type=gha,scope=${options.cacheScope}`);
    args.push("--cache-to", `type=gha,mode=max,scope=${options.cacheScope}`);
  }
  for (const tag of options.tags) args.push("--tag", `${options.repository}:${tag}`);
  args.push("--provenance=false", "--metadata-file", metadataFile);
  args.push(options.push === false ? "--load" : "--push");
  args.push(options.context);
  return args;
}

/** The tag that keeps the worker bundle's manifest alive next to its image. */
export const workerTag = (options: BuildPushOptions) =>
  `${options.tags[0] ?? options.gitSha.slice(0, 7)}-worker`;

export function planBuildPush(options: BuildPushOptions): Plan {
  validate(options);
  return {
    operation: "build-push",
    target: options.repository,
    noop: false,
    changes: options.tags.map((tag) => ({
      field: "tag",
      from: undefined,
      to: `${options.repository}:${tag}`,
    })),
    steps: [
      "ecr:GetAuthorizationToken + docker login --password-stdin",
      `docker ${buildxArgs(options, "<metadata>").join(" ")}`,
      ...(options.workerBundle
        ? [`push ${options.workerBundle} as ${options.repository}:${workerTag(options)} (by its sha256)`]
        : []),
      options.signingKey
        ? `cosign sign --key ${options.signingKey} the image${options.workerBundle ? " and the worker bundle" : ""}`
        : "no signing key: push unsigned",
      ...(options.sboms ?? []).map((file) => `attach ${file} to the image as an OCI referrer`),
      ...(options.workerSboms ?? []).map((file) => `attach ${file} to the worker bundle as an OCI referrer`),
    ],
    details: [],
  };
}

export async function buildPush(options: BuildPushOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  validate(options);
  const reporter = options.reporter ?? consoleReporter;
  const run = options.run ?? runCommand;
  const ecr = options.ecr ?? createClient(ECRClient, options.aws);
  const accountId = options.repository.match(ECR_REPOSITORY)![1]!;
  const login = await ecrLogin(ecr, reporter, {
    registryIds: [accountId],
    now: (options.clock ?? systemClock).now,
  });
  const registryHost = options.repository.split("/")[0]!;
  await runChecked(run, "docker", ["login", "--username", login.username, "--password-stdin", registryHost], {
    input: login.password,
  });
  reporter.info(`logged in to ${registryHost}`);
  const metadataFile = join(mkdtempSync(join(tmpdir(), "build-push-")), "metadata.json");
  const args = buildxArgs(options, metadataFile);
  reporter.info(`docker ${args.join(" ")}`);
  await watch.wait(runChecked(run, "docker", args, { onLine: (line) => reporter.info(line) }));
  const metadata = JSON.parse(readFileSync(metadataFile, "utf8")) as Record<string, unknown>;
  const digest = String(metadata["containerimage.digest"] ?? "");
  if (!DIGEST_PATTERN.test(digest)) {
    return finish(watch, {
      operation: "build-push",
      target: options.repository,
      status: "failed",
      reason: `docker buildx wrote no image digest to its metadata file (got "${digest}")`,
    });
  }
  const image = `${options.repository}@${digest}`;
  const authorization = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`;
  reporter.secret(authorization.slice(6));
  const access = { endpoint: options.registryEndpoint, authorization };
  let workerBundle = "";
  const signed = [digest];
  if (options.workerBundle) {
    const bundle = await pushWorkerBundle(
      options.repository,
      readFileSync(options.workerBundle),
      workerTag(options),
      {
        ...access,
        revision: options.gitSha,
      },
    );
    workerBundle = bundle.digest;
    signed.push(bundle.manifest);
    reporter.info(`stored ${options.workerBundle} as ${options.repository}@${workerBundle}`);
  }
  if (options.signingKey) {
    await cosignSign(run, options.signingKey, options.repository, signed, {
      endpoint: options.registryEndpoint,
      awsEndpoint: options.aws.endpoint,
      reporter,
    });
  } else {
    reporter.warn("no signing key: the image is pushed unsigned, and deploys that verify will refuse it");
  }
  const sboms: string[] = [];
  for (const [subject, files] of [
    [digest, options.sboms ?? []],
    [signed[1], options.workerSboms ?? []],
  ] as const) {
    for (const file of files) {
      sboms.push(await attachSbom(options.repository, subject!, readFileSync(file), access));
      reporter.info(`attached ${file} to ${options.repository}@${subject} (referrer ${sboms.at(-1)})`);
    }
  }
  return finish(watch, {
    operation: "build-push",
    target: options.repository,
    status: "succeeded",
    reason: `pushed ${image}`,
    revisions: { current: digest },
    outputs: {
      image,
      digest,
      tags: options.tags.map((t) => `${options.repository}:${t}`).join(","),
      "worker-bundle": workerBundle,
      signed: options.signingKey ? "true" : "false",
      sboms: sboms.join(","),
    },
  });
}
