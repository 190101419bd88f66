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
  workflow_subjects = {
    for role in ["deploy", "promote_read"] : role => flatten([
      for env in var.github_environments : [
        for workflow in lookup(var.trusted_workflows, env, { deploy = [], promote_read = [] })[role] :
        "repo:${var.github_repository}:environment:${env}:job_workflow_ref:${var.github_repository}/.github/workflows/${workflow}@refs/heads/${var.deploy_branch}"
      ]
    ])
  }
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
      condition     = alltrue([for env in var.github_environments : length(lookup(var.trusted_workflows, env, { deploy = [], promote_read = [] }).deploy) > 0])
      error_message = "trusted_workflows must name at least one deploy workflow for each of github_environments."
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
  # deploy-ecs reads the targets' health when a rollout fails (its diagnosis). No resource-level permissions.
  statement {
    sid = "ResolveAlarmDimensions"
    actions = [
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

  # Promoting onward: plan the next environment through its read role.
  dynamic "statement" {
    for_each = var.next_read_role_arn == null ? [] : [var.next_read_role_arn]

    content {
      sid       = "AssumeNextEnvironmentReadRole"
      actions   = ["sts:AssumeRole"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "promote_read" {
  name   = "content-engine-promote-read"
  role   = aws_iam_role.promote_read.id
  policy = data.aws_iam_policy_document.promote_read.json
}
