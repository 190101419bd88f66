// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform interpolations, not JS templates
// What a platform engineer checks first in a module: layout, documented variables, least-privilege
// IAM, encryption, and root outputs that fill environments/*.yaml. Read from the parsed HCL.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Block,
  bodies,
  environmentRoot,
  envsRoot,
  find,
  findOne,
  loadTerraformDir,
  loadTfvars,
  modulesRoot,
  policyStatements,
  subdirectories,
  type TerraformDir,
  tfvarsEnvironments,
} from "../support/hcl.ts";

const moduleNames = subdirectories(modulesRoot);
// The one environment root, and each environment's values (terraform/envs/<name>.tfvars).
const envNames = tfvarsEnvironments();
const modules = new Map<string, TerraformDir>();
let root: TerraformDir;
const tfvars = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  for (const name of moduleNames) modules.set(name, await loadTerraformDir(join(modulesRoot, name)));
  root = await loadTerraformDir(environmentRoot);
  for (const name of envNames) tfvars.set(name, await loadTfvars(name));
});

function mod(name: string): TerraformDir {
  const dir = modules.get(name);
  if (!dir) throw new Error(`no module ${name}`);
  return dir;
}

function allDirs(): Array<[string, TerraformDir]> {
  return [
    ...[...modules].map(([n, d]): [string, TerraformDir] => [`modules/${n}`, d]),
    ["environment", root],
  ];
}

/** Every policy document of every module, with its module name. */
function policyDocuments(): Array<{ module: string; doc: Block }> {
  return [...modules].flatMap(([module, dir]) =>
    find(dir, "data", "aws_iam_policy_document").map((doc) => ({ module, doc })),
  );
}

/**
 * The only Allow statements that may name Resource "*", and why AWS requires it. Keyed by
 * module/document/sid; a new "*" anywhere else fails the test, and so does a stale entry.
 */
const wildcardResourceAllowed: Record<string, string> = {
  "ecs-service/execution/EcrLogin": "ecr:GetAuthorizationToken has no resource-level permissions",
  "github-oidc/deploy/EcrLogin": "ecr:GetAuthorizationToken has no resource-level permissions",
  "github-oidc/deploy/RegisterTaskDefinitions":
    "ecs:RegisterTaskDefinition and ecs:DescribeTaskDefinition have no resource-level permissions",
  "github-oidc/deploy/ResolveAlarmDimensions":
    "elasticloadbalancing:DescribeListeners/DescribeLoadBalancers/DescribeTargetGroups/DescribeTargetHealth have no resource-level permissions",
  "github-oidc/deploy/ReadWorkerMappings": "lambda:ListEventSourceMappings has no resource-level permissions",
  "github-oidc/promote_read/EcrLogin": "ecr:GetAuthorizationToken has no resource-level permissions",
  "github-oidc/previews/EcrLogin": "ecr:GetAuthorizationToken has no resource-level permissions",
  "github-oidc/previews/PreviewTaskDefinitions":
    "ecs:RegisterTaskDefinition, DescribeTaskDefinition, ListTaskDefinitions and DeregisterTaskDefinition have no resource-level permissions",
  "github-oidc/previews/ListPreviewServices":
    "ecs:ListServices has no resource-level permissions (the ecs:cluster condition scopes it to the base's cluster)",
  "github-oidc/previews/ReadPreviewRouting":
    "elasticloadbalancing:DescribeLoadBalancers/DescribeListeners/DescribeRules/DescribeTags/DescribeTargetGroups have no resource-level permissions",
  "github-oidc/previews/ReadPreviewWorkerMappings":
    "lambda:ListEventSourceMappings has no resource-level permissions",
  "github-oidc/previews/CreatePreviewWorkerMappings":
    "lambda:CreateEventSourceMapping has no resource-level permissions (the lambda:FunctionArn condition scopes it to <function>-pr-*)",
  "github-oidc/promote_read/ReadTaskDefinitions":
    "ecs:DescribeTaskDefinition has no resource-level permissions",
  "github-oidc/promote_read/ReadWorkerMappings":
    "lambda:ListEventSourceMappings has no resource-level permissions",
  "github-oidc/promote_read/ResolveAlarmDimensions":
    "elasticloadbalancing:DescribeListeners/DescribeLoadBalancers/DescribeTargetGroups/DescribeTargetHealth have no resource-level permissions",
  "lambda-worker/runtime/WriteTraces":
    "xray:PutTraceSegments/PutTelemetryRecords have no resource-level permissions",
  "ecr/signing_key/AccountAdministersKey": 'in a key policy Resource "*" means the key itself',
  "eks/secrets_key/AccountAdministersKey": 'in a key policy Resource "*" means the key itself',
  "observability/paging_key/AccountAdministersKey": 'in a key policy Resource "*" means the key itself',
  "observability/paging_key/CloudWatchEncryptsAlarmNotifications":
    'in a key policy Resource "*" means the key itself',
};

