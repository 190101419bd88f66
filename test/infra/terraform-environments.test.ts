// Environments as data: every environment file (environments/<name>.yaml) has a variables file for the
// one terraform root (terraform/envs/<name>.tfvars) and the other way round, the two agree on what both
// say, and terraform itself accepts each variables file, offline (test/support/terraform-env.ts).
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ENVIRONMENT_NAME_MAX_LENGTH,
  ENVIRONMENT_NAME_PATTERN,
  environmentNameProblem,
} from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../../scripts/tools.ts";
import { envsRoot, type HclBody, loadTfvars, tfvarsEnvironments, tfvarsFile } from "../support/hcl.ts";
import { checkEnvironmentVars } from "../support/terraform-env.ts";

const environmentsDir = join(repoRoot, "environments");
const yamlNames = readdirSync(environmentsDir)
  .filter((file) => file.endsWith(".yaml"))
  .map((file) => file.slice(0, -".yaml".length))
  .sort();
const tfvarsNames = tfvarsEnvironments();

/** The fields an environment file and its variables file both hold: yaml field → terraform variable. */
const sharedFields = { name: "environment", accountId: "aws_account_id", region: "aws_region" } as const;

function yamlOf(name: string): Record<string, unknown> {
  return parse(readFileSync(join(environmentsDir, `${name}.yaml`), "utf8")) as Record<string, unknown>;
}

describe("terraform/envs/<name>.tfvars and environments/<name>.yaml", () => {
  it("finds environments on both sides", () => {
    expect(tfvarsNames.length).toBeGreaterThan(0);
    expect(yamlNames.length).toBeGreaterThan(0);
  });

  it("has a variables file for every environment file, and an environment file for every variables file", () => {
    const missingTfvars = yamlNames
      .filter((name) => !tfvarsNames.includes(name))
      .map((name) => `environments/${name}.yaml has no terraform/envs/${name}.tfvars`);
    const missingYaml = tfvarsNames
      .filter((name) => !yamlNames.includes(name))
      .map((name) => `terraform/envs/${name}.tfvars has no environments/${name}.yaml`);
    expect([...missingTfvars, ...missingYaml]).toEqual([]);
  });

  it.each(tfvarsNames.filter((name) => yamlNames.includes(name)))(
    "%s: the variables file names the environment, account and region of its environment file",
    async (name) => {
      const yaml = yamlOf(name);
      const tfvars: HclBody = await loadTfvars(name);
      for (const [field, variable] of Object.entries(sharedFields)) {
        expect(yaml[field], `environments/${name}.yaml ${field}`).toBeDefined();
        expect(
          tfvars[variable],
          `terraform/envs/${name}.tfvars ${variable} (environments/${name}.yaml ${field})`,
        ).toBe(yaml[field]);
      }
    },
  );
});

describe("the environment root accepts each variables file (terraform plan, offline)", () => {
  it.each(tfvarsNames)(
    "accepts terraform/envs/%s.tfvars, every variable validation included",
    async (name) => {
      const result = await checkEnvironmentVars(repoRoot, tfvarsFile(name));
      expect(result.output).not.toContain("Error:");
      expect(result.ok, result.output).toBe(true);
    },
  );
});

describe("environment names", () => {
  /** A temporary copy of the repository's terraform/ with a dev.tfvars renamed to `environment`. */
  async function checkName(environment: string) {
    const repo = mkdtempSync(join(tmpdir(), "tf-env-name-"));
    cpSync(join(repoRoot, "terraform"), join(repo, "terraform"), {
      recursive: true,
      filter: (source) => !source.includes(".terraform"),
    });
    const file = join(repo, "terraform", "envs", "named.tfvars");
    const dev = readFileSync(join(envsRoot, "dev.tfvars"), "utf8");
    expect(dev).toMatch(/^environment\s*=\s*"dev"$/m);
    writeFileSync(file, dev.replace(/^environment\s*=\s*"dev"$/m, `environment = "${environment}"`));
    try {
      return await checkEnvironmentVars(repo, file);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  }

  it.each(["Prod_1", "pr-3", "local", "abcdefghijklm", "1prod", "prod-", "prod--eu", "PROD"])(
    "refuses %s with the validation message",
    async (environment) => {
      expect(environmentNameProblem(environment), "the schema refuses it too").toBeDefined();
      const result = await checkName(environment);
      expect(result.ok).toBe(false);
      expect(result.output).toContain(
        "environment must be an environment name: ^[a-z][a-z0-9]*(-[a-z0-9]+)*$, at most 12 characters, not local and not starting with pr- (reserved for preview environments).",
      );
    },
  );

  it.each(["qa", "prod-eu", "abcdefghijkl", "perf2"])("accepts %s", async (environment) => {
    expect(environmentNameProblem(environment), "the schema accepts it too").toBeUndefined();
    const result = await checkName(environment);
    expect(result.ok, result.output).toBe(true);
  });

  it("is the schema's pattern and length, in the root and in every module that validates an environment name", () => {
    // HCL string escapes: the pattern has no backslash or quote, so it is written as is.
    expect(ENVIRONMENT_NAME_PATTERN.source).toBe("^[a-z][a-z0-9]*(-[a-z0-9]+)*$");
    expect(ENVIRONMENT_NAME_MAX_LENGTH).toBe(12);
    const pattern = JSON.stringify(ENVIRONMENT_NAME_PATTERN.source);
    const files = [
      "terraform/environment/variables.tf",
      "terraform/modules/content-engine/variables.tf",
      "terraform/modules/metrics/variables.tf",
    ];
    for (const file of files) {
      const text = readFileSync(join(repoRoot, file), "utf8");
      expect(text, file).toContain(
        `condition     = can(regex(${pattern}, var.environment)) && length(var.environment) <= ${ENVIRONMENT_NAME_MAX_LENGTH} && var.environment != "local" && !startswith(var.environment, "pr-")`,
      );
    }
  });
});
