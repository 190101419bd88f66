// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform interpolations, not JS templates
// The secrets an environment file names (api.secrets) and what its terraform variables file lets the API's
// task execution role read (api_secret_arns of terraform/envs/<name>.tfvars) are one list kept in two
// places: these tests hold them equal, render the role's policy for them, and keep the variables a file
// may not set equal to terraform's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import {
  environmentNames,
  loadEnvironment,
  secretResourceArn,
  TERRAFORM_CONTAINER_VARIABLES,
} from "@content-engine/environments";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bodies,
  environmentRoot,
  findOne,
  type HclBody,
  loadTerraformDir,
  loadTfvars,
  modulesRoot,
} from "../support/hcl.ts";
import { renderPolicyDocuments } from "../support/iam-render.ts";

// The environments are the files: every test below covers each one there is.
const ENVIRONMENT_NAMES = environmentNames();

/** The resources IAM decides the file's secrets on (a Secrets Manager secret without its JSON key selector). */
function fileSecretArns(name: string): string[] {
  return [...new Set(Object.values(loadEnvironment(name).api.secrets).map(secretResourceArn))].sort();
}

/** `api_secret_arns` of an environment's variables file, as written (literal ARNs only: the test must read them). */
function tfvarsSecretArns(name: string, tfvars: HclBody): string[] {
  const arns = (tfvars.api_secret_arns ?? []) as unknown[];
  const expressions = arns.filter((arn) => typeof arn !== "string" || arn.includes("${"));
  if (expressions.length > 0)
    throw new Error(
      `terraform/envs/${name}.tfvars: api_secret_arns must list literal ARNs, found ${JSON.stringify(expressions)}`,
    );
  return [...new Set(arns as string[])].sort();
}

/** One line per ARN only one side names, naming both the file and the root; empty when they agree. */
function secretArnDifferences(
  environment: string,
  file: readonly string[],
  root: readonly string[],
): string[] {
  const yaml = `environments/${environment}.yaml (api.secrets)`;
  const tf = `terraform/envs/${environment}.tfvars (api_secret_arns)`;
  return [
    ...file.filter((arn) => !root.includes(arn)).map((arn) => `${arn}: named by ${yaml}, missing from ${tf}`),
    ...root
      .filter((arn) => !file.includes(arn))
      .map((arn) => `${arn}: granted by ${tf}, not named by ${yaml}`),
  ];
}

const tfvars = new Map<string, HclBody>();
beforeAll(async () => {
  for (const name of ENVIRONMENT_NAMES) tfvars.set(name, await loadTfvars(name));
});

describe("the secrets the environment files name and the execution role's grants", () => {
  it.each(ENVIRONMENT_NAMES)("lets %s's execution role read exactly the secrets its file names", (name) => {
    expect(
      secretArnDifferences(name, fileSecretArns(name), tfvarsSecretArns(name, tfvars.get(name)!)),
    ).toEqual([]);
  });

  it("passes api_secret_arns of the environment's variables file to the stack (api.secret_arns)", async () => {
    const root = await loadTerraformDir(environmentRoot);
    const api = bodies(findOne(root, "module", "", "stack").body.api)[0] ?? {};
    expect(api.secret_arns).toBe("${var.api_secret_arns}");
  });

  it("fails on a secret only one side names, naming the file and the root", () => {
    const db = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:content-engine-dev/db-AbCdEf";
    const token = "arn:aws:ssm:eu-west-1:111111111111:parameter/content-engine/dev/token";
    expect(secretArnDifferences("dev", [db], [token])).toEqual([
      `${db}: named by environments/dev.yaml (api.secrets), missing from terraform/envs/dev.tfvars (api_secret_arns)`,
      `${token}: granted by terraform/envs/dev.tfvars (api_secret_arns), not named by environments/dev.yaml (api.secrets)`,
    ]);
  });

  it("compares a Secrets Manager secret by the secret, without ECS's JSON key selector", () => {
    expect(
      secretResourceArn(
        "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf:password:AWSCURRENT:",
      ),
    ).toBe("arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf");
    expect(secretResourceArn("arn:aws:ssm:eu-west-1:111111111111:parameter/a/b")).toBe(
      "arn:aws:ssm:eu-west-1:111111111111:parameter/a/b",
    );
  });
});

