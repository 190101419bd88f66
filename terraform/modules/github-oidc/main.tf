data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  oidc_host    = "token.actions.githubusercontent.com"
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : var.oidc_provider_arn
  account_id   = data.aws_caller_identity.current.account_id
  region       = data.aws_region.current.region
  partition    = data.aws_partition.current.partition

  # The sub claim GitHub issues under the repository's subject template (modules/github-repository:
  # repo, context, job_workflow_ref), one per workflow that may assume each role, in its environment,
  # from the deploy branch only:
  # repo:ORG/REPO:environment:<env>:job_workflow_ref:ORG/REPO/.github/workflows/<file>@refs/heads/main
  # Per role, GitHub environment => the workflows trusted there. The preview role trusts the preview
  # workflow in the previews' own GitHub environment (never a deploy environment), and nothing trusts
  # the preview workflow but it.
  # Which workflows each role trusts, per GitHub environment: given, or from what the environment does:
  # every one deploys (deploy-env.yml) and is checked for drift (drift.yml); the build environment also
  # builds (deploy.yml); one that others promote from is read by promote.yml.
  trusted_by_environment = var.trusted_workflows != null ? var.trusted_workflows : {
    for env in var.github_environments : env => {
      deploy       = concat(var.builds ? ["deploy.yml"] : [], ["deploy-env.yml", "drift.yml"])
      promote_read = var.promotes_onward ? ["promote.yml"] : []
    }
  }
  trusted_workflows = {
    deploy       = { for env in var.github_environments : env => lookup(local.trusted_by_environment, env, { deploy = [], promote_read = [] }).deploy }
    promote_read = { for env in var.github_environments : env => lookup(local.trusted_by_environment, env, { deploy = [], promote_read = [] }).promote_read }
    preview      = var.previews == null ? {} : { (var.previews.github_environment) = [var.previews.workflow] }
  }

  workflow_subjects = {
    for role, environments in local.trusted_workflows : role => flatten([
      for env, workflows in environments : [
        for workflow in workflows :
        "repo:${var.github_repository}:environment:${env}:job_workflow_ref:${var.github_repository}/.github/workflows/${workflow}@refs/heads/${var.deploy_branch}"
      ]
    ])
  }

  # Previews (var.previews): the names each preview derives from this environment's
  # (environments/src/preview.ts): <service>-pr-<n>, <task_family>-pr-<n>, <function>-pr-<n>.
  preview_ecs      = var.previews != null && var.ecs != null
  preview_worker   = var.previews != null && var.lambda_function_arn != null && try(var.previews.worker_role_arn, null) != null
  preview_listener = var.previews != null && try(var.previews.load_balancer_name, null) != null
  preview_cluster  = var.ecs == null ? "" : element(split("/", var.ecs.cluster_arn), 1)
  preview_service  = var.ecs == null ? "" : element(split("/", var.ecs.service_arn), 2)
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]

  tags = var.tags
}

data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "DeployWorkflowsOnMain"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Only the deploy workflows, run from the deploy branch, in one of this repository's GitHub
    # environments (and so past its branch rule and reviewers): another branch, another workflow, a
    # pull request or another environment gets another sub.
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = local.workflow_subjects.deploy
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = var.name
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.create_oidc_provider || var.oidc_provider_arn != null
      error_message = "Pass oidc_provider_arn when create_oidc_provider is false."
    }

    precondition {
      condition     = alltrue([for env in var.github_environments : length(lookup(local.trusted_by_environment, env, { deploy = [], promote_read = [] }).deploy) > 0])
      error_message = "trusted_workflows must name at least one deploy workflow for each of github_environments."
    }

    # The preview workflow runs a pull request's code: it may hold the preview role only.
    precondition {
      condition     = var.previews == null || !contains(flatten([for env, roles in local.trusted_by_environment : concat(roles.deploy, roles.promote_read)]), try(var.previews.workflow, ""))
      error_message = "previews.workflow runs pull requests' code: it may not be in trusted_workflows (the deploy and promote read roles)."
    }
  }
}