/** Allow statements that may use a service-wide action wildcard: only the account-root statement of a key policy. */
const wildcardActionAllowed: Record<string, string> = {
  "ecr/signing_key/AccountAdministersKey":
    "the account-root kms:* statement is what lets IAM grant use of the key",
  "eks/secrets_key/AccountAdministersKey":
    "the account-root kms:* statement is what lets IAM grant use of the key",
  "observability/paging_key/AccountAdministersKey":
    "the account-root kms:* statement is what lets IAM grant use of the key",
};

describe("terraform module layout", () => {
  it.each(moduleNames)(
    "module %s has main.tf, variables.tf, outputs.tf, versions.tf and a README",
    (name) => {
      for (const file of ["main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"]) {
        expect(existsSync(join(modulesRoot, name, file)), `${name}/${file}`).toBe(true);
      }
    },
  );

  it.each(moduleNames)("the README of module %s lists every input and output", (name) => {
    const readme = readFileSync(join(modulesRoot, name, "README.md"), "utf8");
    const dir = mod(name);
    const missing = [...find(dir, "variable"), ...find(dir, "output")]
      .map((b) => b.name)
      .filter((n) => !readme.includes(`\`${n}\``));
    expect(missing, `${name}/README.md does not mention these inputs/outputs`).toEqual([]);
  });

  it("every variable of every module and root has a description and a type", () => {
    const undocumented = allDirs().flatMap(([where, dir]) =>
      find(dir, "variable")
        .filter(
          (v) =>
            typeof v.body.description !== "string" || v.body.description.trim().length < 10 || !v.body.type,
        )
        .map((v) => `${where}: variable "${v.name}"`),
    );
    expect(undocumented).toEqual([]);
  });

  it("every output has a description", () => {
    const undocumented = allDirs().flatMap(([where, dir]) =>
      find(dir, "output")
        .filter((o) => typeof o.body.description !== "string")
        .map((o) => `${where}: output "${o.name}"`),
    );
    expect(undocumented).toEqual([]);
  });

  it("pins Terraform 1.5.7+, and each provider it uses to one major version (AWS, and GitHub's integrations/github)", () => {
    const pins = {
      aws: { source: "hashicorp/aws", version: ">= 6.20, < 7.0" },
      github: { source: "integrations/github", version: ">= 6.6, < 7.0" },
    };
    for (const [where, dir] of allDirs()) {
      const settings = dir.terraform[0];
      expect(settings?.required_version, where).toBe(">= 1.5.7");
      const providers = bodies(settings?.required_providers)[0] ?? {};
      // Every provider whose resources or data sources appear here (modules calls included in the root);
      // terraform_data is built into terraform and needs no requirement.
      const used = new Set(
        dir.blocks.filter((b) => b.type && b.type !== "terraform_data").map((b) => b.type.split("_")[0]!),
      );
      if (where === "environment") for (const p of ["aws", "github"]) used.add(p);
      expect(Object.keys(providers).sort(), where).toEqual([...used].sort());
      for (const name of used)
        expect(providers[name], `${where}: ${name}`).toEqual(pins[name as keyof typeof pins]);
    }
  });

  it("has no prevent_destroy anywhere, so terraform destroy works in every environment", () => {
    const protectedBlocks = allDirs().flatMap(([where, dir]) =>
      dir.blocks
        .filter((b) => bodies(b.body.lifecycle).some((l) => "prevent_destroy" in l))
        .map((b) => `${where}: ${b.type} ${b.name}`),
    );
    expect(protectedBlocks).toEqual([]);
  });
});

