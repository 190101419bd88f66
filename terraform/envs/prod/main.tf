provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Product     = "content-engine"
      Environment = "prod"
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

  environment = "prod"

  # The one repository in the dev account (terraform/README.md "Images across accounts").
  shared_ecr_repository = var.shared_ecr_repository

  network = {
    vpc_cidr            = "10.40.0.0/16"
    availability_zones  = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    single_nat_gateway  = false
    interface_endpoints = ["ecr.api", "ecr.dkr", "sqs", "logs"]
  }

  api = {
    container_image = var.api_container_image
    certificate_arn = var.certificate_arn
    desired_count   = 3
    min_capacity    = 3
    max_capacity    = 12
    # Exactly the ARNs api.secrets of environments/prod.yaml names (test/infra/ecs-secrets.test.ts).
    secret_arns = []
  }

  worker = {
    package_path         = var.worker_package_path
    timeout_seconds      = 60
    maximum_concurrency  = 50
    reserved_concurrency = 60
    processor            = var.worker_processor
    bedrock_model_id     = var.bedrock_model_id
  }

  paging_subscriptions = var.paging_subscriptions
  ticket_subscriptions = var.ticket_subscriptions

  github = {
    repository              = var.github_repository
    environments            = ["prod"]
    create_oidc_provider    = var.create_oidc_provider
    oidc_provider_arn       = var.oidc_provider_arn
    promote_read_principals = var.promote_read_principals
  }

  eks = {
    enabled             = var.eks_enabled
    kubernetes_version  = "1.34"
    public_access_cidrs = var.eks_public_access_cidrs
    access_entries      = var.eks_access_entries
  }

  log_level          = "info"
  log_retention_days = 365
  protect_data       = true
}

# prod's GitHub environment: deployments from main only, approved by one of prod_reviewers (never the
# person who started the run). prod also owns the repository-wide OIDC subject template: the root
# least likely to be destroyed, and destroying it only makes every role refuse (GitHub's default sub).
module "github" {
  source = "../../modules/github-repository"

  repository = var.github_repository
  environments = {
    prod = {
      reviewer_user_ids = var.prod_reviewers.user_ids
      reviewer_team_ids = var.prod_reviewers.team_ids
    }
  }
  manage_oidc_subject_template = true
}
