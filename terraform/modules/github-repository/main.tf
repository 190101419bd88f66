# The GitHub side of "only main deploys": the repository's deployment environments, each of which runs
# jobs from the deploy branch only (reviewers where the caller names them), and the OIDC subject
# template that makes a job's token name its environment, its workflow and the workflow's ref, which
# modules/github-oidc's trust policies require.

locals {
  repository_name = split("/", var.repository)[1]

  # The claims GitHub joins into `sub`, in this order. modules/github-oidc trusts subjects built the same
  # way: repo:ORG/REPO:environment:<env>:job_workflow_ref:ORG/REPO/.github/workflows/<file>@refs/heads/<branch>.
  oidc_subject_claim_keys = ["repo", "context", "job_workflow_ref"]

  # The environment preview.yml's jobs run in (preview_environment): the preview role trusts its jobs
  # only (modules/github-oidc previews.github_environment), no deploy role does. Like the others it runs
  # jobs from the deploy branch only; reviewers where preview_reviewers names them.
  preview_environment_name = "preview"
  environments = merge(
    var.environments,
    var.preview_environment ? { (local.preview_environment_name) = var.preview_reviewers } : {},
  )
}

resource "github_repository_environment" "this" {
  for_each = local.environments

  repository  = local.repository_name
  environment = each.key
  wait_timer  = each.value.wait_timer_minutes > 0 ? each.value.wait_timer_minutes : null

  # The protections hold for admins too: nobody deploys around the branch rule or the reviewers.
  can_admins_bypass   = false
  prevent_self_review = length(concat(each.value.reviewer_user_ids, each.value.reviewer_team_ids)) > 0

  dynamic "reviewers" {
    for_each = length(concat(each.value.reviewer_user_ids, each.value.reviewer_team_ids)) > 0 ? [each.value] : []

    content {
      users = reviewers.value.reviewer_user_ids
      teams = reviewers.value.reviewer_team_ids
    }
  }

  # Only the branches the deployment policies below name (not "any protected branch").
  deployment_branch_policy {
    protected_branches     = false
    custom_branch_policies = true
  }

  lifecycle {
    precondition {
      condition     = !(var.preview_environment && contains(keys(var.environments), local.preview_environment_name))
      error_message = "environments may not name \"preview\" while preview_environment is set: that GitHub environment is the previews'."
    }
  }
}

resource "github_repository_environment_deployment_policy" "deploy_branch" {
  for_each = github_repository_environment.this

  repository     = local.repository_name
  environment    = each.value.environment
  branch_pattern = var.deploy_branch
}

# Repository-wide: one root owns it (terraform/README.md). Until it is applied, or after it is
# destroyed, jobs get GitHub's default sub (repo:ORG/REPO:environment:<env>), which no role trusts.
resource "github_actions_repository_oidc_subject_claim_customization_template" "this" {
  count = var.manage_oidc_subject_template ? 1 : 0

  repository         = local.repository_name
  use_default        = false
  include_claim_keys = local.oidc_subject_claim_keys
}