data "aws_iam_policy_document" "deploy" {
  # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }

  dynamic "statement" {
    for_each = var.ecs == null ? [] : [var.ecs]

    content {
      # Task definition registration, description, listing and deregistration (deploy-ecs keeps the newest
      # api.keepRevisions and deregisters older ones) have no resource-level permissions: AWS requires "*".
      sid       = "RegisterTaskDefinitions"
      actions   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:DeregisterTaskDefinition"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.ecs == null ? [] : [var.ecs]

    content {
      sid       = "RollOutService"
      actions   = ["ecs:UpdateService", "ecs:DescribeServices"]
      resources = [statement.value.service_arn]
    }
  }

  dynamic "statement" {
    for_each = var.ecs == null ? [] : [var.ecs]

    content {
      sid       = "WatchRollOutTasks"
      actions   = ["ecs:ListTasks", "ecs:DescribeTasks", "ecs:StopTask"]
      resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${element(split("/", statement.value.cluster_arn), 1)}/*", "arn:${local.partition}:ecs:${local.region}:${local.account_id}:container-instance/${element(split("/", statement.value.cluster_arn), 1)}/*"]

      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [statement.value.cluster_arn]
      }
    }
  }

  # api.preDeploy: the new revision runs as a one-off task in the service's cluster before the rollout,
  # and its log tail goes into the job summary.
  dynamic "statement" {
    for_each = var.ecs == null ? [] : [var.ecs]

    content {
      sid       = "RunPreDeployTasks"
      actions   = ["ecs:RunTask"]
      resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${statement.value.task_family}:*"]

      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [statement.value.cluster_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = var.ecs == null ? [] : [var.ecs]

    content {
      sid       = "ReadPreDeployLogs"
      actions   = ["logs:GetLogEvents"]
      resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${statement.value.log_group_name}:log-stream:*"]
    }
  }

  dynamic "statement" {
    for_each = var.ecs == null ? [] : [var.ecs]

    content {
      sid       = "PassTaskRoles"
      actions   = ["iam:PassRole"]
      resources = [statement.value.task_role_arn, statement.value.execution_role_arn]

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["ecs-tasks.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.lambda_function_arn == null ? [] : [var.lambda_function_arn]

    content {
      sid = "DeployWorkerFunction"
      actions = [
        "lambda:CreateAlias",
        "lambda:GetAlias",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:PublishVersion",
        "lambda:UpdateAlias",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
      ]
      resources = [statement.value, "${statement.value}:*"]
    }
  }

  dynamic "statement" {
    for_each = var.lambda_function_arn == null ? [] : [var.lambda_function_arn]

    content {
      # deploy-lambda (and drift) read the alias's SQS mappings; ListEventSourceMappings has no
      # resource-level permissions: AWS requires "*".
      sid       = "ReadWorkerMappings"
      actions   = ["lambda:ListEventSourceMappings"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.lambda_function_arn == null ? [] : [var.lambda_function_arn]

    content {
      # deploy-lambda keeps the mapping's batch size and concurrency equal to the environment file:
      # only mappings that invoke this function.
      sid       = "TuneWorkerMappings"
      actions   = ["lambda:UpdateEventSourceMapping"]
      resources = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:event-source-mapping:*"]

      condition {
        test     = "ArnLike"
        variable = "lambda:FunctionArn"
        values   = [statement.value, "${statement.value}:*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.eks_cluster_arn == null ? [] : [var.eks_cluster_arn]

    content {
      sid       = "DescribeCluster"
      actions   = ["eks:DescribeCluster"]
      resources = [statement.value]
    }
  }

  # build-push signs the image digest and the worker bundle with the environment's signing key (cosign, KMS).
  dynamic "statement" {
    for_each = var.signing_key_arn == null ? [] : [var.signing_key_arn]

    content {
      sid = "SignImages"
      # cosign's awskms signer reads the key's spec (DescribeKey) and public key before it signs.
      actions   = ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"]
      resources = [statement.value]
    }
  }

  statement {
    sid = "ManageProductAlarms"
    actions = [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:PutCompositeAlarm",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:TagResource",
    ]
    resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.alarm_name_prefix}*"]
  }

  # observability-apply resolves the ALB and target-group dimensions of the generated alarms by name;
  # deploy-ecs reads the targets' health when a rollout fails (its diagnosis) and the load balancer's
  # listeners for the environment URL of its GitHub deployment (https when one listens on 443). No
  # resource-level permissions.
  statement {
    sid = "ResolveAlarmDimensions"
    actions = [
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "PublishProductDashboards"
    actions   = ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard"]
    resources = ["arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${var.alarm_name_prefix}*"]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "content-engine-deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

# The promote read role: read-only, exactly what promote reads. promote.yml runs as it in the source
# environment (the alarm gate and what the source serves), and from there assumes the next
# environment's read role to show, in the promotion pull request, what merging would change there.
# It writes nothing: promote never holds the deploy role.
data "aws_iam_policy_document" "promote_read_trust" {
  # promote.yml's job, from the deploy branch, in this environment's GitHub environment (the source of
  # a promotion): the OIDC subject of promote's workflow, never a deploy workflow's.
  dynamic "statement" {
    for_each = length(local.workflow_subjects.promote_read) > 0 ? [local.workflow_subjects.promote_read] : []

    content {
      sid     = "PromoteWorkflowOnMain"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [local.provider_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.oidc_host}:aud"
        values   = ["sts.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.oidc_host}:sub"
        values   = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.promote_read_principals) > 0 ? [var.promote_read_principals] : []

    content {
      sid     = "PreviousEnvironmentPromoteRole"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "AWS"
        identifiers = statement.value
      }
    }
  }
}

resource "aws_iam_role" "promote_read" {
  name                 = "${trimsuffix(var.name, "-deploy")}-promote-read"
  assume_role_policy   = data.aws_iam_policy_document.promote_read_trust.json
  max_session_duration = 3600

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.workflow_subjects.promote_read) > 0 || length(var.promote_read_principals) > 0
      error_message = "The promote read role needs someone to trust: a promote_read workflow in trusted_workflows, or promote_read_principals."
    }
  }
}

data "aws_iam_policy_document" "promote_read" {
  # The worker bundle is read from the shared repository by digest; GetAuthorizationToken requires "*".
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadWorkerBundle"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [var.ecr_repository_arn]
  }

  dynamic "statement" {
    for_each = var.ecs == null ? [] : [var.ecs]

    content {
      sid       = "ReadService"
      actions   = ["ecs:DescribeServices"]
      resources = [statement.value.service_arn]
    }
  }

  dynamic "statement" {
    for_each = var.ecs == null ? [] : [var.ecs]

    content {
      # DescribeTaskDefinition and ListTaskDefinitions (the plan lists revisions it would deregister)
      # have no resource-level permissions: AWS requires "*".
      sid       = "ReadTaskDefinitions"
      actions   = ["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.lambda_function_arn == null ? [] : [var.lambda_function_arn]

    content {
      sid       = "ReadWorkerFunction"
      actions   = ["lambda:GetAlias", "lambda:GetFunctionConfiguration"]
      resources = [statement.value, "${statement.value}:*"]
    }
  }

  dynamic "statement" {
    for_each = var.lambda_function_arn == null ? [] : [var.lambda_function_arn]

    content {
      # ListEventSourceMappings has no resource-level permissions: AWS requires "*".
      sid       = "ReadWorkerMappings"
      actions   = ["lambda:ListEventSourceMappings"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.eks_cluster_arn == null ? [] : [var.eks_cluster_arn]

    content {
      # A kubeconfig for the release's namespace (read there through its EKS access entry).
      sid       = "DescribeCluster"
      actions   = ["eks:DescribeCluster"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "ReadProductAlarms"
    actions   = ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"]
    resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.alarm_name_prefix}*"]
  }

  statement {
    sid       = "ReadProductDashboards"
    actions   = ["cloudwatch:GetDashboard"]
    resources = ["arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${var.alarm_name_prefix}*"]
  }

  statement {
    sid       = "ResolveAlarmDimensions"
    actions   = ["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups"]
    resources = ["*"]
  }

  # Promoting onward: plan each environment that promotes from this one through its read role.
  dynamic "statement" {
    for_each = length(var.next_read_role_arns) == 0 ? [] : [var.next_read_role_arns]

    content {
      sid       = "AssumeNextEnvironmentReadRole"
      actions   = ["sts:AssumeRole"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "promote_read" {
  name   = "content-engine-promote-read"
  role   = aws_iam_role.promote_read.id
  policy = data.aws_iam_policy_document.promote_read.json
}

# The preview role (var.previews): preview.yml builds and runs the pull request's code, so it never holds
# the deploy role (which signs releases and deploys this environment). Its own role may do exactly what
# actions/preview does to the previews pr-<n> derived from this environment, found by the names they
# derive (environments/src/preview.ts: <service>-pr-<n>, <task_family>-pr-<n>, <function>-pr-<n>,
# <name_prefix><n>, objects under <key_prefix>), push unsigned images, and read the base it copies from.
# No KMS at all, nothing that changes the base's service, function, queue or keys outside key_prefix.
data "aws_iam_policy_document" "preview_trust" {
  dynamic "statement" {
    for_each = var.previews == null ? [] : [local.workflow_subjects.preview]

    content {
      sid     = "PreviewWorkflowOnMain"
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [local.provider_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.oidc_host}:aud"
        values   = ["sts.amazonaws.com"]
      }

      # Only previews.workflow from the deploy branch (it runs on pull_request_target and schedule, so its
      # ref is the deploy branch's), in the previews' GitHub environment.
      condition {
        test     = "StringEquals"
        variable = "${local.oidc_host}:sub"
        values   = statement.value
      }
    }
  }
}

resource "aws_iam_role" "preview" {
  count = var.previews == null ? 0 : 1

  name                 = "${trimsuffix(var.name, "-deploy")}-preview"
  assume_role_policy   = data.aws_iam_policy_document.preview_trust.json
  max_session_duration = 3600

  tags = var.tags
}

data "aws_iam_policy_document" "previews" {
  # build-push pushes the pull request's image and worker bundle, unsigned (preview.yml passes sign: false;
  # no deploy accepts an unsigned digest), and up fetches the bundle by digest. GetAuthorizationToken has
  # no resource-level permissions: AWS requires "*". Nothing deletes images or tags, or touches the
  # repository's policies or lifecycle.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushPreviewImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }

  # What up reads of the base to derive a preview from it: the base service (its network configuration,
  # launch type and running task definition), read-only.
  dynamic "statement" {
    for_each = local.preview_ecs ? [var.ecs] : []

    content {
      sid       = "ReadBaseService"
      actions   = ["ecs:DescribeServices"]
      resources = [statement.value.service_arn]
    }
  }

  dynamic "statement" {
    for_each = local.preview_ecs ? [var.ecs] : []

    content {
      # The preview's own family <task_family>-pr-<n>, rendered from the base's running revision, and its
      # revisions deregistered on down. Task definition registration, description, listing and
      # deregistration have no resource-level permissions: AWS requires "*". A revision registered here
      # runs nowhere but in a preview's service (UpdateService/CreateService only on <service>-pr-*).
      sid       = "PreviewTaskDefinitions"
      actions   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:DeregisterTaskDefinition"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.preview_ecs ? [var.ecs] : []

    content {
      # The preview's task definition keeps the base's task and execution roles (its keys and queues are
      # granted to them by modules/workload-iam's previews).
      sid       = "PassPreviewTaskRoles"
      actions   = ["iam:PassRole"]
      resources = [statement.value.task_role_arn, statement.value.execution_role_arn]

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["ecs-tasks.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.preview_worker ? [var.lambda_function_arn] : []

    content {
      # The preview's function copies the base function's configuration: GetFunction of the base
      # function itself (unqualified), nothing that changes it.
      sid       = "ReadBaseWorkerFunction"
      actions   = ["lambda:GetFunction"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.preview_worker ? [var.lambda_function_arn] : []

    content {
      # Finds a preview's SQS mappings (by its function and by its queue); ListEventSourceMappings has no
      # resource-level permissions: AWS requires "*".
      sid       = "ReadPreviewWorkerMappings"
      actions   = ["lambda:ListEventSourceMappings"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.preview_ecs ? [var.ecs] : []

    content {
      sid = "PreviewServices"
      actions = [
        "ecs:CreateService",
        "ecs:DeleteService",
        "ecs:DescribeServices",
        "ecs:TagResource",
        "ecs:UpdateService",
      ]
      resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/${local.preview_cluster}/${local.preview_service}-pr-*"]
    }
  }

  dynamic "statement" {
    for_each = local.preview_ecs ? [var.ecs] : []

    content {
      # listPreviews finds the previews among this cluster's services.
      sid       = "ListPreviewServices"
      actions   = ["ecs:ListServices"]
      resources = ["*"]

      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [statement.value.cluster_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = local.preview_ecs ? [var.ecs] : []

    content {
      # A preview's task definitions are registered with its tags (tag-on-create is ecs:TagResource).
      sid       = "TagPreviewTaskDefinitions"
      actions   = ["ecs:TagResource"]
      resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${statement.value.task_family}-pr-*:*"]
    }
  }

  dynamic "statement" {
    for_each = local.preview_listener ? [var.previews] : []

    content {
      sid       = "PreviewTargetGroups"
      actions   = ["elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:AddTags"]
      resources = ["arn:${local.partition}:elasticloadbalancing:${local.region}:${local.account_id}:targetgroup/${statement.value.name_prefix}*/*"]
    }
  }

  dynamic "statement" {
    for_each = local.preview_listener ? [var.previews] : []

    content {
      # The host-header rules pr-<n>.<domain> on the base load balancer's listener.
      sid     = "PreviewListenerRules"
      actions = ["elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:AddTags"]
      resources = [
        "arn:${local.partition}:elasticloadbalancing:${local.region}:${local.account_id}:listener/app/${statement.value.load_balancer_name}/*",
        "arn:${local.partition}:elasticloadbalancing:${local.region}:${local.account_id}:listener-rule/app/${statement.value.load_balancer_name}/*",
      ]
    }
  }

  dynamic "statement" {
    for_each = local.preview_listener ? [var.previews] : []

    content {
      # The base load balancer's listener, its rules and their tags, and the target groups (the base's
      # shape, the preview's own): ELB's Describe* have no resource-level permissions, AWS requires "*".
      sid = "ReadPreviewRouting"
      actions = [
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeTargetGroups",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = local.preview_worker ? [var.lambda_function_arn] : []

    content {
      sid = "PreviewWorkerFunctions"
      actions = [
        "lambda:CreateAlias",
        "lambda:CreateFunction",
        "lambda:DeleteFunction",
        "lambda:GetAlias",
        "lambda:GetFunction",
        "lambda:PublishVersion",
        "lambda:TagResource",
        "lambda:UpdateAlias",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
      ]
      resources = ["${statement.value}-pr-*"]
    }
  }

  dynamic "statement" {
    for_each = local.preview_worker ? [var.lambda_function_arn] : []

    content {
      # Only mappings that invoke a preview's function (its alias live); CreateEventSourceMapping has no
      # resource-level permissions, the condition scopes it. (ListEventSourceMappings: ReadPreviewWorkerMappings.)
      sid       = "CreatePreviewWorkerMappings"
      actions   = ["lambda:CreateEventSourceMapping"]
      resources = ["*"]

      condition {
        test     = "ArnLike"
        variable = "lambda:FunctionArn"
        values   = ["${statement.value}-pr-*"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.preview_worker ? [var.lambda_function_arn] : []

    content {
      sid       = "DeletePreviewWorkerMappings"
      actions   = ["lambda:DeleteEventSourceMapping"]
      resources = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:event-source-mapping:*"]

      condition {
        test     = "ArnLike"
        variable = "lambda:FunctionArn"
        values   = ["${statement.value}-pr-*"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.preview_worker ? [var.previews] : []

    content {
      # Each preview's function runs as the worker's role (its own queue and prefix are granted to it
      # by modules/workload-iam's previews).
      sid       = "PassPreviewWorkerRole"
      actions   = ["iam:PassRole"]
      resources = [statement.value.worker_role_arn]

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["lambda.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.previews == null ? [] : [var.previews]

    content {
      sid = "PreviewQueues"
      actions = [
        "sqs:CreateQueue",
        "sqs:DeleteQueue",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ListQueueTags",
        "sqs:TagQueue",
      ]
      resources = ["arn:${local.partition}:sqs:${local.region}:${local.account_id}:${statement.value.name_prefix}*"]
    }
  }

  dynamic "statement" {
    for_each = var.previews == null ? [] : [var.previews]

    content {
      # Down deletes every object (and object version) under the preview's prefix, and verifies none is left.
      sid       = "ListPreviewObjects"
      actions   = ["s3:ListBucket", "s3:ListBucketVersions"]
      resources = [statement.value.bucket_arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${statement.value.key_prefix}*"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.previews == null ? [] : [var.previews]

    content {
      sid       = "DeletePreviewObjects"
      actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
      resources = ["${statement.value.bucket_arn}/${statement.value.key_prefix}*"]
    }
  }
}

resource "aws_iam_role_policy" "preview" {
  count = var.previews == null ? 0 : 1

  name   = "content-engine-preview"
  role   = aws_iam_role.preview[0].id
  policy = data.aws_iam_policy_document.previews.json
}
