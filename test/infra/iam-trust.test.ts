// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform interpolations, not JS templates
// Only main deploys: the GitHub side (environments that run main only, reviewers on prod, the OIDC
// subject template, modules/github-repository) and the AWS side (trust policies that require that
// subject, modules/github-oidc), decided with the IAM evaluator on the policies Terraform renders for the
// three environment files. And promote's read role, which reads and never writes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiTaskFamily, loadEnvironments, previewNames } from "@content-engine/environments";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../../scripts/tools.ts";
import {
  bodies,
  environmentRoot,
  findOne,
  type HclBody,
  loadTerraformDir,
  loadTfvars,
  modulesRoot,
  type TerraformDir,
  tfvarsEnvironments,
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
// The environments are the files; the matrices the workflows take from them (actions/environments) too.
const SET = loadEnvironments(join(repoRoot, "environments"));
const NAMES = SET.names;
const workflowsDir = join(repoRoot, ".github", "workflows");
const workflowFiles = readdirSync(workflowsDir).filter((f) => f.endsWith(".yml"));

let roles: IamRole[];
let claimKeys: string[];
let github: TerraformDir;
let root: TerraformDir;
const tfvars = new Map<string, HclBody>();

beforeAll(async () => {
  roles = await renderDeliveryRoles(SET.environments, REPOSITORY);
  claimKeys = await subjectClaimKeys();
  github = await loadTerraformDir(join(modulesRoot, "github-repository"));
  root = await loadTerraformDir(environmentRoot);
  for (const name of tfvarsEnvironments()) tfvars.set(name, await loadTfvars(name));
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
  role: "deploy" | "promote read" | "preview";
  environments: string[];
}

/** The GitHub environment preview.yml's jobs run in (modules/github-repository preview_environment). */
const PREVIEW_ENVIRONMENT = "preview";

type WorkflowJob = {
  environment?: string | { name: string; url?: string };
  strategy?: { matrix?: Record<string, unknown> | string };
  steps?: Array<{ id?: string; uses?: string; with?: Record<string, unknown> }>;
};

/** The outputs of actions/environments that name a role, by the environment file field they read (its action.yml says which). */
function environmentsActionRoleOutputs(): Record<string, string> {
  const action = parse(readFileSync(join(repoRoot, "actions", "environments", "action.yml"), "utf8")) as {
    outputs?: Record<string, { description?: string }>;
  };
  const out: Record<string, string> = {};
  for (const [name, output] of Object.entries(action.outputs ?? {})) {
    const field = ["previews.roleArn", "readRoleArn", "deployRoleArn"].find((f) =>
      output.description?.includes(f),
    );
    if (field) out[name] = field;
  }
  return out;
}

/**
 * Every job of the workflows that assumes a role: which role (the environment file field its step
 * reads: deployRoleArn, readRoleArn, or previews.roleArn of the file previews derive from) and in which
 * GitHub environments it can run (its `environment:`, a literal or a matrix key
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
      // A role given by an output of actions/environments reads the field that output is documented to.
      const roleOutputs = environmentsActionRoleOutputs();
      const viaAction = steps.flatMap((step) => {
        const role = String(step.with?.["role-to-assume"] ?? "");
        return [...role.matchAll(/steps\.([\w-]+)\.outputs\.([\w-]+)/g)].flatMap(([, id, output]) => {
          const source = steps.find((s) => s.id === id);
          return source?.uses === "./actions/environments" && roleOutputs[output!]
            ? [roleOutputs[output!]!]
            : [];
        });
      });
      const text = JSON.stringify(steps) + viaAction.join(" ");
      const fields = (
        [
          ["previews.roleArn", "preview"],
          ["readRoleArn", "promote read"],
          ["deployRoleArn", "deploy"],
        ] as const
      ).filter(([field]) => text.includes(field));
      if (fields.length !== 1)
        throw new Error(
          `${workflow} job ${job}: assumes a role named by ${fields.length === 0 ? "none" : fields.map(([f]) => f).join(" and ")} of deployRoleArn, readRoleArn, previews.roleArn`,
        );
      const kind = fields[0]![1];
      // A name, or { name, url } (deploy-env.yml's job names its URL too).
      const environment = typeof body.environment === "object" ? body.environment.name : body.environment;
      if (!environment)
        throw new Error(`${workflow} job ${job}: assumes a role outside any GitHub environment`);
      const key = environment.match(/^\$\{\{\s*matrix\.(\w+)\s*\}\}$/)?.[1];
      let environments: string[];
      if (!key) environments = [environment];
      else {
        const matrix = body.strategy?.matrix;
        const values = typeof matrix === "object" ? matrix[key] : undefined;
        const options = doc.on?.workflow_dispatch?.inputs?.[key]?.options;
        const include = typeof matrix === "object" ? matrix.include : undefined;
        if (Array.isArray(values)) environments = values as string[];
        else if (typeof values === "string" && values.includes("outputs.environments"))
          environments = [...NAMES];
        else if (typeof values === "string" && values.includes("needs.environments.outputs.build"))
          environments = [SET.build.name];
        else if (typeof include === "string" && include.includes("outputs.promotions"))
          environments = [...new Set(SET.promotions.map((p) => p[key as "from" | "to"]))];
        else if (options) environments = options;
        else throw new Error(`${workflow} job ${job}: cannot tell which environments matrix.${key} takes`);
      }
      out.push({ workflow, job, role: kind, environments });
    }
  }
  return out;
}

describe("the GitHub side, in Terraform (modules/github-repository and the environment root)", () => {
  const moduleCall = () => findOne(root, "module", "", "github").body;
  /** A setting of each environment's variables file (terraform/envs/<name>.tfvars), or the root's default. */
  const perEnvironment = (variable: string) =>
    Object.fromEntries(
      [...tfvars].map(([name, values]) => [
        name,
        values[variable] ?? findOne(root, "variable", "", variable).body.default,
      ]),
    );

  it("gives every environment its GitHub environment, whose only deployment branch is main", () => {
    const call = moduleCall();
    expect(call.source).toBe("../modules/github-repository");
    expect(Object.keys(bodies(call.environments)[0] ?? {})).toEqual(["${(var.environment)}"]);
    expect(call.deploy_branch ?? "main").toBe("main");
    for (const [name, values] of tfvars) expect(values.environment, `envs/${name}.tfvars`).toBe(name);
    const environment = findOne(github, "resource", "github_repository_environment", "this").body;
    expect(environment.for_each).toBe("${local.environments}");
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
    const githubEnvironment = bodies(moduleCall().environments)[0]!["${(var.environment)}"];
    expect(githubEnvironment).toEqual({
      reviewer_user_ids: "${var.reviewers.user_ids}",
      reviewer_team_ids: "${var.reviewers.team_ids}",
    });
    // Reviewers are given at apply time; require_reviewers makes the plan fail without one
    // (test/infra/terraform-environments.test.ts), and no file names reviewers of its own.
    expect(findOne(root, "variable", "", "reviewers").body.default).toEqual({});
    expect(perEnvironment("require_reviewers")).toMatchObject({ dev: false, staging: false, prod: true });
    for (const [name, values] of tfvars) expect(values.reviewers, `envs/${name}.tfvars`).toBeUndefined();
    const environment = findOne(github, "resource", "github_repository_environment", "this").body;
    const reviewers = bodies(bodies(environment.dynamic)[0]?.reviewers)[0];
    expect(bodies(reviewers?.content)[0]).toEqual({
      users: "${reviewers.value.reviewer_user_ids}",
      teams: "${reviewers.value.reviewer_team_ids}",
    });
    expect(String(environment.prevent_self_review)).toContain("length(concat(each.value.reviewer_user_ids");
  });

  it("sets the OIDC subject template (repo, context, job_workflow_ref) once, from prod", () => {
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
    expect(moduleCall().manage_oidc_subject_template).toBe("${var.manage_oidc_subject_template}");
    const managed = perEnvironment("manage_oidc_subject_template");
    expect(Object.keys(managed).filter((name) => managed[name] === true)).toEqual(["prod"]);
  });
  it("gives the environment previews derive from the preview GitHub environment: main only, no reviewers unless given", () => {
    const main = readFileSync(join(modulesRoot, "github-repository", "main.tf"), "utf8").replace(/\s+/g, " ");
    expect(main).toContain(`preview_environment_name = "${PREVIEW_ENVIRONMENT}"`);
    expect(main).toContain(
      "environments = merge( var.environments, var.preview_environment ? { (local.preview_environment_name) = var.preview_reviewers } : {}, )",
    );
    // The same resource as every other environment's: the deploy-branch policy, no admin bypass.
    expect(findOne(github, "variable", "", "preview_environment").body.default).toBe(false);
    expect(findOne(github, "variable", "", "preview_reviewers").body.default).toEqual({});
    const call = moduleCall();
    expect(call.preview_environment).toBe("${var.previews}");
    expect(bodies(call.preview_reviewers)[0]).toEqual({
      reviewer_user_ids: "${var.preview_reviewers.user_ids}",
      reviewer_team_ids: "${var.preview_reviewers.team_ids}",
    });
    expect(findOne(root, "variable", "", "preview_reviewers").body.default).toEqual({});
    // Exactly the environment files with a previews block turn previews on (at most one: dev).
    const previews = perEnvironment("previews");
    expect(Object.keys(previews).filter((name) => previews[name] === true)).toEqual(
      SET.previewBase ? [SET.previewBase.name] : [],
    );
    expect(SET.previewBase?.name).toBe("dev");
  });
});