describe("IAM least privilege", () => {
  it("keeps every policy in an aws_iam_policy_document, where these tests can read it", () => {
    const inline = allDirs().flatMap(([where, dir]) =>
      dir.blocks
        .filter((b) =>
          ["policy", "assume_role_policy"].some(
            (k) => typeof b.body[k] === "string" && /Statement/.test(String(b.body[k])),
          ),
        )
        .map((b) => `${where}: ${b.type} ${b.name}`),
    );
    expect(inline).toEqual([]);
  });

  it('grants Resource "*" only where AWS requires it', () => {
    const found = new Set<string>();
    const unexpected: string[] = [];
    for (const { module, doc } of policyDocuments()) {
      for (const statement of policyStatements(doc)) {
        if (statement.effect !== "Allow" || !statement.resources.includes("*")) continue;
        const key = `${module}/${doc.name}/${statement.sid}`;
        found.add(key);
        if (!(key in wildcardResourceAllowed)) unexpected.push(`${key} (${statement.actions.join(", ")})`);
      }
    }
    expect(unexpected, 'Allow statements with Resource "*" that AWS does not require').toEqual([]);
    expect([...found].sort(), "the allow-list has stale entries").toEqual(
      Object.keys(wildcardResourceAllowed).sort(),
    );
  });

  it('never allows Action "*" or a whole service ("s3:*") outside a key policy\'s root statement', () => {
    const unexpected: string[] = [];
    for (const { module, doc } of policyDocuments()) {
      for (const statement of policyStatements(doc)) {
        if (statement.effect !== "Allow") continue;
        const key = `${module}/${doc.name}/${statement.sid}`;
        const wild = statement.actions.filter((a) => a === "*" || a.endsWith(":*"));
        if (wild.length > 0 && !(key in wildcardActionAllowed)) unexpected.push(`${key}: ${wild.join(", ")}`);
      }
    }
    expect(unexpected).toEqual([]);
  });

  it("names every statement (Sid), so an access-denied in CloudTrail points at one line", () => {
    const unnamed = policyDocuments().flatMap(({ module, doc }) =>
      policyStatements(doc)
        .filter((s) => s.sid === "" && !s.actions.some((a) => a.startsWith("sts:")))
        .map((s) => `${module}/${doc.name}: ${s.actions.join(", ")}`),
    );
    expect(unnamed).toEqual([]);
  });

  /** Every statement of a workload-iam document that names a preview's queue or keys comes from for_each over local.previews. */
  function expectPreviewGrantsOnlyWithPreviews(docName: string) {
    const doc = findOne(mod("workload-iam"), "data", "aws_iam_policy_document", docName);
    const statics = bodies(doc.body.statement);
    expect(JSON.stringify(statics), docName).not.toMatch(/preview/i);
    for (const dynamic of bodies(doc.body.dynamic).flatMap((d) => bodies(d.statement))) {
      if (!/preview/i.test(JSON.stringify(dynamic.content))) continue;
      expect(String(dynamic.for_each), docName).toMatch(/local\.previews\}$/);
    }
  }

  function grants(docName: string): string[] {
    const doc = findOne(mod("workload-iam"), "data", "aws_iam_policy_document", docName);
    return policyStatements(doc)
      .flatMap((s) => s.actions.flatMap((a) => s.resources.map((r) => `${a} ${r}`)))
      .sort();
  }

  it("lets the API write uploads/, read uploads/ (queued jobs live there) and jobs/, and enqueue — nothing else", () => {
    expect(grants("api")).toEqual(
      [
        "s3:PutObject ${var.bucket_arn}/uploads/*",
        "s3:DeleteObject ${var.bucket_arn}/uploads/*",
        "s3:GetObject ${var.bucket_arn}/uploads/*",
        "s3:GetObject ${var.bucket_arn}/jobs/*",
        "s3:ListBucket ${var.bucket_arn}",
        "sqs:SendMessage ${var.queue_arn}",
        "sqs:GetQueueAttributes ${var.queue_arn}",
        // The same on each preview's keys (previews/pr-<n>/…) and jobs queue (var.previews; none without).
        "s3:PutObject ${local.preview_keys}/uploads/*",
        "s3:DeleteObject ${local.preview_keys}/uploads/*",
        "s3:GetObject ${local.preview_keys}/uploads/*",
        "s3:GetObject ${local.preview_keys}/jobs/*",
        "sqs:SendMessage ${local.preview_queue_arn}*-jobs",
        "sqs:GetQueueAttributes ${local.preview_queue_arn}*-jobs",
      ].sort(),
    );
    expectPreviewGrantsOnlyWithPreviews("api");
  });

  it("lets the worker consume and re-drive to the queue, peek at the DLQ, read uploads/ and jobs/, write jobs/, list both, and invoke only the configured model", () => {
    expect(grants("worker")).toEqual(
      [
        "sqs:ReceiveMessage ${var.queue_arn}",
        "sqs:DeleteMessage ${var.queue_arn}",
        "sqs:ChangeMessageVisibility ${var.queue_arn}",
        "sqs:GetQueueAttributes ${var.queue_arn}",
        "sqs:SendMessage ${var.queue_arn}",
        "sqs:ReceiveMessage ${statement.value}",
        "sqs:GetQueueAttributes ${statement.value}",
        "s3:GetObject ${var.bucket_arn}/uploads/*",
        "s3:GetObject ${var.bucket_arn}/jobs/*",
        "s3:PutObject ${var.bucket_arn}/jobs/*",
        "s3:ListBucket ${var.bucket_arn}",
        "bedrock:InvokeModel ${statement.value}",
        // The same on each preview's queue, DLQ and keys (var.previews; none without).
        "sqs:ReceiveMessage ${local.preview_queue_arn}*-jobs",
        "sqs:DeleteMessage ${local.preview_queue_arn}*-jobs",
        "sqs:ChangeMessageVisibility ${local.preview_queue_arn}*-jobs",
        "sqs:GetQueueAttributes ${local.preview_queue_arn}*-jobs",
        "sqs:SendMessage ${local.preview_queue_arn}*-jobs",
        "sqs:ReceiveMessage ${local.preview_queue_arn}*-jobs-dlq",
        "sqs:GetQueueAttributes ${local.preview_queue_arn}*-jobs-dlq",
        "s3:GetObject ${local.preview_keys}/uploads/*",
        "s3:GetObject ${local.preview_keys}/jobs/*",
        "s3:PutObject ${local.preview_keys}/jobs/*",
        "s3:ListBucket ${var.bucket_arn}",
      ].sort(),
    );
    expectPreviewGrantsOnlyWithPreviews("worker");
    const dynamic = bodies(
      findOne(mod("workload-iam"), "data", "aws_iam_policy_document", "worker").body.dynamic,
    );
    expect(JSON.stringify(dynamic)).toContain("var.bedrock_model_arn == null ? [] : [var.bedrock_model_arn]");
    expect(JSON.stringify(dynamic)).toContain("var.dlq_arn == null ? [] : [var.dlq_arn]");
  });

  it("lets KEDA read the queue's attributes and nothing else", () => {
    expect(grants("queue_depth_reader")).toEqual([
      "sqs:GetQueueAttributes ${local.preview_queue_arn}*-jobs",
      "sqs:GetQueueAttributes ${var.queue_arn}",
    ]);
    expectPreviewGrantsOnlyWithPreviews("queue_depth_reader");
  });

  it("grants the workload roles the previews' queues and keys only where the environment has previews", () => {
    const call = findOne(mod("content-engine"), "module", "", "workload_iam").body;
    expect(call.previews).toBe("${var.previews ? {} : null}");
    expect(findOne(mod("workload-iam"), "variable", "", "previews").body.default).toBeNull();
    expect(findOne(mod("content-engine"), "variable", "", "previews").body.default).toBe(false);
  });

  it("gives the ECS task, the Lambda worker and the EKS pods the shared workload policies and no managed policy", () => {
    expect(findOne(mod("ecs-service"), "resource", "aws_iam_role_policy", "task").body.policy).toBe(
      "${var.task_policy_json}",
    );
    expect(find(mod("ecs-service"), "resource", "aws_iam_role_policy_attachment")).toEqual([]);
    expect(findOne(mod("lambda-worker"), "resource", "aws_iam_role_policy", "worker").body.policy).toBe(
      "${var.worker_policy_json}",
    );
    expect(find(mod("lambda-worker"), "resource", "aws_iam_role_policy_attachment")).toEqual([]);
    const stack = findOne(mod("content-engine"), "module", "", "ecs_service").body;
    expect(stack.task_policy_json).toBe("${module.workload_iam.api_policy_json}");
    const eks = findOne(mod("content-engine"), "module", "", "eks").body;
    expect(eks.api_policy_json).toBe("${module.workload_iam.api_policy_json}");
    expect(eks.worker_policy_json).toBe("${module.workload_iam.worker_policy_json}");
    expect(eks.keda_policy_json).toBe("${module.workload_iam.queue_depth_reader_policy_json}");
  });

  it("lets the metrics collector remote-write to its environment's workspace only, and Grafana only query it", () => {
    const doc = (name: string) =>
      policyStatements(findOne(mod("metrics"), "data", "aws_iam_policy_document", name)).flatMap((st) =>
        st.actions.flatMap((a) => st.resources.map((r) => `${a} ${r}`)),
      );
    expect(doc("remote_write")).toEqual(["aps:RemoteWrite ${aws_prometheus_workspace.this.arn}"]);
    expect(doc("query").sort()).toEqual(
      ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"]
        .map((a) => `${a} \${aws_prometheus_workspace.this.arn}`)
        .sort(),
    );
    const collectorPolicy = findOne(
      mod("ecs-service"),
      "resource",
      "aws_iam_role_policy",
      "metrics_collector",
    ).body;
    expect(collectorPolicy).toMatchObject({
      role: "${aws_iam_role.task.id}",
      policy: "${var.metrics_collector.policy_json}",
    });
    const stack = findOne(mod("content-engine"), "module", "", "ecs_service").body;
    expect(stack.metrics_collector).toBe("${module.metrics.collector}");
  });

  it("limits the Lambda worker's log permissions to its own log group", () => {
    const runtime = findOne(mod("lambda-worker"), "data", "aws_iam_policy_document", "runtime");
    const logs = policyStatements(runtime).find((s) => s.sid === "WriteOwnLogs");
    expect(logs?.resources).toEqual(["${aws_cloudwatch_log_group.worker.arn}:*"]);
  });
});

