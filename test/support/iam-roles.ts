// The roles Terraform creates, with their policies rendered (iam-render.ts) for concrete inputs: the
// deploy and promote read roles of each environment and the preview role of the environment previews
// derive from (modules/github-oidc), fed from the environment files the way modules/content-engine
// wires the module, and the workload roles (modules/workload-iam).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import { alarmNamePrefix, apiTaskFamily, type Environment } from "@content-engine/environments";
import { bodies, type HclBody, modulesRoot } from "./hcl.ts";
import type { PolicyDocument } from "./iam-policy.ts";
import { type RenderInputs, renderPolicyDocuments } from "./iam-render.ts";

export interface IamRole {
  /** What the role is for, e.g. `dev deploy`, `api`. */
  name: string;
  arn: string;
  /** The Terraform document its permissions come from (`module/document`): shared by every environment. */
  document: string;
  /** The trust policy (assume_role_policy); undefined where the test does not decide assumption. */
  trust?: PolicyDocument;
  permissions: PolicyDocument[];
}

export const OIDC_HOST = "token.actions.githubusercontent.com";

/** The GitHub OIDC provider terraform creates in an account. */
export const oidcProviderArn = (accountId: string) => `arn:aws:iam::${accountId}:oidc-provider/${OIDC_HOST}`;

/** The claims, in order, of the repository's OIDC subject template (modules/github-repository). */
export async function subjectClaimKeys(modules = modulesRoot): Promise<string[]> {
  const file = join(modules, "github-repository", "main.tf");
  const json = (await parse("main.tf", readFileSync(file, "utf8"))) as HclBody;
  const keys = bodies(json.locals).find((l) => "oidc_subject_claim_keys" in l)?.oidc_subject_claim_keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "string"))
    throw new Error(`${file}: local.oidc_subject_claim_keys is not a literal list of claim names`);
  return keys;
}

const ecrRepositoryArn = (repositoryUrl: string) => {
  const [host, ...path] = repositoryUrl.split("/");
  const [account, , , region] = host!.split(".");
  return `arn:aws:ecr:${region}:${account}:repository/${path.join("/")}`;
};

/**
 * modules/github-oidc's inputs for one environment, as modules/content-engine passes them, from what
 * the environment file records of terraform's outputs (names, account, region), the previous and next
 * environments of the promotion order giving promote_read_principals and next_read_role_arns.
 */
export function githubOidcInputs(
  env: Environment,
  all: Environment[],
  repository: string,
  signingKeyArn: string | null = null,
): RenderInputs {
  const { accountId: account, region } = env;
  const previous = all.find((e) => e.name === env.promotion.from);
  const next = all.filter((e) => e.promotion.from === env.name);
  const cluster = env.api.cluster;
  return {
    variables: {
      name: env.deployRoleArn!.split("/").pop(),
      github_repository: repository,
      github_environments: [env.name],
      ecr_repository_arn: ecrRepositoryArn(env.image.repository),
      ecs:
        env.platform === "ecs"
          ? {
              cluster_arn: `arn:aws:ecs:${region}:${account}:cluster/${cluster}`,
              service_arn: `arn:aws:ecs:${region}:${account}:service/${cluster}/${env.api.service}`,
              task_role_arn: `arn:aws:iam::${account}:role/${cluster}-api-task`,
              execution_role_arn: `arn:aws:iam::${account}:role/${cluster}-api-execution`,
              task_family: apiTaskFamily(env),
              log_group_name: `/ecs/${cluster}/api`,
            }
          : null,
      lambda_function_arn:
        env.platform === "ecs"
          ? `arn:aws:lambda:${region}:${account}:function:${env.worker.functionName}`
          : null,
      eks_cluster_arn:
        env.platform === "eks" ? `arn:aws:eks:${region}:${account}:cluster/${env.eks?.cluster}` : null,
      alarm_name_prefix: alarmNamePrefix(env),
      // As modules/content-engine passes them: the build environment owns the repository and builds;
      // one that another environment promotes from is read by promote.yml.
      builds: env.promotion.from === undefined,
      promotes_onward: next.length > 0,
      promote_read_principals: previous?.readRoleArn ? [previous.readRoleArn] : [],
      next_read_role_arns: next.flatMap((e) => (e.readRoleArn ? [e.readRoleArn] : [])),
      signing_key_arn: signingKeyArn,
      // The environment previews derive from (its file's previews block), as modules/content-engine
      // passes it: the base's load balancer, the worker's role (modules/lambda-worker: <function>-role).
      previews: env.previews
        ? {
            workflow: "preview.yml",
            github_environment: "preview",
            load_balancer_name: env.platform === "ecs" ? env.api.loadBalancer : null,
            worker_role_arn:
              env.platform === "ecs" ? `arn:aws:iam::${account}:role/${env.worker.functionName}-role` : null,
            bucket_arn: `arn:aws:s3:::${env.bucket}`,
            key_prefix: "previews/",
            name_prefix: "content-engine-pr-",
          }
        : null,
    },
    references: {
      "data.aws_caller_identity.current": { account_id: account },
      "data.aws_partition.current": { partition: "aws" },
      "data.aws_region.current": { region },
      "aws_iam_openid_connect_provider.github": [{ arn: oidcProviderArn(account) }],
    },
  };
}

