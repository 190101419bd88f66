import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  EnvironmentError,
  environmentJsonSchema,
  environmentNames,
  loadEnvironment,
  parseEnvironment,
  repositoryPath,
  setEnvironmentFields,
  updateEnvironmentFile,
} from "../src/index.ts";

const dir = new URL("..", import.meta.url).pathname;
// The environments are the files: every test below covers each one there is.
const ENVIRONMENT_NAMES = environmentNames(dir);
const devText = readFileSync(join(dir, "dev.yaml"), "utf8");
const newDigest = `sha256:${"ab".repeat(32)}`;

function parseError(text: string, file = "environments/dev.yaml"): string {
  try {
    parseEnvironment(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return (error as Error).message;
  }
  throw new Error("expected the file to be rejected");
}

describe("environment files", () => {
  it.each(ENVIRONMENT_NAMES)(
    "the committed %s.yaml loads with its thresholds and its place in the promotion order",
    (name) => {
      const env = loadEnvironment(name, dir);
      expect(env.name).toBe(name);
      expect(env.image.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(env.alarms.thresholds.queueAgeSeconds).toBeGreaterThan(0);
      expect(
        env.promotion.from === undefined ? 0 : ENVIRONMENT_NAMES.indexOf(env.promotion.from),
      ).toBeLessThan(Math.max(1, ENVIRONMENT_NAMES.indexOf(name)));
    },
  );

  it("fills every alarm threshold with a sensible default when the block is left out", () => {
    const text = devText.replace(/ {2}thresholds:\n( {4}.*\n)+/, "");
    const env = parseEnvironment(text, "dev.yaml");
    expect(env.alarms.thresholds).toEqual({
      queueAgeSeconds: 300,
      queueVisibleMessages: 1000,
      dlqVisibleMessages: 0,
      apiCpuPercent: 80,
      apiMemoryPercent: 85,
      api5xxErrors: 5,
      workerErrors: 5,
      lambdaDurationRatio: 0.8,
    });
  });

  it("names the file, the field, what was expected and what it got when a value has the wrong type", () => {
    const message = parseError(devText.replace("  cpu: 256", '  cpu: "lots"'));
    expect(message).toBe('environments/dev.yaml: api.cpu: expected number, got "lots"');
  });

  it("rejects a digest that is not sha256 with the field path", () => {
    const message = parseError(devText.replace(/digest: sha256:\w+/, "digest: latest"));
    expect(message).toBe(
      'environments/dev.yaml: image.digest: expected an image digest sha256:<64 hex characters>, got "latest"',
    );
  });

  it("reports a missing required field as got nothing", () => {
    const message = parseError(devText.replace("  service: content-engine-api\n", ""));
    expect(message).toBe("environments/dev.yaml: api.service: expected string, got nothing");
  });

  it("rejects an unknown platform and lists the allowed ones", () => {
    const message = parseError(devText.replace("platform: ecs", "platform: nomad"));
    expect(message).toBe('environments/dev.yaml: platform: expected one of ecs | eks, got "nomad"');
  });

  it("rejects misspelled fields instead of silently ignoring them", () => {
    const message = parseError(devText.replace("  desiredCount:", "  desiredCuont: 1\n  desiredCount:"));
    expect(message).toContain("environments/dev.yaml: api: expected no unknown fields (desiredCuont)");
  });

  it("rejects a desired count outside min and max", () => {
    const message = parseError(devText.replace("desiredCount: 1", "desiredCount: 9"));
    expect(message).toBe(
      "environments/dev.yaml: api.desiredCount: expected minCount <= desiredCount <= maxCount, got number 9",
    );
  });

  it("requires an eks block when the platform is eks", () => {
    const text = devText.replace("platform: ecs", "platform: eks").replace(/^eks:\n( {2}.*\n)+/m, "");
    expect(parseError(text)).toBe(
      "environments/dev.yaml: eks: expected an eks block (cluster, namespace, release), got nothing",
    );
  });

  it("rejects a file whose name field disagrees with its file name", () => {
    expect(parseError(devText, "environments/prod.yaml")).toBe(
      'environments/prod.yaml: name: expected "prod" (the file name), got "dev"',
    );
  });

  it("reports broken YAML with its line number", () => {
    expect(parseError("name: dev\nimage: [unclosed\n")).toMatch(/^environments\/dev\.yaml: line \d+: /);
  });

  it("refuses an environment without a file, listing the files there are", () => {
    expect(() => loadEnvironment("qa", dir)).toThrow(
      /^unknown environment "qa": no .*environments\/qa\.yaml \(the environments are dev, prod, staging\)$/,
    );
  });

  it.each([
    ["Prod", "lowercase letters and digits"],
    ["../dev", "lowercase letters and digits"],
    ["dev--x", "lowercase letters and digits"],
    ["", "lowercase letters and digits"],
    ["qa-environment", "at most 12 characters"],
    ["pr-12", "not pr-*"],
    ["local", "not local"],
  ])("refuses the environment name %j before it reads any file", (name, why) => {
    expect(() => loadEnvironment(name, dir)).toThrow(why);
  });
});

describe("editing environment files", () => {
  it("changes only the digest line and keeps every comment and the layout", () => {
    const next = setEnvironmentFields(devText, [{ path: ["image", "digest"], value: newDigest }]);
    const before = devText.split("\n");
    const after = next.split("\n");
    expect(after).toHaveLength(before.length);
    const changed = after.filter((line, i) => line !== before[i]);
    expect(changed).toEqual([`  digest: ${newDigest}`]);
  });

  it("keeps the trailing comment of an edited line", () => {
    const next = setEnvironmentFields(devText, [{ path: ["platform"], value: "eks" }]);
    expect(next).toContain("platform: eks # ecs | eks");
  });

  it("refuses an edit that would make the file invalid and leaves the file untouched", () => {
    const scratch = mkdtempSync(join(tmpdir(), "env-edit-"));
    const file = join(scratch, "dev.yaml");
    writeFileSync(file, devText);
    expect(() => updateEnvironmentFile(file, [{ path: ["image", "digest"], value: "sha256:nope" }])).toThrow(
      /image\.digest: expected an image digest/,
    );
    expect(readFileSync(file, "utf8")).toBe(devText);
  });

  it("writes a valid edit to disk and returns the parsed environment", () => {
    const scratch = mkdtempSync(join(tmpdir(), "env-edit-"));
    const file = join(scratch, "dev.yaml");
    writeFileSync(file, devText);
    const env = updateEnvironmentFile(file, [
      { path: ["image", "digest"], value: newDigest },
      { path: ["image", "tag"], value: "main-abc1234" },
    ]);
    expect(env.image).toMatchObject({ digest: newDigest, tag: "main-abc1234" });
    expect(readFileSync(file, "utf8")).toContain(
      "# The image that runs here. Deploys use the digest; the tag is for humans.",
    );
  });
});

describe("schema.json", () => {
  it("is current with the zod schema (run npm run schema -w @content-engine/environments)", () => {
    expect(readFileSync(join(dir, "schema.json"), "utf8")).toBe(environmentJsonSchema());
  });
});

describe("repositoryPath: an environment file as git and GitHub's contents API name it", () => {
  const workspace = "/home/runner/work/acme/acme";

  it("is the same file whether the folder was given relative or absolute (the workspace path before it)", () => {
    expect(repositoryPath(`${workspace}/environments/staging.yaml`, workspace)).toBe(
      "environments/staging.yaml",
    );
    expect(repositoryPath(`${workspace}/deploy/envs/prod.yaml`, workspace)).toBe("deploy/envs/prod.yaml");
  });

  it("refuses a file outside the checkout it was given, naming both", () => {
    expect(() => repositoryPath("/tmp/elsewhere/dev.yaml", workspace)).toThrow(
      `/tmp/elsewhere/dev.yaml is not inside the repository checkout ${workspace}`,
    );
  });

  it("takes the working directory as the checkout when no root is given, and a copy elsewhere as environments/", () => {
    expect(repositoryPath(join(process.cwd(), "environments", "dev.yaml"))).toBe("environments/dev.yaml");
    expect(repositoryPath(join(mkdtempSync(join(tmpdir(), "copy-")), "dev.yaml"))).toBe(
      "environments/dev.yaml",
    );
  });
});