describe("GitHub OIDC deploy role", () => {
  it("trusts only exact subjects (StringEquals, never StringLike) of named workflows on the deploy branch, with the STS audience", () => {
    for (const name of ["trust", "promote_read_trust", "preview_trust"]) {
      const statements = policyStatements(
        findOne(mod("github-oidc"), "data", "aws_iam_policy_document", name),
      );
      const oidc = statements.filter((s) => s.actions.includes("sts:AssumeRoleWithWebIdentity"));
      expect(oidc.length, name).toBe(1);
      const conditions = bodies(oidc[0]!.body.condition);
      expect(
        conditions.find((c) => c.variable === "${local.oidc_host}:aud"),
        name,
      ).toMatchObject({
        test: "StringEquals",
        values: ["sts.amazonaws.com"],
      });
      expect(conditions.find((c) => c.variable === "${local.oidc_host}:sub")?.test, name).toBe(
        "StringEquals",
      );
      expect(JSON.stringify(statements), name).not.toContain("StringLike");
    }
    // The subjects name the workflow file at refs/heads/<deploy_branch>: the claims of the template.
    const locals = readFileSync(join(modulesRoot, "github-oidc", "main.tf"), "utf8");
    expect(locals).toContain(
      '"repo:${var.github_repository}:environment:${env}:job_workflow_ref:${var.github_repository}/.github/workflows/${workflow}@refs/heads/${var.deploy_branch}"',
    );
  });

  it("gives each environment a deploy role for its own GitHub environment only", () => {
    const stack = findOne(root, "module", "", "stack").body;
    const github = bodies(stack.github)[0] ?? {};
    expect(github.environments).toEqual(["${var.environment}"]);
    expect(stack.environment).toBe("${var.environment}");
    for (const [env, values] of tfvars) expect(values.environment, `envs/${env}.tfvars`).toBe(env);
  });

  it("keeps /metrics off the public load balancer: the HTTPS listener answers it 404 before a task sees it", () => {
    const rule = findOne(mod("ecs-service"), "resource", "aws_lb_listener_rule", "metrics_not_public").body;
    expect(rule.listener_arn).toBe("${aws_lb_listener.https.arn}");
    const action = bodies(rule.action)[0]!;
    expect(action.type).toBe("fixed-response");
    expect(bodies(action.fixed_response)[0]!.status_code).toBe("404");
    const condition = bodies(rule.condition)[0]!;
    expect(bodies(condition.path_pattern)[0]!.values).toEqual(["/metrics", "/metrics/*"]);
  });

  it("enforces the chart's NetworkPolicies: the VPC CNI add-on runs with network policy on", () => {
    const cni = findOne(mod("eks"), "resource", "aws_eks_addon", "vpc_cni").body;
    expect(cni.addon_name).toBe("vpc-cni");
    expect(String(cni.configuration_values).replace(/\s+/g, "")).toBe(
      '${jsonencode({enableNetworkPolicy="true"})}',
    );
  });

  it("lets the deploy role administer only the release namespace on EKS", () => {
    const association = findOne(
      mod("content-engine"),
      "resource",
      "aws_eks_access_policy_association",
      "deploy",
    ).body;
    expect(association.policy_arn).toMatch(/cluster-access-policy\/AmazonEKSAdminPolicy$/);
    expect(bodies(association.access_scope)[0]).toEqual({
      type: "namespace",
      namespaces: ["${var.eks.namespace}"],
    });
  });

  it("scopes alarm and dashboard writes to the product's name prefix", () => {
    const deploy = findOne(mod("github-oidc"), "data", "aws_iam_policy_document", "deploy");
    const alarms = policyStatements(deploy).find((s) => s.sid === "ManageProductAlarms");
    expect(alarms?.resources[0]).toMatch(/:alarm:\$\{var\.alarm_name_prefix\}\*$/);
    const passRole = policyStatements(deploy).find((s) => s.sid === "PassTaskRoles");
    expect(JSON.stringify(passRole?.body.condition)).toContain("ecs-tasks.amazonaws.com");
  });

  it("wires promote's read roles along the promotion order, and gives the deploy role no role to assume", () => {
    const read = findOne(mod("github-oidc"), "data", "aws_iam_policy_document", "promote_read");
    const assume = policyStatements(read).find((s) => s.sid === "AssumeNextEnvironmentReadRole");
    // for_each over [var.next_read_role_arns]: one statement naming each environment that promotes from this one.
    expect(assume?.body.resources).toBe("${statement.value}");
    const deploy = findOne(mod("github-oidc"), "data", "aws_iam_policy_document", "deploy");
    expect(policyStatements(deploy).flatMap((s) => s.actions)).not.toContain("sts:AssumeRole");
    // The root passes both links of the chain; the first environment of the promotion order has no
    // previous read role (promote_read_principals = []) and the last no next one (next_read_role_arns = []).
    const github = bodies(findOne(root, "module", "", "stack").body.github)[0] ?? {};
    expect(github.promote_read_principals).toBe("${var.promote_read_principals}");
    expect(github.next_read_role_arns).toBe("${var.next_read_role_arns}");
    expect(findOne(root, "variable", "", "promote_read_principals").body.default).toEqual([]);
    expect(findOne(root, "variable", "", "next_read_role_arns").body.default).toEqual([]);
  });

  it("lets the deploy role sign with the signing key only when one is given, and with nothing else of KMS", () => {
    const deploy = findOne(mod("github-oidc"), "data", "aws_iam_policy_document", "deploy");
    const sign = policyStatements(deploy).find((s) => s.sid === "SignImages");
    expect(sign?.resources).toEqual(["${statement.value}"]);
    expect(sign?.actions).toContain("kms:Sign");
    expect(sign?.actions.every((a) => a.startsWith("kms:") && !a.includes("*"))).toBe(true);
    const dynamic = bodies(deploy.body.dynamic).flatMap((d) => bodies(d.statement));
    expect(dynamic.find((d) => bodies(d.content)[0]?.sid === "SignImages")?.for_each).toBe(
      "${var.signing_key_arn == null ? [] : [var.signing_key_arn]}",
    );
    expect(findOne(mod("github-oidc"), "variable", "", "signing_key_arn").body.default).toBeNull();
  });

  it("gives previews a role of their own (no KMS, trusted by the preview workflow only), and the deploy role nothing of them", () => {
    const oidc = mod("github-oidc");
    const role = findOne(oidc, "resource", "aws_iam_role", "preview").body;
    expect(role.count).toBe("${var.previews == null ? 0 : 1}");
    expect(role.assume_role_policy).toBe("${data.aws_iam_policy_document.preview_trust.json}");
    expect(role.name).toBe('${trimsuffix(var.name, "-deploy")}-preview');
    // The previews' document is the preview role's only policy, and the deploy role's are as before.
    const policies = find(oidc, "resource", "aws_iam_role_policy").map((p) => [
      p.name,
      p.body.role,
      p.body.policy,
    ]);
    expect(policies.sort()).toEqual(
      [
        ["deploy", "${aws_iam_role.deploy.id}", "${data.aws_iam_policy_document.deploy.json}"],
        ["preview", "${aws_iam_role.preview[0].id}", "${data.aws_iam_policy_document.previews.json}"],
        [
          "promote_read",
          "${aws_iam_role.promote_read.id}",
          "${data.aws_iam_policy_document.promote_read.json}",
        ],
      ].sort(),
    );
    const previews = policyStatements(findOne(oidc, "data", "aws_iam_policy_document", "previews"));
    expect(
      previews.flatMap((s) => s.actions).filter((a) => a.startsWith("kms:") || a.startsWith("sts:")),
    ).toEqual([]);
    // The deploy role's trust is its trusted_workflows' alone; the preview workflow is trusted in the
    // previews' GitHub environment by the preview role only.
    const trust = policyStatements(findOne(oidc, "data", "aws_iam_policy_document", "trust"));
    expect(JSON.stringify(trust)).toContain("local.workflow_subjects.deploy");
    const main = readFileSync(join(modulesRoot, "github-oidc", "main.tf"), "utf8");
    expect(main).toContain(
      "preview      = var.previews == null ? {} : { (var.previews.github_environment) = [var.previews.workflow] }",
    );
    expect(
      main.match(/var\.previews\.workflow/g)?.length,
      "previews.workflow: the preview trust and the guard",
    ).toBe(2);
    const type = String(findOne(oidc, "variable", "", "previews").body.type);
    expect(type).toMatch(/workflow\s*=\s*optional\(string,\s*"preview\.yml"\)/);
    expect(type).toMatch(/github_environment\s*=\s*optional\(string,\s*"preview"\)/);
    // The stack passes previews only where the root turns them on.
    const call = findOne(mod("content-engine"), "module", "", "github_oidc").body;
    expect(String(call.previews).replace(/\s+/g, "")).toBe(
      "${var.previews?{load_balancer_name=module.ecs_service.load_balancer_nameworker_role_arn=module.lambda_worker.role_arnbucket_arn=module.storage.bucket_arn}:null}".replace(
        /\s+/g,
        "",
      ),
    );
    expect(findOne(root, "module", "", "stack").body.previews).toBe("${var.previews}");
    const previewsOn = Object.fromEntries(envNames.map((env) => [env, tfvars.get(env)?.previews ?? false]));
    expect(previewsOn).toMatchObject({ dev: true, staging: false, prod: false });
  });
});