describe("modules/ecs-service's execution role, rendered by terraform", () => {
  const apiKeys = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:content-engine-dev/api-keys-AbCdEf";
  const render = (secretArns: string[]) =>
    renderPolicyDocuments(join(modulesRoot, "ecs-service"), {
      variables: {
        name: "content-engine-dev",
        vpc_id: "vpc-1",
        public_subnet_ids: ["subnet-1", "subnet-2"],
        private_subnet_ids: ["subnet-3", "subnet-4"],
        container_image: `111111111111.dkr.ecr.eu-west-1.amazonaws.com/content-engine@sha256:${"a".repeat(64)}`,
        api_keys_secret_arn: apiKeys,
        secret_arns: secretArns,
        ecr_repository_arn: "arn:aws:ecr:eu-west-1:111111111111:repository/content-engine",
        task_policy_json: "{}",
        certificate_arn: "arn:aws:acm:eu-west-1:111111111111:certificate/1",
      },
      references: {
        "aws_cloudwatch_log_group.api": { arn: "arn:aws:logs:eu-west-1:111111111111:log-group:/ecs/x/api" },
      },
    });
  /** `action resource` for every secret read the execution policy allows. */
  const secretGrants = async (secretArns: string[]) =>
    (await render(secretArns))
      .execution!.Statement.filter((s) =>
        [s.Action].flat().some((a) => a === "secretsmanager:GetSecretValue" || a === "ssm:GetParameters"),
      )
      .flatMap((s) => [s.Action].flat().flatMap((a) => [s.Resource].flat().map((r) => `${a} ${r}`)))
      .sort();

  it("reads the API keys secret and exactly the secret_arns, each with its own service's action", async () => {
    const db = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:content-engine-dev/db-AbCdEf";
    const token = "arn:aws:ssm:eu-west-1:111111111111:parameter/content-engine/dev/token";
    expect(await secretGrants([db, token])).toEqual(
      [
        `secretsmanager:GetSecretValue ${apiKeys}`,
        `secretsmanager:GetSecretValue ${db}`,
        `ssm:GetParameters ${token}`,
      ].sort(),
    );
  });

  it("reads only the API keys secret when the file names no secret", async () => {
    expect(await secretGrants([])).toEqual([`secretsmanager:GetSecretValue ${apiKeys}`]);
  });

  it("refuses a wildcard or a JSON key selector in secret_arns (terraform's own validation)", async () => {
    await expect(
      render(["arn:aws:secretsmanager:eu-west-1:111111111111:secret:content-engine-dev/*"]),
    ).rejects.toThrow(/secret_arns must be SSM parameter ARNs/);
    await expect(
      render(["arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf:password::"]),
    ).rejects.toThrow(/secret_arns must be SSM parameter ARNs/);
  });
});

describe("the variables a file may not set", () => {
  it("are the ones terraform sets on the API container", async () => {
    const stack = await loadTerraformDir(join(modulesRoot, "content-engine"));
    const service = await loadTerraformDir(join(modulesRoot, "ecs-service"));
    const parsed = (await parse("main.tf", readFileSync(join(stack.dir, "main.tf"), "utf8"))) as {
      locals: Array<Record<string, Record<string, unknown>>>;
    };
    const shared = Object.keys(parsed.locals.find((block) => block.shared_environment)!.shared_environment!);
    // module "ecs_service" { environment = merge(local.shared_environment, { NAME = … }) }
    const merged = String(findOne(stack, "module", "", "ecs_service").body.environment);
    const added = [...merged.matchAll(/\b([A-Z][A-Z0-9_]*)\s*=/g)].map((m) => m[1]!);
    // The task definition's own: PORT and the API keys secret.
    const task = String(
      findOne(service, "resource", "aws_ecs_task_definition", "api").body.container_definitions,
    );
    const own = [...task.matchAll(/\b(PORT)\s*=|name\s*=\s*"([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1] ?? m[2]!);
    expect([...new Set([...shared, ...added, ...own])].sort()).toEqual(
      [...TERRAFORM_CONTAINER_VARIABLES].sort(),
    );
  });
});
