# What one environment is: terraform/envs/<name>.tfvars sets the values that describe it (committed, next
# to environments/<name>.yaml); the values that exist only at apply time (the repository, the first image,
# the certificate, who is paged, who approves) come from -var / TF_VAR_ / a local var file.

variable "environment" {
  description = "An environment name, environments/<name>.yaml: lowercase letters and digits in dash-separated words, at most 12 characters (resource names such as content-engine-<name>-api have a 32-character limit), not local (the local stack's metrics label) and not pr-* (preview environments). Names every resource content-engine-<name> and the GitHub environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.environment)) && length(var.environment) <= 12 && var.environment != "local" && !startswith(var.environment, "pr-")
    error_message = "environment must be an environment name: ^[a-z][a-z0-9]*(-[a-z0-9]+)*$, at most 12 characters, not local and not starting with pr- (reserved for preview environments)."
  }
}

variable "aws_account_id" {
  description = "The AWS account the environment runs in (environments/<name>.yaml accountId); the AWS provider refuses credentials of any other account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be a 12-digit AWS account id."
  }
}

variable "aws_region" {
  description = "AWS region of this environment (environments/<name>.yaml region)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must be an AWS region such as eu-west-1."
  }
}

variable "network" {
  description = "VPC layout of the environment: CIDR block, two or three availability zones, one shared NAT gateway or one per AZ, and interface endpoints."
  type = object({
    vpc_cidr            = string
    availability_zones  = list(string)
    single_nat_gateway  = optional(bool, true)
    interface_endpoints = optional(list(string), [])
  })
}

variable "api_capacity" {
  description = "Task counts of the API's ECS service: the first desired count and the autoscaling bounds."
  type = object({
    desired_count = number
    min_capacity  = number
    max_capacity  = number
  })
}

variable "api_secret_arns" {
  description = "Secrets Manager secret / SSM parameter ARNs the API's execution role may read: exactly the ARNs api.secrets of environments/<name>.yaml names, as literals."
  type        = list(string)
  default     = []
}

variable "worker_concurrency" {
  description = "Lambda concurrency of the worker: maximum (the SQS event source's maximum concurrency) and reserved (reserved concurrency, at least maximum; null keeps modules/content-engine's default)."
  type = object({
    maximum  = number
    reserved = optional(number)
  })
}

variable "log_level" {
  description = "LOG_LEVEL of the API and the worker."
  type        = string
  default     = "info"
}

variable "log_retention_days" {
  description = "Days to keep every CloudWatch log group of the environment."
  type        = number
  default     = 30
}

variable "protect_data" {
  description = "Production data protection (modules/content-engine protect_data): the bucket is never force-emptied, the load balancer has deletion protection, secrets get a 30-day recovery window."
  type        = bool
  default     = false
}

variable "github_repository" {
  description = "GitHub repository (ORG/REPO) whose deploy jobs may assume this environment's deploy role."
  type        = string
}

variable "create_oidc_provider" {
  description = "Create the GitHub OIDC provider in this account (false when another environment in the same account already did)."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "Existing GitHub OIDC provider ARN when create_oidc_provider is false."
  type        = string
  default     = null
}

variable "api_container_image" {
  description = "First image of the API, repository@sha256:digest. Later deploys come from environments/*.yaml through the deploy action."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate of the API's HTTPS listener."
  type        = string
}

variable "worker_package_path" {
  description = "Bundled worker zip for the first Lambda deployment (relative to terraform/environment)."
  type        = string
  default     = "../../services/worker/dist/lambda.zip"
}

variable "worker_processor" {
  description = "CONTENT_ENGINE_PROCESSOR of the worker: local or bedrock."
  type        = string
  default     = "local"
}

variable "bedrock_model_id" {
  description = "Bedrock model id the worker invokes when worker_processor is bedrock."
  type        = string
  default     = null
}

variable "eks_enabled" {
  description = "Create the EKS cluster (the advanced path; the Helm chart deploys onto it)."
  type        = bool
  default     = false
}

variable "eks_public_access_cidrs" {
  description = "CIDR blocks allowed to reach the EKS public endpoint; empty keeps it private."
  type        = list(string)
  default     = []
}

variable "eks_access_entries" {
  description = "IAM principals given EKS access: map of {principal_arn, policy_name, namespaces}."
  type = map(object({
    principal_arn = string
    policy_name   = string
    namespaces    = optional(list(string))
  }))
  default = {}
}

variable "require_paging" {
  description = "The environment's alarms must page someone: paging_subscriptions may not be empty (prod)."
  type        = bool
  default     = false
}

variable "paging_subscriptions" {
  description = "Who this environment's alarms page: list of {protocol = email | https, endpoint}; may be empty unless require_paging."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "ticket_subscriptions" {
  description = "Who this environment's ticket-tier alarms notify (client faults, slow burns, capacity): list of {protocol = email | https, endpoint}; may be empty."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "image_pull_account_ids" {
  description = "Set by the environment that creates the one image repository (the build environment): the accounts of the environments that deploy images from it. Empty elsewhere."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.image_pull_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "image_pull_account_ids must be 12-digit AWS account ids."
  }
}

variable "shared_ecr_repository" {
  description = "The image repository (in the dev account) this environment pulls from; null creates the repository here (dev)."
  type = object({
    arn = string
    url = string
  })
  default = null
}

variable "promotes_onward" {
  description = "Another environment's file names this one in promotion.from: promote.yml may assume this environment's promote read role."
  type        = bool
  default     = false
}

variable "promote_read_principals" {
  description = "The previous environment's promote read role ARN (its output promote_read_role_arn): promote from there runs as it and assumes this environment's read role to plan this environment in the promotion pull request. Empty in the first environment of the promotion order."
  type        = list(string)
  default     = []
}

variable "next_read_role_arns" {
  description = "The promote read role ARNs (their output promote_read_role_arn) of the environments whose files name this one in promotion.from, which this environment's promote read role may assume to plan them. Empty in the last environment, or before the next one exists: the promotion PR then says the plan is not shown."
  type        = list(string)
  default     = []
}

variable "require_reviewers" {
  description = "Deployments to this environment wait for one of reviewers (prod): reviewers may not be empty."
  type        = bool
  default     = false
}

variable "reviewers" {
  description = "Who approves deployments to this environment's GitHub environment: GitHub user and team ids (numeric: gh api users/<login> --jq .id, gh api orgs/<org>/teams/<slug> --jq .id); at most 6 in all. Empty: no approval."
  type = object({
    user_ids = optional(list(number), [])
    team_ids = optional(list(number), [])
  })
  default = {}
}

variable "manage_oidc_subject_template" {
  description = "This environment's root owns the repository-wide GitHub OIDC subject template (repo, context, job_workflow_ref): true in exactly one environment (prod)."
  type        = bool
  default     = false
}

variable "previews" {
  description = "Pull-request preview environments pr-<n> derive from this environment (environments/<name>.yaml has the previews block; at most one file does): creates the preview role (output preview_role_arn, previews.roleArn of the file), the workload roles' grants on the previews' queues and keys, and the repository's preview GitHub environment."
  type        = bool
  default     = false
}

variable "preview_reviewers" {
  description = "Who approves preview.yml's jobs in the preview GitHub environment (where previews is set): GitHub user and team ids, at most 6 in all. Empty (the default): a labelled pull request's preview starts without approval."
  type = object({
    user_ids = optional(list(number), [])
    team_ids = optional(list(number), [])
  })
  default = {}
}