describe("encryption and data protection", () => {
  it("encrypts every SQS queue (SQS-managed SSE, or the KMS key when one is given)", () => {
    const queues = find(mod("queue"), "resource", "aws_sqs_queue");
    expect(queues.map((q) => q.name).sort()).toEqual(["dlq", "jobs"]);
    for (const queue of queues) {
      expect(queue.body.sqs_managed_sse_enabled, queue.name).toBe("${local.use_kms ? null : true}");
      expect(queue.body.kms_master_key_id, queue.name).toBe("${var.kms_key_arn}");
    }
  });

  it("encrypts the bucket with SSE-KMS, blocks public access and refuses plain HTTP", () => {
    const storage = mod("storage");
    const sse = findOne(storage, "resource", "aws_s3_bucket_server_side_encryption_configuration", "this");
    expect(JSON.stringify(sse.body)).toContain('"sse_algorithm":"aws:kms"');
    const block = findOne(storage, "resource", "aws_s3_bucket_public_access_block", "this").body;
    for (const flag of [
      "block_public_acls",
      "block_public_policy",
      "ignore_public_acls",
      "restrict_public_buckets",
    ]) {
      expect(block[flag], flag).toBe(true);
    }
    const [deny] = policyStatements(findOne(storage, "data", "aws_iam_policy_document", "tls_only"));
    expect(deny).toMatchObject({ effect: "Deny", actions: ["s3:*"] });
    expect(JSON.stringify(deny?.body.condition)).toContain("aws:SecureTransport");
  });

  it("expires uploads and aborts abandoned multipart uploads", () => {
    const rules = bodies(
      findOne(mod("storage"), "resource", "aws_s3_bucket_lifecycle_configuration", "this").body.rule,
    );
    expect(JSON.stringify(rules)).toContain('"prefix":"uploads/"');
    expect(JSON.stringify(rules)).toContain("abort_incomplete_multipart_upload");
  });

  it("encrypts both alarm topics (page and ticket tier) with a key CloudWatch may use, and images with KMS", () => {
    for (const tier of ["paging", "ticket"]) {
      expect(findOne(mod("observability"), "resource", "aws_sns_topic", tier).body.kms_master_key_id).toBe(
        "${aws_kms_key.paging.arn}",
      );
    }
    const ecr = findOne(mod("ecr"), "resource", "aws_ecr_repository", "this").body;
    expect(JSON.stringify(ecr.encryption_configuration)).toContain('"encryption_type":"KMS"');
    expect(ecr.image_tag_mutability).toBe("IMMUTABLE");
  });

  it("dead-letters after 3 receives by default and keeps dead letters 14 days", () => {
    const variables = Object.fromEntries(find(mod("queue"), "variable").map((v) => [v.name, v.body.default]));
    expect(variables.max_receive_count).toBe(3);
    expect(variables.dlq_message_retention_seconds).toBe(14 * 24 * 3600);
  });
});

