// The real terraform and tflint binaries on our code: formatting, lint, and the variable
// validations that reject bad input before anything reaches AWS.
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, tflintPluginDir, toolPath } from "../../scripts/tools.ts";
import { modulesRoot, terraformRoot, tfvarsFile } from "../support/hcl.ts";
import { type RunResult, run } from "../support/run.ts";
import { checkEnvironmentVars } from "../support/terraform-env.ts";

// No ~/.terraformrc on these machines: point terraform at an empty CLI config so it stays quiet.
const emptyCliConfig = join(mkdtempSync(join(tmpdir(), "tf-cli-")), "terraformrc");
writeFileSync(emptyCliConfig, "");
const terraformEnv = { TF_CLI_CONFIG_FILE: emptyCliConfig, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };

function terraform(args: string[], cwd: string): RunResult {
  return run(toolPath("terraform"), args, { cwd, env: terraformEnv });
}

function tflint(cwd: string, config: string): RunResult {
  return run(toolPath("tflint"), ["--recursive", "--config", config, "--format", "compact", "--no-color"], {
    cwd,
    env: { TFLINT_PLUGIN_DIR: tflintPluginDir },
  });
}

/**
 * Evaluates a folder's variable validations with the real terraform: the variables file alone
 * is copied into an empty folder, where `terraform plan` needs no provider and no network.
 */
function planVariables(variablesFile: string, vars: Record<string, string>): RunResult {
  const dir = mkdtempSync(join(tmpdir(), "tf-vars-"));
  copyFileSync(variablesFile, join(dir, "variables.tf"));
  const args = ["plan", "-input=false", "-no-color", "-lock=false"];
  for (const [name, value] of Object.entries(vars)) args.push("-var", `${name}=${value}`);
  const result = terraform(args, dir);
  // terraform wraps long error messages; collapse whitespace so messages can be matched whole.
  return { ...result, output: result.output.replace(/[\s│]+/g, " ") };
}

describe("terraform fmt", () => {
  it("finds nothing to reformat in terraform/", () => {
    const result = terraform(
      ["fmt", "-check", "-recursive", "-list=true", "-no-color", terraformRoot],
      terraformRoot,
    );
    expect(result.stdout.trim(), "files terraform fmt would rewrite").toBe("");
    expect(result.code).toBe(0);
  });

  it("fails on a badly formatted file (the check is live)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tf-fmt-"));
    writeFileSync(join(dir, "main.tf"), 'variable "x" {\ntype=string\n      description = "y"\n}\n');
    const result = terraform(["fmt", "-check", "-no-color", dir], dir);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain("main.tf");
  });
});

describe("tflint", () => {
  const config = join(terraformRoot, ".tflint.hcl");

  it("reports no issue in any module or environment root", () => {
    const result = tflint(terraformRoot, config);
    expect(result.output.trim()).toBe("");
    expect(result.code).toBe(0);
  });

  it("flags an untyped, undocumented, unused variable with our rule set", () => {
    const dir = mkdtempSync(join(tmpdir(), "tflint-"));
    writeFileSync(join(dir, "main.tf"), 'variable "unused" {}\n');
    const result = tflint(dir, config);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("terraform_typed_variables");
    expect(result.output).toContain("terraform_documented_variables");
    expect(result.output).toContain("terraform_unused_declarations");
  });
});

