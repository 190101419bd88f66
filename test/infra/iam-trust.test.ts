// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform interpolations, not JS templates
// Only main deploys: the GitHub side (environments that run main only, reviewers on prod, the OIDC
// subject template, modules/github-repository) and the AWS side (trust policies that require that
// subject, modules/github-oidc), decided with the IAM evaluator on the policies Terraform renders for the
// three environment files. And promote's read role, which reads and never writes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Environment, loadEnvironment } from "@content-engine/environments";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../../scripts/tools.ts";
import {
  bodies,
  envsRoot,
  findOne,
  loadTerraformDir,
  modulesRoot,
  type TerraformDir,
} from "../support/hcl.ts";
import { jobClaims, subjectOf } from "../support/iam-oidc-token.ts";
import { type AuthorizationRequest, evaluate, grantedActions } from "../support/iam-policy.ts";
import {
  githubOidcInputs,
  type IamRole,
  OIDC_HOST,
  oidcProviderArn,
  renderDeliveryRoles,
  subjectClaimKeys,
} from "../support/iam-roles.ts";
import { useMoto } from "../support/moto.ts";

const REPOSITORY = "acme/content-engine";
const NAMES = ["dev", "staging", "prod"] as const;
type Name = (typeof NAMES)[number];
const workflowsDir = join(repoRoot, ".github", "workflows");
const workflowFiles = readdirSync(workflowsDir).filter((f) => f.endsWith(".yml"));

let envs: Record<Name, Environment>;
let roles: IamRole[];
let claimKeys: string[];
let github: TerraformDir;
const roots = new Map<Name, TerraformDir>();

beforeAll(async () => {
  envs = Object.fromEntries(NAMES.map((n) => [n, loadEnvironment(n)])) as Record<Name, Environment>;
  roles = await renderDeliveryRoles(Object.values(envs), REPOSITORY);
  claimKeys = await subjectClaimKeys();
  github = await loadTerraformDir(join(modulesRoot, "github-repository"));
  for (const name of NAMES) roots.set(name, await loadTerraformDir(join(envsRoot, name)));
});

const role = (name: string) => {
  const found = roles.find((r) => r.name === name);
  if (!found) throw new Error(`no role "${name}" among ${roles.map((r) => r.name).join(", ")}`);
  return found;
};

interface Token {
  environment?: string;
  workflow?: string;
  ref?: string;
  event?: string;
  aud?: string;
  repository?: string;
  /** The `sub` as is, instead of the template's (GitHub's default, before the template applies). */
  sub?: string;
}

/** A job's OIDC token presented to `target`'s trust policy (from the target account's provider). */
function assumeWithToken(target: IamRole, token: Token, providerAccount = target.arn.split(":")[4]!) {
  const claims = jobClaims({
    repository: token.repository ?? REPOSITORY,
    workflowFile: token.workflow ?? "deploy-env.yml",
    ref: token.ref ?? "refs/heads/main",
    eventName: token.event ?? "push",
    ...(token.environment ? { environment: token.environment } : {}),
  });
  const request: AuthorizationRequest = {
    action: "sts:AssumeRoleWithWebIdentity",
    resource: target.arn,
    principal: { type: "Federated", id: oidcProviderArn(providerAccount) },
    context: {
      [`${OIDC_HOST}:sub`]: token.sub ?? subjectOf(claims, claimKeys),
      [`${OIDC_HOST}:aud`]: token.aud ?? "sts.amazonaws.com",
    },
  };
  return evaluate([target.trust!], request).decision;
}

interface Assumption {
  workflow: string;
  job: string;
  role: "deploy" | "promote read";
  environments: string[];
}

type WorkflowJob = {
  environment?: string;
  strategy?: { matrix?: Record<string, unknown> | string };
  steps?: Array<{ uses?: string }>;
};

/**
 * Every job of the workflows that assumes a role: which role (the environment file field its step
 * reads) and in which GitHub environments it can run (its `environment:`, a literal or a matrix key
 * whose values are a literal list, a dispatch input's options, or the environment files themselves).
 */