/** The preview role modules/github-oidc creates beside the deploy role: its name with -deploy replaced by -preview. */
export const previewRoleArn = (deployRoleArn: string) => deployRoleArn.replace(/-deploy$/, "-preview");

/**
 * The deploy role and the promote read role of every environment, and the preview role (`<env> preview`)
 * of the environment previews derive from, rendered from modules/github-oidc (of `options.modules`:
 * terraform/modules, or the rehearsal's copy of it), with the signing key ARN of each environment that
 * signs (modules/content-engine gives dev's key to dev's deploy role, never to its preview role).
 */
export async function renderDeliveryRoles(
  all: Environment[],
  repository: string,
  options: { modules?: string; signingKeyArns?: Record<string, string> } = {},
): Promise<IamRole[]> {
  const roles: IamRole[] = [];
  for (const env of all) {
    const docs = await renderPolicyDocuments(
      join(options.modules ?? modulesRoot, "github-oidc"),
      githubOidcInputs(env, all, repository, options.signingKeyArns?.[env.name] ?? null),
    );
    roles.push({
      name: `${env.name} deploy`,
      arn: env.deployRoleArn!,
      document: "github-oidc/deploy",
      trust: docs.trust!,
      permissions: [docs.deploy!],
    });
    if (env.previews) {
      // Terraform names it (aws_iam_role.preview); the file records it as previews.roleArn.
      const arn = previewRoleArn(env.deployRoleArn!);
      if (env.previews.roleArn && env.previews.roleArn !== arn)
        throw new Error(
          `${env.name}: previews.roleArn ${env.previews.roleArn} is not the preview role terraform creates (${arn})`,
        );
      roles.push({
        name: `${env.name} preview`,
        arn,
        document: "github-oidc/previews",
        trust: docs.preview_trust!,
        permissions: [docs.previews!],
      });
    }
    if (env.readRoleArn)
      roles.push({
        name: `${env.name} promote read`,
        arn: env.readRoleArn,
        document: "github-oidc/promote_read",
        trust: docs.promote_read_trust!,
        permissions: [docs.promote_read!],
      });
  }
  return roles;
}

/** The API's and the worker's roles (modules/workload-iam) for one bucket and queue pair. */
export async function renderWorkloadRoles(options: {
  accountId: string;
  bucketArn: string;
  queueArn: string;
  dlqArn?: string;
  bedrockModelArn?: string;
  /** Also grant the previews' queues and key prefixes (modules/workload-iam's previews, defaults). */
  previews?: boolean;
}): Promise<{ api: IamRole; worker: IamRole }> {
  const docs = await renderPolicyDocuments(join(modulesRoot, "workload-iam"), {
    variables: {
      bucket_arn: options.bucketArn,
      queue_arn: options.queueArn,
      dlq_arn: options.dlqArn ?? null,
      bedrock_model_arn: options.bedrockModelArn ?? null,
      previews: options.previews
        ? { key_prefix: "previews/", queue_name_prefix: "content-engine-pr-" }
        : null,
    },
    references: {},
  });
  return {
    api: {
      name: "api",
      arn: `arn:aws:iam::${options.accountId}:role/content-engine-api`,
      document: "workload-iam/api",
      permissions: [docs.api!],
    },
    worker: {
      name: "worker",
      arn: `arn:aws:iam::${options.accountId}:role/content-engine-worker`,
      document: "workload-iam/worker",
      permissions: [docs.worker!],
    },
  };
}

/** A copy of `role` whose policies no longer grant `action` (it is removed from every statement naming it). */
export function withoutGrant(role: IamRole, action: string): IamRole {
  const permissions: PolicyDocument[] = role.permissions.map((document) => ({
    ...document,
    Statement: document.Statement.map((s) => ({
      ...s,
      Action: [s.Action ?? []].flat().filter((a) => a !== action),
    })).filter((s) => s.Action.length > 0),
  }));
  return { ...role, permissions };
}
