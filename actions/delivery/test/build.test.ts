import { writeFileSync } from "node:fs";
import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { awsFor, digest } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { type BuildPushOptions, buildPush, buildxArgs } from "../src/build.ts";
import type { CommandRunner } from "../src/command.ts";
import { ecrLogin } from "../src/ecr.ts";
import { memoryReporter } from "../src/reporter.ts";

const moto = useMoto();
const repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/content-engine";
const gitSha = "0123456789abcdef0123456789abcdef01234567";
// moto stamps every ECR token with expiresAt 2015-01-01: read it from a clock set before that.
const beforeMotoExpiry = { now: () => Date.parse("2014-12-31T00:00:00Z"), sleep: async () => {} };

function options(overrides: Partial<BuildPushOptions> = {}): BuildPushOptions {
  return {
    repository,
    context: ".",
    dockerfile: "services/api/Dockerfile",
    platforms: ["linux/amd64"],
    tags: ["main-0123456"],
    gitSha,
    source: "https://github.com/acme/content-engine",
    cacheScope: "content-engine",
    aws: awsFor(moto.endpoint),
    clock: beforeMotoExpiry,
    ...overrides,
  };
}

/** Stands in for the docker CLI (no engine here): records calls and writes buildx's metadata file. */
function fakeDocker(events: string[]) {
  const calls: { args: readonly string[]; input?: string }[] = [];
  const run: CommandRunner = async (command, args, opts) => {
    events.push(`run ${command} ${args[0]}`);
    calls.push({ args, input: opts?.input });
    const metadata = args.indexOf("--metadata-file");
    if (metadata >= 0)
      writeFileSync(args[metadata + 1]!, JSON.stringify({ "containerimage.digest": digest("f") }));
    return { code: 0, stdout: "", stderr: "" };
  };
  return { run, calls };
}

describe("buildPush", () => {
  it("runs docker buildx build with OCI labels, GitHub cache, tags and push, in that exact argv", () => {
    expect(buildxArgs(options(), "/tmp/meta.json")).toEqual([
      "buildx",
      "build",
      "--file",
      "services/api/Dockerfile",
      "--platform",
      "linux/amd64",
      "--label",
      `org.opencontainers.image.revision=${gitSha}`,
      "--label",
      "org.opencontainers.image.source=https://github.com/acme/content-engine",
      "--label",
      "org.opencontainers.image.version=main-0123456",
      "--cache-from",
      "type=gha,scope=content-engine",
      "--cache-to",
      "type=gha,mode=max,scope=content-engine",
      "--tag",
      `${repository}:main-0123456`,
      "--provenance=false",
      "--metadata-file",
      "/tmp/meta.json",
      "--push",
      ".",
    ]);
  });

  it("logs in to ECR with a token from moto, masking the password before docker ever runs", async () => {
    const reporter = memoryReporter();
    const events: string[] = [];
    const secret = reporter.secret;
    reporter.secret = (value) => {
      events.push("mask");
      secret(value);
    };
    const docker = fakeDocker(events);
    const outcome = await buildPush(options({ reporter, run: docker.run }));

    expect(outcome.status).toBe("succeeded");
    expect(outcome.outputs).toMatchObject({ image: `${repository}@${digest("f")}`, digest: digest("f") });
    expect(events.slice(0, 3)).toEqual(["mask", "mask", "run docker login"]);
    const login = docker.calls[0]!;
    const password = reporter.secrets[1]!;
    expect(password.length).toBeGreaterThan(0);
    expect(login.args).toEqual(["login", "--username", "AWS", "--password-stdin", repository.split("/")[0]]);
    expect(login.input).toBe(password);
    for (const call of docker.calls) expect(call.args.join(" ")).not.toContain(password);
    for (const line of reporter.lines) expect(line).not.toContain(password);
  });

  it("decodes moto's authorization token into user AWS and the registry host", async () => {
    const reporter = memoryReporter();
    const ecr = new ECRClient({ ...awsFor(moto.endpoint) });
    const login = await ecrLogin(ecr, reporter, { now: beforeMotoExpiry.now });
    expect(login.username).toBe("AWS");
    expect(login.registry).toMatch(/^\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com$/);
    expect(reporter.secrets).toContain(login.password);
  });

  it("refuses moto's expired ECR token before docker runs, with the password already masked", async () => {
    const reporter = memoryReporter();
    const docker = fakeDocker([]);
    await expect(buildPush(options({ reporter, run: docker.run, clock: undefined }))).rejects.toThrow(
      "ECR authorization token expired at 2015-01-01T00:00:00.000Z: request a new one (re-run the job)",
    );
    expect(reporter.secrets).toHaveLength(2);
    expect(docker.calls).toEqual([]);
  });

  it("(mocked: moto always returns a token) refuses a response without a token", async () => {
    const ecr = new ECRClient({ region: "eu-west-1" });
    mockClient(ecr).on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    await expect(buildPush(options({ ecr, run: fakeDocker([]).run }))).rejects.toThrow(
      "ECR returned no authorization token: check the role may call ecr:GetAuthorizationToken",
    );
  });

  it("refuses a repository that is not an ECR URL before logging in", async () => {
    const docker = fakeDocker([]);
    await expect(buildPush(options({ repository: "docker.io/acme/app", run: docker.run }))).rejects.toThrow(
      'repository "docker.io/acme/app" is not an ECR repository URL',
    );
    expect(docker.calls).toEqual([]);
  });

  it("reports failed when buildx wrote no digest", async () => {
    const run: CommandRunner = async (_command, args) => {
      const metadata = args.indexOf("--metadata-file");
      if (metadata >= 0) writeFileSync(args[metadata + 1]!, "{}");
      return { code: 0, stdout: "", stderr: "" };
    };
    const outcome = await buildPush(options({ run, reporter: memoryReporter() }));
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe('docker buildx wrote no image digest to its metadata file (got "")');
  });
});