function assumptionsInWorkflows(): Assumption[] {
  const out: Assumption[] = [];
  for (const workflow of workflowFiles) {
    const doc = parse(readFileSync(join(workflowsDir, workflow), "utf8")) as {
      on?: { workflow_dispatch?: { inputs?: Record<string, { options?: string[] }> } };
      jobs: Record<string, WorkflowJob>;
    };
    for (const [job, body] of Object.entries(doc.jobs)) {
      const steps = body.steps ?? [];
      if (!steps.some((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))) continue;
      const text = JSON.stringify(steps);
      const kind = text.includes("readRoleArn")
        ? "promote read"
        : text.includes("deployRoleArn")
          ? "deploy"
          : undefined;
      if (!kind)
        throw new Error(
          `${workflow} job ${job}: assumes a role named by neither deployRoleArn nor readRoleArn`,
        );
      const environment = body.environment;
      if (!environment)
        throw new Error(`${workflow} job ${job}: assumes a role outside any GitHub environment`);
      const key = environment.match(/^\$\{\{\s*matrix\.(\w+)\s*\}\}$/)?.[1];
      let environments: string[];
      if (!key) environments = [environment];
      else {
        const matrix = body.strategy?.matrix;
        const values = typeof matrix === "object" ? matrix[key] : undefined;
        const options = doc.on?.workflow_dispatch?.inputs?.[key]?.options;
        if (Array.isArray(values)) environments = values as string[];
        else if (typeof values === "string" && values.includes("outputs.environments"))
          environments = [...NAMES];
        else if (options) environments = options;
        else throw new Error(`${workflow} job ${job}: cannot tell which environments matrix.${key} takes`);
      }
      out.push({ workflow, job, role: kind, environments });
    }
  }
  return out;
}

describe("the GitHub side, in Terraform (modules/github-repository and the roots)", () => {
  const moduleCall = (name: Name) => findOne(roots.get(name)!, "module", "", "github").body;

  it("gives dev, staging and prod each its GitHub environment, whose only deployment branch is main", () => {
    for (const name of NAMES) {
      const call = moduleCall(name);
      expect(call.source, name).toBe("../../modules/github-repository");
      expect(Object.keys(bodies(call.environments)[0] ?? {}), name).toEqual([name]);
      expect(call.deploy_branch ?? "main", name).toBe("main");
    }
    const environment = findOne(github, "resource", "github_repository_environment", "this").body;
    expect(environment.for_each).toBe("${var.environments}");
    expect(bodies(environment.deployment_branch_policy)[0]).toEqual({
      protected_branches: false,
      custom_branch_policies: true,
    });
    expect(environment.can_admins_bypass).toBe(false);
    const policy = findOne(
      github,
      "resource",
      "github_repository_environment_deployment_policy",
      "deploy_branch",
    );
    expect(policy.body).toMatchObject({
      for_each: "${github_repository_environment.this}",
      branch_pattern: "${var.deploy_branch}",
    });
    expect(findOne(github, "variable", "", "deploy_branch").body.default).toBe("main");
  });

  it("requires prod's reviewers (who may not approve their own run) and no one else's", () => {
    const prod = bodies(moduleCall("prod").environments)[0]!.prod as Record<string, unknown>;
    expect(prod).toEqual({
      reviewer_user_ids: "${var.prod_reviewers.user_ids}",
      reviewer_team_ids: "${var.prod_reviewers.team_ids}",
    });
    for (const name of ["dev", "staging"] as const)
      expect(bodies(moduleCall(name).environments)[0]![name], name).toEqual({});
    const environment = findOne(github, "resource", "github_repository_environment", "this").body;
    const reviewers = bodies(bodies(environment.dynamic)[0]?.reviewers)[0];
    expect(bodies(reviewers?.content)[0]).toEqual({
      users: "${reviewers.value.reviewer_user_ids}",
      teams: "${reviewers.value.reviewer_team_ids}",
    });
    expect(String(environment.prevent_self_review)).toContain("length(concat(each.value.reviewer_user_ids");
  });

  it("sets the OIDC subject template (repo, context, job_workflow_ref) once, from prod's root", () => {
    expect(claimKeys).toEqual(["repo", "context", "job_workflow_ref"]);
    const template = findOne(
      github,
      "resource",
      "github_actions_repository_oidc_subject_claim_customization_template",
      "this",
    ).body;
    expect(template).toMatchObject({
      use_default: false,
      include_claim_keys: "${local.oidc_subject_claim_keys}",
    });
    expect(template.count).toBe("${var.manage_oidc_subject_template ? 1 : 0}");
    expect(
      Object.fromEntries(NAMES.map((n) => [n, moduleCall(n).manage_oidc_subject_template ?? false])),
    ).toEqual({
      dev: false,
      staging: false,
      prod: true,
    });
  });
});