describe("who may assume a deploy role: the trust policies Terraform renders, decided", () => {
  it("renders github-oidc with every argument modules/content-engine passes it (the provider's own aside)", async () => {
    const stack = await loadTerraformDir(join(modulesRoot, "content-engine"));
    const passed = Object.keys(findOne(stack, "module", "", "github_oidc").body).filter(
      (k) => !["source", "tags", "create_oidc_provider", "oidc_provider_arn"].includes(k),
    );
    const rendered = Object.keys(githubOidcInputs(SET.get("dev"), SET.environments, REPOSITORY).variables);
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
    expect(assumeWithToken(role("prod deploy"), { environment: "prod" }, SET.get("dev").accountId)).toBe(
      "implicit-deny",
    );
  });

  it("trusts exactly the jobs the workflows run with each role, in each environment they run in, from main", () => {
    const assumptions = assumptionsInWorkflows();
    expect(
      assumptions
        .filter((a) => a.workflow !== "preview.yml")
        .map((a) => `${a.workflow}/${a.job}: ${a.role} in ${a.environments.join(",")}`)
        .sort(),
    ).toEqual([
      `deploy-env.yml/deploy: deploy in ${NAMES.join(",")}`,
      `deploy.yml/build: deploy in ${SET.build.name}`,
      `drift.yml/drift: deploy in ${NAMES.join(",")}`,
      `promote.yml/promote: promote read in ${[...new Set(SET.promotions.map((p) => p.from))].join(",")}`,
    ]);
    // preview.yml runs the pull request's code: each of its jobs that assumes a role does so in the
    // preview environment, with previews.roleArn of the file previews derive from, never another role.
    const previews = assumptions.filter((a) => a.workflow === "preview.yml");
    expect(previews.length, "preview.yml's jobs that assume a role").toBeGreaterThan(0);
    for (const a of previews)
      expect(`${a.job}: ${a.role} in ${a.environments.join(",")}`).toBe(
        `${a.job}: preview in ${PREVIEW_ENVIRONMENT}`,
      );
    expect(assumptions.filter((a) => a.role === "preview" && a.workflow !== "preview.yml")).toEqual([]);

    const files = [...new Set([...workflowFiles, "preview.yml"])];
    const targets = [
      ...NAMES.flatMap((env) =>
        (["deploy", "promote read"] as const).map((kind) => ({ kind, env, target: role(`${env} ${kind}`) })),
      ),
      ...(SET.previewBase
        ? [
            {
              kind: "preview" as const,
              env: PREVIEW_ENVIRONMENT,
              target: role(`${SET.previewBase.name} preview`),
            },
          ]
        : []),
    ];
    for (const { kind, env, target } of targets) {
      const trusted = new Set(
        assumptions.filter((a) => a.role === kind && a.environments.includes(env)).map((a) => a.workflow),
      );
      // Every GitHub environment a job may run in: its own, and the previews'.
      for (const environment of [...new Set([env, ...NAMES, PREVIEW_ENVIRONMENT])]) {
        for (const workflow of files) {
          const main = assumeWithToken(target, { environment, workflow });
          expect(main, `${workflow} on main in ${environment} → ${target.name}`).toBe(
            environment === env && trusted.has(workflow) ? "allow" : "implicit-deny",
          );
          const branch = assumeWithToken(target, { environment, workflow, ref: "refs/heads/fix" });
          expect(branch, `${workflow} on a branch → ${target.name}`).toBe("implicit-deny");
        }
      }
    }
  });
});

