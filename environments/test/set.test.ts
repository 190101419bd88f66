import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  EnvironmentError,
  listEnvironmentNames,
  loadEnvironments,
  setEnvironmentFields,
} from "../src/index.ts";

const repositoryDir = new URL("..", import.meta.url).pathname;
const copies: string[] = [];

/** A temporary copy of the committed environment files (and their signing key). */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), "environments-"));
  copies.push(dir);
  for (const name of listEnvironmentNames(repositoryDir))
    cpSync(join(repositoryDir, `${name}.yaml`), join(dir, `${name}.yaml`));
  cpSync(join(repositoryDir, "signing"), join(dir, "signing"), { recursive: true });
  return dir;
}

function edit(dir: string, name: string, fields: Array<{ path: string[]; value: unknown }>) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, setEnvironmentFields(readFileSync(file, "utf8"), fields, file));
}

/** A new environment `name` from staging's file: its own account, promoting from `from`. */
function addEnvironment(dir: string, name: string, from: string, account = "444444444444") {
  const text = readFileSync(join(dir, "staging.yaml"), "utf8")
    .replaceAll("222222222222", account)
    .replaceAll("staging", name);
  writeFileSync(
    join(dir, `${name}.yaml`),
    setEnvironmentFields(text, [{ path: ["promotion", "from"], value: from }]),
  );
}

function loadError(dir: string): string {
  try {
    loadEnvironments(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentError);
    return (error as Error).message;
  }
  throw new Error("expected the environment files to be refused");
}

afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the set of environments", () => {
  it("is the files, in the promotion order their promotion.from fields declare", () => {
    const set = loadEnvironments(repositoryDir);
    expect(set.names).toEqual(["dev", "staging", "prod"]);
    expect(set.build.name).toBe("dev");
    expect(set.promotions).toEqual([
      { from: "dev", to: "staging" },
      { from: "staging", to: "prod" },
    ]);
    expect(set.previewBase?.name).toBe("dev");
  });

  it("takes a fourth environment from one new file and one edited promotion.from", () => {
    const dir = copy();
    addEnvironment(dir, "qa", "dev");
    edit(dir, "staging", [{ path: ["promotion", "from"], value: "qa" }]);
    const set = loadEnvironments(dir);
    expect(set.names).toEqual(["dev", "qa", "staging", "prod"]);
    expect(set.promotions.map((p) => `${p.from}->${p.to}`)).toEqual([
      "dev->qa",
      "qa->staging",
      "staging->prod",
    ]);
  });

  it("forks where two environments promote from the same one (prod in two regions)", () => {
    const dir = copy();
    addEnvironment(dir, "prod-us", "staging", "555555555555");
    const set = loadEnvironments(dir);
    expect(set.names).toEqual(["dev", "staging", "prod", "prod-us"]);
    expect(set.next("staging").map((env) => env.name)).toEqual(["prod", "prod-us"]);
  });

  it("refuses a file whose name is not an environment name, naming the file", () => {
    const dir = copy();
    cpSync(join(dir, "staging.yaml"), join(dir, "QA_1.yaml"));
    expect(loadError(dir)).toMatch(/QA_1\.yaml: file name: expected lowercase letters and digits/);
  });

  it("refuses a file named for a preview", () => {
    const dir = copy();
    renameSync(join(dir, "staging.yaml"), join(dir, "pr-7.yaml"));
    expect(loadError(dir)).toMatch(/pr-7\.yaml: file name: expected not local .* and not pr-\*/);
  });

  it("refuses a promotion.from that names no file", () => {
    const dir = copy();
    edit(dir, "prod", [{ path: ["promotion", "from"], value: "stagin" }]);
    expect(loadError(dir)).toMatch(
      /prod\.yaml: promotion\.from: "stagin" is not an environment \(no .*stagin\.yaml; the environments are dev, prod, staging\)/,
    );
  });

  it("refuses a promotion order with a cycle, naming it", () => {
    const dir = copy();
    edit(dir, "staging", [{ path: ["promotion", "from"], value: "prod" }]);
    edit(dir, "dev", [{ path: ["promotion", "from"], value: "staging" }]);
    expect(loadError(dir)).toMatch(
      /prod\.yaml: promotion\.from: the promotion order has a cycle \(staging -> prod -> staging\)/,
    );
  });

  it("refuses an environment that promotes from itself", () => {
    const dir = copy();
    edit(dir, "staging", [{ path: ["promotion", "from"], value: "staging" }]);
    expect(loadError(dir)).toMatch(/staging\.yaml: promotion\.from: "staging" is this environment itself/);
  });

  it("refuses two environments without promotion.from (two places builds would go)", () => {
    const dir = copy();
    addEnvironment(dir, "sandbox", "dev");
    const text = readFileSync(join(dir, "sandbox.yaml"), "utf8").replace(/^ {2}from: .*\n/m, "");
    writeFileSync(join(dir, "sandbox.yaml"), text);
    expect(loadError(dir)).toMatch(/dev\.yaml, .*sandbox\.yaml: promotion\.from: exactly one environment/);
  });

  it("refuses two files claiming the same account and service", () => {
    const dir = copy();
    const text = readFileSync(join(dir, "staging.yaml"), "utf8").replaceAll("name: staging", "name: qa");
    writeFileSync(join(dir, "qa.yaml"), text);
    expect(loadError(dir)).toMatch(
      /staging\.yaml: queue\.url: https:\/\/sqs\..*content-engine-staging-jobs in account 222222222222 is .*qa\.yaml's too/,
    );
  });

  it("refuses a second previews block", () => {
    const dir = copy();
    edit(dir, "staging", [{ path: ["previews"], value: { domain: "previews.example.org" } }]);
    expect(loadError(dir)).toMatch(/dev\.yaml, .*staging\.yaml: previews: at most one environment file/);
  });

  it("refuses a folder without environment files", () => {
    const dir = mkdtempSync(join(tmpdir(), "environments-"));
    copies.push(dir);
    expect(loadError(dir)).toMatch(/no environment files/);
  });
});

describe("what only previews have", () => {
  it("refuses a bucketPrefix in an environment file (its worker would not share it)", () => {
    const dir = copy();
    writeFileSync(
      join(dir, "staging.yaml"),
      `${readFileSync(join(dir, "staging.yaml"), "utf8")}bucketPrefix: team-a/\n`,
    );
    expect(loadError(dir)).toMatch(
      /staging\.yaml: bucketPrefix: expected nothing: only preview environments have a key prefix/,
    );
  });
});
