provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Product     = "content-engine"
      Environment = "staging"
      ManagedBy   = "terraform"
    }
  }
}

# The GitHub side of the repository (its GitHub environment, and in prod the OIDC subject template):
# the token comes from GITHUB_TOKEN (terraform/README.md says which permissions it needs).
provider "github" {
  owner = split("/", var.github_repository)[0]
}

module "stack" {
  source = "../../modules/content-engine"

  environment = "staging"

  # The one repository in the dev account (terraform/README.md "Images across accounts").
  shared_ecr_repository = var.shared_ecr_repository

  network = {
    vpc_cidr            = "10.30.0.0/16"
    availability_zones  = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    single_nat_gateway  = true
    interface_endpoints = []
  }

  api = {
    container_image = var.api_container_image
    certificate_arn = var.certificate_arn
    desired_count   = 2
    min_capacity    = 2
    max_capacity    = 4
    # Exactly the ARNs api.secrets of environments/staging.yaml names (test/infra/ecs-secrets.test.ts).
    secret_arns = []
  }

  worker = {
    package_path        = var.worker_package_path
    timeout_seconds     = 60
    maximum_concurrency = 10
    processor           = var.worker_processor
    bedrock_model_id    = var.bedrock_model_id
  }

  paging_subscriptions = var.paging_subscriptions
  ticket_subscriptions = var.ticket_subscriptions

  github = {
    repository              = var.github_repository
    environments            = ["staging"]
    create_oidc_provider    = var.create_oidc_provider
    oidc_provider_arn       = var.oidc_provider_arn
    promote_read_principals = var.promote_read_principals
    next_read_role_arn      = var.next_read_role_arn
  }

  eks = {
    enabled             = var.eks_enabled
    kubernetes_version  = "1.34"
    public_access_cidrs = var.eks_public_access_cidrs
    access_entries      = var.eks_access_entries
  }

  log_level          = "info"
  log_retention_days = 30
  protect_data       = false
}

# staging's GitHub environment: deployments from main only (the OIDC subject template is prod's root's).
module "github" {
  source = "../../modules/github-repository"

  repository   = var.github_repository
  environments = { staging = {} }
}