describe("variable validations reject bad input", () => {
  const queueVariables = join(modulesRoot, "queue", "variables.tf");

  it("rejects a visibility timeout below 6x the worker timeout", () => {
    const result = planVariables(queueVariables, {
      name: "jobs",
      consumer_timeouts: "{ worker_timeout_seconds = 60, visibility_timeout_seconds = 359 }",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("must be at least 6x worker_timeout_seconds");
  });

  it("accepts exactly 6x, and derives 6x when no visibility timeout is given", () => {
    for (const timeouts of [
      "{ worker_timeout_seconds = 60, visibility_timeout_seconds = 360 }",
      "{ worker_timeout_seconds = 60 }",
    ]) {
      const result = planVariables(queueVariables, { name: "jobs", consumer_timeouts: timeouts });
      expect(result.output).not.toContain("Error");
      expect(result.code, timeouts).toBe(0);
    }
  });

  it("rejects a worker timeout above the Lambda maximum of 900 seconds", () => {
    const result = planVariables(queueVariables, {
      name: "jobs",
      consumer_timeouts: "{ worker_timeout_seconds = 901 }",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("between 1 and 900");
  });

  it.each(["10.0.0.0/33", "10.0.0/16", "not-a-cidr", "300.1.0.0/16", "10.20.0.0/8"])(
    "rejects the VPC CIDR %s",
    (cidr) => {
      const result = planVariables(join(modulesRoot, "network", "variables.tf"), {
        name: "content-engine-dev",
        vpc_cidr: cidr,
        availability_zones: '["eu-west-1a", "eu-west-1b"]',
      });
      expect(result.code).not.toBe(0);
      expect(result.output).toContain("vpc_cidr must be a valid IPv4 CIDR block");
    },
  );

  it("accepts a /16 VPC CIDR", () => {
    const result = planVariables(join(modulesRoot, "network", "variables.tf"), {
      name: "content-engine-dev",
      vpc_cidr: "10.20.0.0/16",
      availability_zones: '["eu-west-1a", "eu-west-1b"]',
    });
    expect(result.code, result.output).toBe(0);
  });

  // prod's file sets require_paging and require_reviewers; who is paged and who approves come at apply
  // time (stand-ins by default in checkEnvironmentVars). The environment root plans them offline.
  const prod = tfvarsFile("prod");

  it("rejects prod without anyone to page", async () => {
    const result = await checkEnvironmentVars(repoRoot, prod, { applyTime: { paging_subscriptions: "[]" } });
    expect(result.ok).toBe(false);
    expect(result.output).toContain("paging_subscriptions must not be empty in prod");
  });

  it("accepts prod with an on-call address, and dev with nobody", async () => {
    const withOnCall = await checkEnvironmentVars(repoRoot, prod, {
      applyTime: { paging_subscriptions: '[{ protocol = "email", endpoint = "oncall@example.com" }]' },
    });
    expect(withOnCall.ok, withOnCall.output).toBe(true);
    const dev = await checkEnvironmentVars(repoRoot, tfvarsFile("dev"), {
      applyTime: { paging_subscriptions: "[]", reviewers: "{}" },
    });
    expect(dev.ok, dev.output).toBe(true);
  });

  it("rejects prod without a reviewer: prod deploys wait for one", async () => {
    const result = await checkEnvironmentVars(repoRoot, prod, { applyTime: { reviewers: "{}" } });
    expect(result.ok).toBe(false);
    expect(result.output).toContain("reviewers must name at least one user or team in prod");
  });

  it("rejects more GitHub reviewers than GitHub allows, and a deploy branch pattern", () => {
    const variables = join(modulesRoot, "github-repository", "variables.tf");
    const seven = planVariables(variables, {
      repository: "acme/content-engine",
      environments: "{ prod = { reviewer_user_ids = [1, 2, 3, 4], reviewer_team_ids = [5, 6, 7] } }",
    });
    expect(seven.code).not.toBe(0);
    expect(seven.output).toContain("GitHub allows at most 6 reviewers");
    const pattern = planVariables(variables, {
      repository: "acme/content-engine",
      environments: "{ dev = {} }",
      deploy_branch: "release/*",
    });
    expect(pattern.code).not.toBe(0);
    expect(pattern.output).toContain("deploy_branch must be one branch name, without wildcards");
    const ok = planVariables(variables, { repository: "acme/content-engine", environments: "{ dev = {} }" });
    expect(ok.code, ok.output).toBe(0);
  });

  it("rejects a trusted workflow given as a path or a pattern, and a signing key given by alias", () => {
    const variables = join(modulesRoot, "github-oidc", "variables.tf");
    const base = {
      name: "deploy",
      github_repository: "acme/content-engine",
      github_environments: '["dev"]',
      ecr_repository_arn: "arn:aws:ecr:eu-west-1:123456789012:repository/x",
      alarm_name_prefix: "content-engine-dev-",
    };
    for (const workflow of ["../other/deploy.yml", "*.yml", "deploy"]) {
      const result = planVariables(variables, {
        ...base,
        trusted_workflows: `{ dev = { deploy = ["${workflow}"], promote_read = [] } }`,
      });
      expect(result.code, workflow).not.toBe(0);
      expect(result.output).toContain("trusted_workflows must name workflow files such as deploy-env.yml");
    }
    const alias = planVariables(variables, {
      ...base,
      signing_key_arn: "arn:aws:kms:eu-west-1:123456789012:alias/content-engine-signing",
    });
    expect(alias.code).not.toBe(0);
    expect(alias.output).toContain("signing_key_arn must be a KMS key ARN");
  });

  it("rejects a paging subscription that is neither e-mail nor HTTPS", () => {
    const result = planVariables(join(modulesRoot, "observability", "variables.tf"), {
      name: "content-engine-prod",
      subscriptions: '[{ protocol = "http", endpoint = "http://example.com/hook" }]',
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("subscriptions protocol must be email or https");
  });

  it("rejects an OIDC trust for a wildcard repository", () => {
    const result = planVariables(join(modulesRoot, "github-oidc", "variables.tf"), {
      name: "deploy",
      github_repository: "acme/*",
      github_environments: '["dev"]',
      ecr_repository_arn: "arn:aws:ecr:eu-west-1:123456789012:repository/x",
      alarm_name_prefix: "content-engine-dev-",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("github_repository must be ORG/REPO");
  });

  it("rejects an API image that is not pinned by digest", () => {
    const result = planVariables(join(modulesRoot, "ecs-service", "variables.tf"), {
      name: "content-engine-dev",
      vpc_id: "vpc-1",
      public_subnet_ids: '["a", "b"]',
      private_subnet_ids: '["c", "d"]',
      container_image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/content-engine-dev:latest",
      api_keys_secret_arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x",
      ecr_repository_arn: "arn:aws:ecr:eu-west-1:123456789012:repository/x",
      task_policy_json: "{}",
      certificate_arn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("container_image must be pinned by digest");
  });

  it("rejects a metrics environment that is no environment name (local, pr-*), and a collector image without a tag", () => {
    const metrics = join(modulesRoot, "metrics", "variables.tf");
    for (const environment of ["local", "pr-3", "Prod_1"]) {
      const env = planVariables(metrics, { name: "content-engine-x", environment });
      expect(env.code, environment).not.toBe(0);
      expect(env.output).toContain("environment must be an environment name");
    }
    const qa = planVariables(metrics, { name: "content-engine-qa", environment: "qa" });
    expect(qa.code, qa.output).toBe(0);
    const image = planVariables(metrics, {
      name: "content-engine-dev",
      environment: "dev",
      collector_image: "quay.io/prometheus/prometheus",
    });
    expect(image.code).not.toBe(0);
    expect(image.output).toContain("collector_image must name a tag or a digest");
    const ok = planVariables(metrics, { name: "content-engine-dev", environment: "dev" });
    expect(ok.code, ok.output).toBe(0);
  });
});