describe("who may assume a deploy role: the trust policies Terraform renders, decided", () => {
  it("renders github-oidc with every argument modules/content-engine passes it (the provider's own aside)", async () => {
    const stack = await loadTerraformDir(join(modulesRoot, "content-engine"));
    const passed = Object.keys(findOne(stack, "module", "", "github_oidc").body).filter(
      (k) => !["source", "tags", "create_oidc_provider", "oidc_provider_arn"].includes(k),
    );
    const rendered = Object.keys(githubOidcInputs(envs.dev, Object.values(envs), REPOSITORY).variables);
    expect(rendered.sort()).toEqual(passed.sort());
  });

  it("lets deploy-env.yml on main, in prod's environment, assume prod's deploy role", () => {
    expect(assumeWithToken(role("prod deploy"), { environment: "prod", workflow: "deploy-env.yml" })).toBe(
      "allow",
    );
  });

  it.each<[string, Token]>([
    ["a run of another branch", { environment: "prod", ref: "refs/heads/feature" }],
    ["a run of a tag", { environment: "prod", ref: "refs/tags/v1.0.0" }],
    ["another workflow (promote.yml)", { environment: "prod", workflow: "promote.yml" }],
    ["another workflow (rollback.yml)", { environment: "prod", workflow: "rollback.yml" }],
    ["a workflow pushed on main that the trust does not name", { environment: "prod", workflow: "evil.yml" }],
    ["another environment's job (staging)", { environment: "staging" }],
    ["a pull_request job (no environment)", { event: "pull_request", ref: "refs/pull/7/merge" }],
    ["a job on main outside any environment", {}],
    ["a token for another audience", { environment: "prod", aud: "https://example.invalid" }],
    ["another repository", { environment: "prod", repository: "acme/fork" }],
    ["GitHub's default sub (before the template applies)", { sub: `repo:${REPOSITORY}:environment:prod` }],
  ])("refuses %s", (_, token) => {
    expect(assumeWithToken(role("prod deploy"), token)).toBe("implicit-deny");
  });

  it("refuses a token from another account's OIDC provider", () => {
    expect(assumeWithToken(role("prod deploy"), { environment: "prod" }, envs.dev.accountId)).toBe(
      "implicit-deny",
    );
  });

  it("trusts exactly the jobs the workflows run with each role, in each environment they run in, from main", () => {
    const assumptions = assumptionsInWorkflows();
    expect(
      assumptions.map((a) => `${a.workflow}/${a.job}: ${a.role} in ${a.environments.join(",")}`).sort(),
    ).toEqual([
      "deploy-env.yml/deploy: deploy in dev,staging,prod",
      "deploy.yml/build: deploy in dev",
      "drift.yml/drift: deploy in dev,staging,prod",
      "promote.yml/promote: promote read in dev,staging",
    ]);
    for (const env of NAMES) {
      for (const kind of ["deploy", "promote read"] as const) {
        const target = role(`${env} ${kind}`);
        const trusted = new Set(
          assumptions.filter((a) => a.role === kind && a.environments.includes(env)).map((a) => a.workflow),
        );
        for (const workflow of workflowFiles) {
          const main = assumeWithToken(target, { environment: env, workflow });
          expect(main, `${workflow} on main → ${target.name}`).toBe(
            trusted.has(workflow) ? "allow" : "implicit-deny",
          );
          const branch = assumeWithToken(target, { environment: env, workflow, ref: "refs/heads/fix" });
          expect(branch, `${workflow} on a branch → ${target.name}`).toBe("implicit-deny");
        }
      }
    }
  });
});

