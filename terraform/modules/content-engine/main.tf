# The whole stack of one environment; the one root, terraform/environment, only chooses values (terraform/envs/<name>.tfvars).
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name       = "content-engine-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  tags       = merge(var.tags, { Product = "content-engine", Environment = var.environment })

  bedrock_model_arn = var.worker.processor == "bedrock" ? "arn:${data.aws_partition.current.partition}:bedrock:${local.region}::foundation-model/${var.worker.bedrock_model_id}" : null

  shared_environment = {
    CONTENT_ENGINE_BUCKET    = module.storage.bucket_name
    CONTENT_ENGINE_QUEUE_URL = module.queue.queue_url
    CONTENT_ENGINE_DLQ_URL   = module.queue.dlq_url
    LOG_LEVEL                = var.log_level
  }
}

module "network" {
  source = "../network"

  name                    = local.name
  vpc_cidr                = var.network.vpc_cidr
  availability_zones      = var.network.availability_zones
  single_nat_gateway      = var.network.single_nat_gateway
  interface_endpoints     = var.network.interface_endpoints
  flow_log_retention_days = var.log_retention_days
  tags                    = local.tags
}

module "ecr" {
  source = "../ecr"
  count  = var.shared_ecr_repository == null ? 1 : 0

  name = var.ecr_repository_name
  # A repository other accounts pull from holds what they run: destroying the environment that owns it must not take it.
  force_delete     = !var.protect_data && length(var.ecr_pull_account_ids) == 0
  pull_account_ids = var.ecr_pull_account_ids
  tags             = local.tags
}

locals {
  # The repository the API image and the worker bundle are pulled from: this account's, or the shared one.
  ecr_repository_arn = var.shared_ecr_repository == null ? module.ecr[0].repository_arn : var.shared_ecr_repository.arn
  ecr_repository_url = var.shared_ecr_repository == null ? module.ecr[0].repository_url : var.shared_ecr_repository.url
}

module "storage" {
  source = "../storage"

  bucket_name   = "${local.name}-${local.account_id}"
  force_destroy = !var.protect_data
  tags          = local.tags
}

module "queue" {
  source = "../queue"

  name = "${local.name}-jobs"
  consumer_timeouts = {
    worker_timeout_seconds     = var.worker.timeout_seconds
    visibility_timeout_seconds = var.queue.visibility_timeout_seconds
  }
  max_receive_count = var.queue.max_receive_count
  tags              = local.tags
}

module "workload_iam" {
  source = "../workload-iam"

  bucket_arn        = module.storage.bucket_arn
  queue_arn         = module.queue.queue_arn
  dlq_arn           = module.queue.dlq_arn
  bedrock_model_arn = local.bedrock_model_arn
  # Each preview's API tasks and worker function run with these roles, on their own queues and keys.
  previews = var.previews ? {} : null
}

resource "aws_secretsmanager_secret" "api_keys" {
  #checkov:skip=CKV2_AWS_57:API keys are tenant credentials rotated by issuing a new key beside the old one, not by a rotation Lambda.
  #checkov:skip=CKV_AWS_149:Encrypted with the AWS managed aws/secretsmanager key; only the API task execution role may read it.
  name                    = "${local.name}/api-keys"
  description             = "CONTENT_ENGINE_API_KEYS of the API (key:tenant,key:tenant). The value is set out of band, never in Terraform state."
  recovery_window_in_days = var.protect_data ? 30 : 0

  tags = local.tags
}

module "metrics" {
  source = "../metrics"

  name                    = local.name
  environment             = var.environment
  scrape_interval_seconds = var.metrics.scrape_interval_seconds
  collector_image         = var.metrics.collector_image
  log_retention_days      = var.log_retention_days
  tags                    = local.tags
}

module "ecs_service" {
  source = "../ecs-service"

  name                = local.name
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  private_subnet_ids  = module.network.private_subnet_ids
  container_image     = var.api.container_image
  cpu                 = var.api.cpu
  memory              = var.api.memory
  desired_count       = var.api.desired_count
  certificate_arn     = var.api.certificate_arn
  ingress_cidrs       = var.api.ingress_cidrs
  deletion_protection = var.protect_data || var.api.deletion_protection
  access_logs_bucket  = var.api.access_logs_bucket
  waf_web_acl_arn     = var.api.waf_web_acl_arn
  ecr_repository_arn  = local.ecr_repository_arn
  api_keys_secret_arn = aws_secretsmanager_secret.api_keys.arn
  secret_arns         = var.api.secret_arns
  task_policy_json    = module.workload_iam.api_policy_json
  metrics_collector   = module.metrics.collector
  log_retention_days  = var.log_retention_days

  autoscaling = {
    min_capacity       = var.api.min_capacity
    max_capacity       = var.api.max_capacity
    target_cpu_percent = var.api.target_cpu_percent
  }

  environment = merge(local.shared_environment, {
    AWS_REGION                      = local.region
    CONTENT_ENGINE_MAX_UPLOAD_BYTES = tostring(var.api.max_upload_bytes)
  })

  tags = local.tags
}

module "lambda_worker" {
  source = "../lambda-worker"