describe("runtime wiring", () => {
  it("runs the worker on nodejs24.x with partial batch failures and a live alias", () => {
    const worker = mod("lambda-worker");
    const fn = findOne(worker, "resource", "aws_lambda_function", "worker").body;
    expect(fn).toMatchObject({ runtime: "nodejs24.x", handler: "index.handler" });
    const mapping = findOne(worker, "resource", "aws_lambda_event_source_mapping", "jobs").body;
    expect(mapping.function_response_types).toEqual(["ReportBatchItemFailures"]);
    expect(mapping.function_name).toBe("${aws_lambda_alias.live.arn}");
    expect(findOne(worker, "resource", "aws_lambda_alias", "live").body.name).toBe("${local.alias_name}");
  });

  it("rolls back a failed ECS deployment and leaves task definitions to the deploy action", () => {
    const service = findOne(mod("ecs-service"), "resource", "aws_ecs_service", "api").body;
    expect(bodies(service.deployment_circuit_breaker)[0]).toEqual({ enable: true, rollback: true });
    const lifecycle = bodies(service.lifecycle)[0];
    expect(lifecycle?.ignore_changes).toEqual(["${task_definition}", "${desired_count}"]);
    const cluster = findOne(mod("ecs-service"), "resource", "aws_ecs_cluster", "this").body;
    expect(bodies(cluster.setting)[0]).toEqual({ name: "containerInsights", value: "enabled" });
  });

  it("passes the service contract's environment variables to the API and the worker", () => {
    const main = readFileSync(join(modulesRoot, "content-engine", "main.tf"), "utf8");
    for (const name of [
      "AWS_REGION",
      "CONTENT_ENGINE_BUCKET",
      "CONTENT_ENGINE_QUEUE_URL",
      "CONTENT_ENGINE_MAX_UPLOAD_BYTES",
      "CONTENT_ENGINE_PROCESSOR",
      "CONTENT_ENGINE_BEDROCK_MODEL_ID",
      "LOG_LEVEL",
    ]) {
      expect(main, name).toContain(`${name} `);
    }
    const ecs = readFileSync(join(modulesRoot, "ecs-service", "main.tf"), "utf8");
    expect(ecs).toContain('name = "CONTENT_ENGINE_API_KEYS", valueFrom = var.api_keys_secret_arn');
  });
});