describe("promote's read-only role (github-oidc promote_read)", () => {
  const read = () => role("dev promote read");
  const dev = () => envs.dev;
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${dev().region}:${dev().accountId}:${resource}`;
  const decide = (action: string, resource: string, context?: AuthorizationRequest["context"]) =>
    evaluate(read().permissions, { action, resource, ...(context ? { context } : {}) }).decision;

  /** What promote reads in its source environment, and the next environment's read role it assumes. */
  const reads = (): Array<[string, string, AuthorizationRequest["context"]?]> => [
    ["cloudwatch:DescribeAlarms", arn("cloudwatch", "alarm:content-engine-dev-*")],
    ["cloudwatch:ListTagsForResource", arn("cloudwatch", "alarm:content-engine-dev-api-5xx")],
    ["cloudwatch:GetDashboard", `arn:aws:cloudwatch::${dev().accountId}:dashboard/content-engine-dev-api`],
    ["ecs:DescribeServices", arn("ecs", `service/${dev().api.cluster}/${dev().api.service}`)],
    ["ecs:DescribeTaskDefinition", "*"],
    ["ecs:ListTaskDefinitions", "*"],
    ["lambda:GetAlias", arn("lambda", `function:${dev().worker.functionName}`)],
    ["lambda:GetFunctionConfiguration", arn("lambda", `function:${dev().worker.functionName}:7`)],
    ["lambda:ListEventSourceMappings", "*"],
    ["elasticloadbalancing:DescribeLoadBalancers", "*"],
    ["elasticloadbalancing:DescribeTargetGroups", "*"],
    ["ecr:GetAuthorizationToken", "*"],
    ["ecr:BatchGetImage", arn("ecr", "repository/content-engine")],
    ["ecr:GetDownloadUrlForLayer", arn("ecr", "repository/content-engine")],
    ["sts:AssumeRole", envs.staging.readRoleArn!],
  ];

  it("may make exactly the reads promote makes, and nothing else is granted", () => {
    for (const [action, resource, context] of reads())
      expect(decide(action, resource, context), action).toBe("allow");
    expect(grantedActions(read().permissions)).toEqual([...new Set(reads().map(([a]) => a))].sort());
  });

  it.each([
    ["ecs:RegisterTaskDefinition", "*"],
    ["ecs:UpdateService", "service/content-engine-dev/content-engine-api"],
    ["lambda:UpdateFunctionCode", "function:content-engine-worker-dev"],
    ["lambda:UpdateAlias", "function:content-engine-worker-dev"],
    ["lambda:PublishVersion", "function:content-engine-worker-dev"],
    ["lambda:UpdateFunctionConfiguration", "function:content-engine-worker-dev"],
    ["lambda:UpdateEventSourceMapping", "event-source-mapping:0b6c"],
    ["cloudwatch:PutMetricAlarm", "alarm:content-engine-dev-api-5xx"],
    ["cloudwatch:SetAlarmState", "alarm:content-engine-dev-api-5xx"],
    ["cloudwatch:DeleteAlarms", "alarm:content-engine-dev-api-5xx"],
    ["ecr:PutImage", "repository/content-engine"],
    ["ecr:InitiateLayerUpload", "repository/content-engine"],
  ])("cannot %s", (action, resource) => {
    const service = action.split(":")[0]!;
    expect(decide(action, resource === "*" ? "*" : arn(service, resource))).toBe("implicit-deny");
  });

  it("cannot write an object, publish a dashboard, pass a role or assume a deploy role", () => {
    expect(decide("s3:PutObject", `arn:aws:s3:::${dev().bucket}/uploads/x`)).toBe("implicit-deny");
    expect(
      decide(
        "cloudwatch:PutDashboard",
        `arn:aws:cloudwatch::${dev().accountId}:dashboard/content-engine-dev-api`,
      ),
    ).toBe("implicit-deny");
    expect(decide("iam:PassRole", `arn:aws:iam::${dev().accountId}:role/content-engine-dev-api-task`)).toBe(
      "implicit-deny",
    );
    for (const env of NAMES)
      expect(decide("sts:AssumeRole", envs[env].deployRoleArn!), env).toBe("implicit-deny");
  });

  it("is trusted by promote.yml on main in its environment, and prod's only by staging's read role", () => {
    expect(assumeWithToken(read(), { environment: "dev", workflow: "promote.yml" })).toBe("allow");
    expect(assumeWithToken(read(), { environment: "dev", workflow: "deploy-env.yml" })).toBe("implicit-deny");
    const prodRead = role("prod promote read");
    expect(assumeWithToken(prodRead, { environment: "prod", workflow: "promote.yml" })).toBe("implicit-deny");
    const assume = (caller: string) =>
      evaluate([prodRead.trust!], {
        action: "sts:AssumeRole",
        resource: prodRead.arn,
        principal: { type: "AWS", id: caller },
      }).decision;
    expect(assume(envs.staging.readRoleArn!)).toBe("allow");
    expect(assume(envs.dev.readRoleArn!)).toBe("implicit-deny");
    expect(assume(envs.staging.deployRoleArn!)).toBe("implicit-deny");
  });
});

describe("the rehearsal's configure-aws-credentials stand-in decides like STS", () => {
  const moto = useMoto();
  const standIn = join(repoRoot, "test", "rehearsal", "stand-ins", "configure-aws-credentials", "assume.mjs");

  function runStandIn(job: { workflow: string; job: string; matrix: object; ref: string; role: string }) {
    const dir = mkdtempSync(join(tmpdir(), "stand-in-"));
    writeFileSync(
      join(dir, "iam.json"),
      JSON.stringify({
        support: join(repoRoot, "test", "support"),
        claimKeys,
        roles: Object.fromEntries(roles.map((r) => [r.arn, { name: r.name, trust: r.trust }])),
      }),
    );
    writeFileSync(join(dir, "env"), "");
    const result = spawnSync(process.execPath, [standIn], {
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        ROLE: job.role,
        REGION: "eu-west-1",
        AWS_ENDPOINT_URL: moto.endpoint,
        GITHUB_ENV: join(dir, "env"),
        REHEARSAL_IAM: join(dir, "iam.json"),
        GITHUB_WORKSPACE: repoRoot,
        GITHUB_WORKFLOW: job.workflow,
        GITHUB_JOB: job.job,
        JOB_MATRIX: JSON.stringify(job.matrix),
        GITHUB_REF: job.ref,
        GITHUB_REPOSITORY: REPOSITORY,
        GITHUB_EVENT_NAME: "workflow_dispatch",
      },
    });
    return { ...result, exported: readFileSync(join(dir, "env"), "utf8") };
  }

  it("exports prod's deploy credentials to deploy-env's job on main, in prod", () => {
    const run = runStandIn({
      workflow: "deploy-env",
      job: "deploy",
      matrix: { environment: "prod" },
      ref: "refs/heads/main",
      role: envs.prod.deployRoleArn!,
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.exported).toMatch(/^AWS_ACCESS_KEY_ID=\S+$/m);
  });

  it("refuses the same job run from another branch, with the sub it presented, and exports nothing", () => {
    const run = runStandIn({
      workflow: "deploy-env",
      job: "deploy",
      matrix: { environment: "prod" },
      ref: "refs/heads/feature",
      role: envs.prod.deployRoleArn!,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain("Not authorized to perform sts:AssumeRoleWithWebIdentity");
    expect(run.stdout).toContain(
      "job_workflow_ref:acme/content-engine/.github/workflows/deploy-env.yml@refs/heads/feature",
    );
    expect(run.exported).toBe("");
  });

  it("refuses promote's job the deploy role of the environment it promotes from", () => {
    const run = runStandIn({
      workflow: "promote",
      job: "promote",
      matrix: { from: "dev", to: "staging" },
      ref: "refs/heads/main",
      role: envs.dev.deployRoleArn!,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      "environment:dev:job_workflow_ref:acme/content-engine/.github/workflows/promote.yml",
    );
  });
});