  name                 = "${local.name}-worker"
  package_path         = var.worker.package_path
  timeout_seconds      = var.worker.timeout_seconds
  memory_mb            = var.worker.memory_mb
  reserved_concurrency = var.worker.reserved_concurrency
  queue_arn            = module.queue.queue_arn
  worker_policy_json   = module.workload_iam.worker_policy_json
  log_retention_days   = var.log_retention_days

  event_source = {
    batch_size                         = var.worker.batch_size
    maximum_batching_window_in_seconds = var.worker.batching_window
    maximum_concurrency                = var.worker.maximum_concurrency
  }

  # AWS_REGION is reserved: Lambda sets it.
  environment = merge(local.shared_environment, {
    CONTENT_ENGINE_PROCESSOR        = var.worker.processor
    CONTENT_ENGINE_BEDROCK_MODEL_ID = var.worker.bedrock_model_id == null ? "" : var.worker.bedrock_model_id
  })

  tags = local.tags
}

module "eks" {
  source = "../eks"
  count  = var.eks.enabled ? 1 : 0

  name                = local.name
  kubernetes_version  = var.eks.kubernetes_version
  subnet_ids          = module.network.private_subnet_ids
  public_access_cidrs = var.eks.public_access_cidrs
  access_entries      = var.eks.access_entries
  namespace           = var.eks.namespace
  api_policy_json     = module.workload_iam.api_policy_json
  worker_policy_json  = module.workload_iam.worker_policy_json
  keda_policy_json    = module.workload_iam.queue_depth_reader_policy_json
  log_retention_days  = var.log_retention_days

  node_group = {
    instance_types = var.eks.instance_types
    min_size       = var.eks.min_size
    max_size       = var.eks.max_size
    desired_size   = var.eks.desired_size
  }

  tags = local.tags
}

module "observability" {
  source = "../observability"

  name                 = local.name
  subscriptions        = var.paging_subscriptions
  ticket_subscriptions = var.ticket_subscriptions
  tags                 = local.tags
}

module "github_oidc" {
  source = "../github-oidc"

  name                 = "${local.name}-deploy"
  github_repository    = var.github.repository
  github_environments  = var.github.environments
  create_oidc_provider = var.github.create_oidc_provider
  oidc_provider_arn    = var.github.oidc_provider_arn
  ecr_repository_arn   = local.ecr_repository_arn
  # The account that owns the repository builds, and signs what it builds.
  signing_key_arn = var.shared_ecr_repository == null ? module.ecr[0].signing_key_arn : null

  # What this environment does decides which workflows its roles trust (not its name).
  builds                  = var.shared_ecr_repository == null
  promotes_onward         = var.github.promotes_onward
  promote_read_principals = var.github.promote_read_principals
  next_read_role_arns     = var.github.next_read_role_arns
  lambda_function_arn     = module.lambda_worker.function_arn
  eks_cluster_arn         = var.eks.enabled ? module.eks[0].cluster_arn : null
  alarm_name_prefix       = "${local.name}-"

  ecs = {
    cluster_arn        = module.ecs_service.cluster_arn
    service_arn        = module.ecs_service.service_arn
    task_role_arn      = module.ecs_service.task_role_arn
    execution_role_arn = module.ecs_service.execution_role_arn
    task_family        = module.ecs_service.task_definition_family
    log_group_name     = module.ecs_service.log_group_name
  }

  # Pull-request previews derived from this environment: their own role (<name>-preview), never the deploy role.
  previews = var.previews ? {
    load_balancer_name = module.ecs_service.load_balancer_name
    worker_role_arn    = module.lambda_worker.role_arn
    bucket_arn         = module.storage.bucket_arn
  } : null

  tags = local.tags
}

# The deploy role installs the chart with Helm: admin inside the release namespace only. Declared here,
# not in the eks module, because the deploy role itself needs the cluster's ARN.
resource "aws_eks_access_entry" "deploy" {
  count = var.eks.enabled ? 1 : 0

  cluster_name  = module.eks[0].cluster_name
  principal_arn = module.github_oidc.role_arn
  type          = "STANDARD"

  tags = local.tags
}

resource "aws_eks_access_policy_association" "deploy" {
  count = var.eks.enabled ? 1 : 0

  cluster_name  = module.eks[0].cluster_name
  principal_arn = aws_eks_access_entry.deploy[0].principal_arn
  policy_arn    = "arn:${data.aws_partition.current.partition}:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"

  access_scope {
    type       = "namespace"
    namespaces = [var.eks.namespace]
  }
}

# promote reads what the release serves (helm keeps its release records in Secrets): view-only,
# Secrets included, in the release namespace only.
resource "aws_eks_access_entry" "promote_read" {
  count = var.eks.enabled ? 1 : 0

  cluster_name  = module.eks[0].cluster_name
  principal_arn = module.github_oidc.promote_read_role_arn
  type          = "STANDARD"

  tags = local.tags
}

resource "aws_eks_access_policy_association" "promote_read" {
  count = var.eks.enabled ? 1 : 0

  cluster_name  = module.eks[0].cluster_name
  principal_arn = aws_eks_access_entry.promote_read[0].principal_arn
  policy_arn    = "arn:${data.aws_partition.current.partition}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"

  access_scope {
    type       = "namespace"
    namespaces = [var.eks.namespace]
  }
}
