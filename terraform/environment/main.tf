# The one root of every environment. What differs between environments is data: terraform/envs/<name>.tfvars,
# next to environments/<name>.yaml (terraform/README.md "Using the root").

module "stack" {
  source = "../modules/content-engine"

  environment = var.environment

  # One image repository serves every environment (terraform/README.md "Images across accounts"): the
  # environment that owns it grants pull to image_pull_account_ids; the others pull from
  # shared_ecr_repository by digest.
  ecr_pull_account_ids  = var.image_pull_account_ids
  shared_ecr_repository = var.shared_ecr_repository

  network = var.network

  api = {
    container_image = var.api_container_image
    certificate_arn = var.certificate_arn
    desired_count   = var.api_capacity.desired_count
    min_capacity    = var.api_capacity.min_capacity
    max_capacity    = var.api_capacity.max_capacity
    # Exactly the ARNs api.secrets of environments/<name>.yaml names (test/infra/ecs-secrets.test.ts).
    secret_arns = var.api_secret_arns
  }

  worker = {
    package_path         = var.worker_package_path
    timeout_seconds      = 60
    maximum_concurrency  = var.worker_concurrency.maximum
    reserved_concurrency = var.worker_concurrency.reserved
    processor            = var.worker_processor
    bedrock_model_id     = var.bedrock_model_id
  }

  paging_subscriptions = var.paging_subscriptions
  ticket_subscriptions = var.ticket_subscriptions

  github = {
    repository              = var.github_repository
    environments            = [var.environment]
    create_oidc_provider    = var.create_oidc_provider
    oidc_provider_arn       = var.oidc_provider_arn
    promote_read_principals = var.promote_read_principals
    next_read_role_arns     = var.next_read_role_arns
    promotes_onward         = var.promotes_onward
  }

  eks = {
    enabled             = var.eks_enabled
    kubernetes_version  = "1.34"
    public_access_cidrs = var.eks_public_access_cidrs
    access_entries      = var.eks_access_entries
  }

  # Pull-request previews derive from this environment (environments/<name>.yaml has the previews block).
  previews = var.previews

  log_level          = var.log_level
  log_retention_days = var.log_retention_days
  protect_data       = var.protect_data
}

# The environment's GitHub environment: deployments from main only, and where require_reviewers is set
# (prod) approved by one of reviewers, never the person who started the run. The environment with
# manage_oidc_subject_template (prod: the root least likely to be destroyed, and destroying it only makes
# every role refuse, GitHub's default sub) also owns the repository-wide OIDC subject template.
module "github" {
  source = "../modules/github-repository"

  repository = var.github_repository
  environments = {
    (var.environment) = {
      reviewer_user_ids = var.reviewers.user_ids
      reviewer_team_ids = var.reviewers.team_ids
    }
  }
  manage_oidc_subject_template = var.manage_oidc_subject_template

  # The environment previews derive from also owns the repository's `preview` GitHub environment, which
  # preview.yml's jobs run in (and the preview role trusts): main only, reviewers only where given.
  preview_environment = var.previews
  preview_reviewers = {
    reviewer_user_ids = var.preview_reviewers.user_ids
    reviewer_team_ids = var.preview_reviewers.team_ids
  }
}

# What one variable's validation cannot say (Terraform 1.5 validations see their own variable only):
# rules across variables, checked at plan before anything changes.
resource "terraform_data" "environment_rules" {
  lifecycle {
    precondition {
      condition     = !var.require_paging || length(var.paging_subscriptions) > 0
      error_message = "paging_subscriptions must not be empty in ${var.environment} (require_paging): an alarm that pages nobody is not an alarm."
    }

    precondition {
      condition     = !var.require_reviewers || length(var.reviewers.user_ids) + length(var.reviewers.team_ids) > 0
      error_message = "reviewers must name at least one user or team in ${var.environment} (require_reviewers): its deploys wait for a reviewer."
    }

    precondition {
      condition     = var.shared_ecr_repository == null || length(var.image_pull_account_ids) == 0
      error_message = "image_pull_account_ids is for the environment that owns the image repository; ${var.environment} pulls from shared_ecr_repository."
    }
  }
}