describe("the preview role (github-oidc previews): preview.yml's, never the deploy role", () => {
  const base = () => SET.previewBase!;
  const preview = () => role(`${base().name} preview`);
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${base().region}:${base().accountId}:${resource}`;
  const decide = (action: string, resource: string, context?: AuthorizationRequest["context"]) =>
    evaluate(preview().permissions, { action, resource, ...(context ? { context } : {}) }).decision;
  const names = () => previewNames(base(), 21);
  const cluster = () => ({ "ecs:cluster": arn("ecs", `cluster/${base().api.cluster}`) });
  const fn = () => arn("lambda", `function:${base().worker.functionName}`);
  const lb = () => `app/${base().api.loadBalancer}/50dc6c495c0c9188`;
  /** The base's own queue (its file's queue.url). */
  const baseQueue = () => arn("sqs", base().queue.url.split("/").pop()!);

  it("is the role the file records (previews.roleArn), named like the deploy role with -preview", () => {
    expect(base().previews?.roleArn).toBe(preview().arn);
    expect(preview().arn).toBe(base().deployRoleArn!.replace(/-deploy$/, "-preview"));
    const main = readFileSync(join(modulesRoot, "github-oidc", "main.tf"), "utf8");
    expect(main).toContain('name                 = "${trimsuffix(var.name, "-deploy")}-preview"');
    // The module's output, through the stack, to the root's outputs (the value of previews.roleArn).
    expect(findOne(root, "output", "", "preview_role_arn").body.value).toBe(
      "${module.stack.preview_role_arn}",
    );
    expect(findOne(root, "module", "", "stack").body.previews).toBe("${var.previews}");
    expect(findOne(root, "variable", "", "previews").body.default).toBe(false);
  });

  it.each<[string, Token]>([
    ["a pull_request_target run", { event: "pull_request_target" }],
    ["the scheduled reaper", { event: "schedule" }],
  ])("is trusted by preview.yml on main, in the preview environment: %s", (_, token) => {
    expect(
      assumeWithToken(preview(), { environment: PREVIEW_ENVIRONMENT, workflow: "preview.yml", ...token }),
    ).toBe("allow");
  });

  it.each<[string, Token]>([
    ["preview.yml in the base's own environment", { environment: "dev", workflow: "preview.yml" }],
    [
      "preview.yml from a pull request's ref",
      {
        environment: PREVIEW_ENVIRONMENT,
        workflow: "preview.yml",
        ref: "refs/pull/7/merge",
        event: "pull_request",
      },
    ],
    [
      "preview.yml from a branch",
      { environment: PREVIEW_ENVIRONMENT, workflow: "preview.yml", ref: "refs/heads/feature" },
    ],
    ["preview.yml outside any environment", { workflow: "preview.yml", event: "pull_request_target" }],
    [
      "a deploy workflow in the preview environment",
      { environment: PREVIEW_ENVIRONMENT, workflow: "deploy-env.yml" },
    ],
    ["ci.yml in the preview environment", { environment: PREVIEW_ENVIRONMENT, workflow: "ci.yml" }],
    ["GitHub's default sub", { sub: `repo:${REPOSITORY}:environment:${PREVIEW_ENVIRONMENT}` }],
  ])("refuses %s", (_, token) => {
    expect(assumeWithToken(preview(), token)).toBe("implicit-deny");
  });

  it("leaves the deploy role as it was before previews: preview.yml is not trusted, no preview grant", () => {
    const deploy = role(`${base().name} deploy`);
    for (const environment of [base().name, PREVIEW_ENVIRONMENT])
      for (const event of ["pull_request_target", "schedule"])
        expect(
          assumeWithToken(deploy, { environment, workflow: "preview.yml", event }),
          `preview.yml (${event}) in ${environment} → ${deploy.name}`,
        ).toBe("implicit-deny");
    expect(deploy.permissions).toHaveLength(1);
    const deployDecide = (action: string, resource: string) =>
      evaluate(deploy.permissions, { action, resource }).decision;
    expect(
      deployDecide("ecs:CreateService", arn("ecs", `service/${base().api.cluster}/${names().service}`)),
    ).toBe("implicit-deny");
    expect(deployDecide("lambda:CreateFunction", arn("lambda", `function:${names().functionName}`))).toBe(
      "implicit-deny",
    );
    expect(deployDecide("sqs:CreateQueue", arn("sqs", names().queue))).toBe("implicit-deny");
    expect(deployDecide("s3:DeleteObject", `arn:aws:s3:::${base().bucket}/${names().bucketPrefix}x`)).toBe(
      "implicit-deny",
    );
    // Every role trusts a job in its own environment(s) only; only the preview role the preview environment's.
    for (const r of roles.filter((r) => r.trust && !r.name.endsWith(" preview")))
      expect(assumeWithToken(r, { environment: PREVIEW_ENVIRONMENT, workflow: "preview.yml" }), r.name).toBe(
        "implicit-deny",
      );
  });

  it("may not sign, deploy the base, or touch the base's queue or keys outside previews/", () => {
    const denied: Array<[string, string, AuthorizationRequest["context"]?]> = [
      ["kms:Sign", arn("kms", "key/2f1c0c1e-7d4b-4f7e-9a57-6a1d2b3c4d5e")],
      ["kms:GetPublicKey", arn("kms", "key/2f1c0c1e-7d4b-4f7e-9a57-6a1d2b3c4d5e")],
      ["kms:Decrypt", arn("kms", "key/2f1c0c1e-7d4b-4f7e-9a57-6a1d2b3c4d5e")],
      ["ecs:UpdateService", arn("ecs", `service/${base().api.cluster}/${base().api.service}`), cluster()],
      ["ecs:DeleteService", arn("ecs", `service/${base().api.cluster}/${base().api.service}`), cluster()],
      ["ecs:RunTask", arn("ecs", `task-definition/${apiTaskFamily(base())}:7`), cluster()],
      ["lambda:UpdateFunctionCode", fn()],
      ["lambda:UpdateFunctionConfiguration", fn()],
      ["lambda:UpdateAlias", `${fn()}:live`],
      ["lambda:PublishVersion", fn()],
      ["lambda:DeleteFunction", fn()],
      [
        "lambda:UpdateEventSourceMapping",
        arn("lambda", "event-source-mapping:0b6c"),
        { "lambda:FunctionArn": `${fn()}:live` },
      ],
      ["lambda:CreateEventSourceMapping", "*", { "lambda:FunctionArn": `${fn()}:live` }],
      [
        "lambda:DeleteEventSourceMapping",
        arn("lambda", "event-source-mapping:0b6c"),
        { "lambda:FunctionArn": `${fn()}:live` },
      ],
      ["sqs:SendMessage", baseQueue()],
      ["sqs:DeleteQueue", baseQueue()],
      ["sqs:GetQueueAttributes", baseQueue()],
      ["s3:PutObject", `arn:aws:s3:::${base().bucket}/uploads/acme/job-1`],
      ["s3:GetObject", `arn:aws:s3:::${base().bucket}/uploads/acme/job-1`],
      ["s3:DeleteObject", `arn:aws:s3:::${base().bucket}/uploads/acme/job-1`],
      ["s3:DeleteObject", `arn:aws:s3:::${base().bucket}/jobs/acme/job-1.json`],
      ["s3:ListBucket", `arn:aws:s3:::${base().bucket}`, { "s3:prefix": "uploads/" }],
      [
        "elasticloadbalancing:DeleteRule",
        arn("elasticloadbalancing", `listener-rule/${lb().replace("app/", "app/other-")}/1/2`),
      ],
      [
        "elasticloadbalancing:DeleteTargetGroup",
        arn("elasticloadbalancing", `targetgroup/${base().api.targetGroup}/73e2d6bc24d8a067`),
      ],
      [
        "elasticloadbalancing:ModifyListener",
        arn("elasticloadbalancing", `listener/${lb()}/f2f7dc8efc522ab2`),
      ],
      [
        "iam:PassRole",
        `arn:aws:iam::${base().accountId}:role/content-engine-${base().name}-deploy`,
        { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
      ],
      ["ecr:BatchDeleteImage", arn("ecr", "repository/content-engine")],
      ["ecr:PutLifecyclePolicy", arn("ecr", "repository/content-engine")],
      ["ecr:SetRepositoryPolicy", arn("ecr", "repository/content-engine")],
      ["cloudwatch:PutMetricAlarm", arn("cloudwatch", `alarm:content-engine-${base().name}-api-5xx`)],
      ["sts:AssumeRole", base().deployRoleArn!],
    ];
    for (const [action, resource, context] of denied)
      expect(decide(action, resource, context), `${action} on ${resource}`).toBe("implicit-deny");
    expect(grantedActions(preview().permissions).filter((a) => a.startsWith("kms:"))).toEqual([]);
  });

  it("may do what a preview needs, on the previews' own names, and read the base it copies", () => {
    const n = names();
    const service = arn("ecs", `service/${base().api.cluster}/${n.service}`);
    const allowed: Array<[string, string, AuthorizationRequest["context"]?]> = [
      ["ecr:GetAuthorizationToken", "*"],
      ["ecr:PutImage", arn("ecr", "repository/content-engine")],
      ["ecr:UploadLayerPart", arn("ecr", "repository/content-engine")],
      ["ecr:BatchGetImage", arn("ecr", "repository/content-engine")],
      ["ecs:DescribeServices", arn("ecs", `service/${base().api.cluster}/${base().api.service}`), cluster()],
      ["ecs:DescribeTaskDefinition", "*"],
      ["ecs:RegisterTaskDefinition", "*"],
      ["ecs:TagResource", arn("ecs", `task-definition/${n.taskFamily}:1`)],
      [
        "iam:PassRole",
        `arn:aws:iam::${base().accountId}:role/${base().api.cluster}-api-task`,
        { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
      ],
      ["ecs:CreateService", service, cluster()],
      ["ecs:UpdateService", service, cluster()],
      ["ecs:DeleteService", service, cluster()],
      ["ecs:ListServices", "*", cluster()],
      ["elasticloadbalancing:DescribeLoadBalancers", "*"],
      ["elasticloadbalancing:DescribeListeners", "*"],
      [
        "elasticloadbalancing:CreateTargetGroup",
        arn("elasticloadbalancing", `targetgroup/${n.targetGroup}/73e2d6bc24d8a067`),
      ],
      ["elasticloadbalancing:CreateRule", arn("elasticloadbalancing", `listener/${lb()}/f2f7dc8efc522ab2`)],
      [
        "elasticloadbalancing:DeleteRule",
        arn("elasticloadbalancing", `listener-rule/${lb()}/f2f7dc8efc522ab2/9683b2d02a6cabee`),
      ],
      ["lambda:GetFunction", fn()],
      ["lambda:CreateFunction", arn("lambda", `function:${n.functionName}`)],
      ["lambda:UpdateFunctionCode", arn("lambda", `function:${n.functionName}`)],
      ["lambda:UpdateAlias", arn("lambda", `function:${n.functionName}:live`)],
      [
        "iam:PassRole",
        `arn:aws:iam::${base().accountId}:role/${base().worker.functionName}-role`,
        { "iam:PassedToService": "lambda.amazonaws.com" },
      ],
      [
        "lambda:CreateEventSourceMapping",
        "*",
        { "lambda:FunctionArn": arn("lambda", `function:${n.functionName}:live`) },
      ],
      ["lambda:ListEventSourceMappings", "*"],
      ["sqs:CreateQueue", arn("sqs", n.queue)],
      ["sqs:DeleteQueue", arn("sqs", n.dlq)],
      ["s3:ListBucket", `arn:aws:s3:::${base().bucket}`, { "s3:prefix": n.bucketPrefix }],
      ["s3:DeleteObject", `arn:aws:s3:::${base().bucket}/${n.bucketPrefix}uploads/acme/job-1`],
    ];
    for (const [action, resource, context] of allowed)
      expect(decide(action, resource, context), `${action} on ${resource}`).toBe("allow");
  });
});

describe("promote's read-only role (github-oidc promote_read)", () => {
  const read = () => role("dev promote read");
  const dev = () => SET.get("dev");
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
    ["sts:AssumeRole", SET.get("staging").readRoleArn!],
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
      expect(decide("sts:AssumeRole", SET.get(env).deployRoleArn!), env).toBe("implicit-deny");
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
    expect(assume(SET.get("staging").readRoleArn!)).toBe("allow");
    expect(assume(SET.get("dev").readRoleArn!)).toBe("implicit-deny");
    expect(assume(SET.get("staging").deployRoleArn!)).toBe("implicit-deny");
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
      role: SET.get("prod").deployRoleArn!,
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
      role: SET.get("prod").deployRoleArn!,
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
      role: SET.get("dev").deployRoleArn!,
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      "environment:dev:job_workflow_ref:acme/content-engine/.github/workflows/promote.yml",
    );
  });
});