describe("environment roots", () => {
  const environmentFileFields = [
    "aws_region",
    "aws_account_id",
    "ecr_repository_url",
    "ecs_cluster_name",
    "ecs_service_name",
    "load_balancer_name",
    "target_group_name",
    "worker_function_name",
    "worker_alias",
    "bucket_name",
    "queue_url",
    "dlq_url",
    "page_topic_arn",
    "ticket_topic_arn",
    "eks_cluster_name",
    "deploy_role_arn",
    "promote_read_role_arn",
    "preview_role_arn",
  ];

  it("are one root, terraform/environment, and a variables file per environment in terraform/envs", () => {
    expect(subdirectories(envsRoot), "terraform/envs holds <name>.tfvars files only").toEqual([]);
    expect(envNames.length).toBeGreaterThan(0);
    expect(root.files.sort()).toEqual([
      "main.tf",
      "outputs.tf",
      "providers.tf",
      "variables.tf",
      "versions.tf",
    ]);
  });

  it("outputs exactly the fields environments/*.yaml needs", () => {
    const outputs = find(root, "output").map((o) => o.name);
    expect(outputs.sort()).toEqual([...environmentFileFields].sort());
  });

  it("keeps each environment's state in S3, encrypted, under its own key given at init", () => {
    const backend = bodies(bodies(root.terraform[0]?.backend)[0]?.s3)[0];
    // No key in the root: `terraform init -reconfigure -backend-config="key=content-engine/<name>.tfstate"`.
    expect(backend).toEqual({ encrypt: true });
    const readme = readFileSync(join(modulesRoot, "..", "README.md"), "utf8");
    expect(readme).toContain('-backend-config="key=content-engine/${ENV}.tfstate"');
  });

  it.each(envNames)("%s reserves at least as much Lambda concurrency as the queue may drive", (env) => {
    const worker = bodies(findOne(root, "module", "", "stack").body.worker)[0] ?? {};
    expect(worker).toMatchObject({
      maximum_concurrency: "${var.worker_concurrency.maximum}",
      reserved_concurrency: "${var.worker_concurrency.reserved}",
    });
    const concurrency = (tfvars.get(env)?.worker_concurrency ?? {}) as Record<string, unknown>;
    const reservedDefault = String(findOne(mod("content-engine"), "variable", "", "worker").body.type).match(
      /reserved_concurrency\s*=\s*optional\(number,\s*(\d+)\)/,
    )?.[1];
    const reserved = Number(concurrency.reserved ?? reservedDefault);
    expect(Number(concurrency.maximum)).toBeLessThanOrEqual(reserved);
    const mapping = findOne(mod("lambda-worker"), "resource", "aws_lambda_event_source_mapping", "jobs").body;
    expect(JSON.stringify(mapping.lifecycle)).toContain(
      "var.event_source.maximum_concurrency <= var.reserved_concurrency",
    );
  });

  it("protects data in prod, so dev and staging can be destroyed", () => {
    expect(findOne(root, "module", "", "stack").body.protect_data).toBe("${var.protect_data}");
    expect(findOne(root, "variable", "", "protect_data").body.default).toBe(false);
    const protect = Object.fromEntries(envNames.map((env) => [env, tfvars.get(env)?.protect_data ?? false]));
    expect(protect).toMatchObject({ dev: false, staging: false, prod: true });
  });
});

