variable "repository" {
  description = "The GitHub repository whose environments and OIDC subject template this manages, as ORG/REPO."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.repository))
    error_message = "repository must be ORG/REPO, without wildcards."
  }
}

variable "environments" {
  description = "GitHub environments to manage, by name: reviewer user and team ids (numeric: gh api users/<login> --jq .id, gh api orgs/<org>/teams/<slug> --jq .id; at most 6 in all, any one approves, never the person who started the job) and an optional wait timer. Each allows deployments from deploy_branch only."
  type = map(object({
    reviewer_user_ids  = optional(list(number), [])
    reviewer_team_ids  = optional(list(number), [])
    wait_timer_minutes = optional(number, 0)
  }))

  validation {
    condition     = length(var.environments) > 0 && alltrue([for name, _ in var.environments : can(regex("^[A-Za-z0-9_.-]+$", name))])
    error_message = "environments must name at least one environment, each without wildcards or slashes."
  }

  validation {
    condition     = alltrue([for _, e in var.environments : length(e.reviewer_user_ids) + length(e.reviewer_team_ids) <= 6])
    error_message = "GitHub allows at most 6 reviewers (users and teams together) per environment."
  }

  validation {
    condition     = alltrue([for _, e in var.environments : e.wait_timer_minutes >= 0 && e.wait_timer_minutes <= 43200])
    error_message = "wait_timer_minutes must be between 0 and 43200 (30 days)."
  }
}

variable "deploy_branch" {
  description = "The one branch the environments accept deployments from (a branch policy); modules/github-oidc trusts workflow runs of the same branch only."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.deploy_branch)) && !strcontains(var.deploy_branch, "*")
    error_message = "deploy_branch must be one branch name, without wildcards."
  }
}

variable "manage_oidc_subject_template" {
  description = "Manage the repository's OIDC subject claim template (repo, context, job_workflow_ref). It is repository-wide: exactly one root sets this true."
  type        = bool
  default     = false
}

variable "preview_environment" {
  description = "Also manage the GitHub environment preview, which preview.yml's jobs run in (modules/github-oidc's preview role trusts them there): deployments from deploy_branch only, reviewers where preview_reviewers names them. Set by the environment previews derive from."
  type        = bool
  default     = false
}

variable "preview_reviewers" {
  description = "Reviewers of the preview environment (user and team ids, at most 6 in all; never the person who started the run) and an optional wait timer. Empty (the default): no approval."
  type = object({
    reviewer_user_ids  = optional(list(number), [])
    reviewer_team_ids  = optional(list(number), [])
    wait_timer_minutes = optional(number, 0)
  })
  default = {}

  validation {
    condition     = length(var.preview_reviewers.reviewer_user_ids) + length(var.preview_reviewers.reviewer_team_ids) <= 6 && var.preview_reviewers.wait_timer_minutes >= 0 && var.preview_reviewers.wait_timer_minutes <= 43200
    error_message = "preview_reviewers: GitHub allows at most 6 reviewers (users and teams together), and a wait timer of 0 to 43200 minutes."
  }
}