describe("push → live budget", () => {
  /** The `optional(number, N)` defaults of ecs-service's health_check object. */
  function healthCheckDefaults(): Record<string, number> {
    const variable = findOne(mod("ecs-service"), "variable", "", "health_check");
    const defaults: Record<string, number> = {};
    for (const match of String(variable.body.type).matchAll(/(\w+)\s*=\s*optional\(number,\s*(\d+)\)/g)) {
      defaults[match[1] as string] = Number(match[2]);
    }
    return defaults;
  }

  it("keeps the roll-out from the deploy job's start within 90 s, with the measured breakdown in terraform/README.md", () => {
    const hc = healthCheckDefaults();
    // Measured by npm run rehearse (build, record, deploy jobs) and npm run bench -- images (the image build), as in the README.
    const build = 64 + 12;
    const record = 26;
    const deploy = 8;
    const fargateStart = 35;
    // First check within one interval, then `healthy_threshold` passing checks.
    const healthy = (hc.interval_seconds ?? NaN) * (1 + (hc.healthy_threshold ?? NaN));
    const live = build + record + deploy + fargateStart + healthy;
    const waiterPoll = 10;
    const done =
      live + (hc.deregistration_delay ?? NaN) + (hc.container_stop_timeout_sec ?? NaN) + waiterPoll;
    expect(done - build - record).toBeLessThanOrEqual(90);
    const readme = readFileSync(join(modulesRoot, "..", "README.md"), "utf8");
    expect(readme).toContain(`**${live}: live**`);
    expect(readme).toContain(`**${done}: done**`);
    expect(readme).toContain(`done within ${done - build - record} s`);
  });
});
