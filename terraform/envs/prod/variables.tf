variable "aws_region" {
  description = "AWS region of this environment."
  type        = string
  default     = "eu-west-1"
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
  description = "Bundled worker zip for the first Lambda deployment."
  type        = string
  default     = "../../../services/worker/dist/lambda.zip"
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

variable "paging_subscriptions" {
  description = "Who production alarms page: list of {protocol = email | https, endpoint}. Production must page someone."
  type = list(object({
    protocol = string
    endpoint = string
  }))

  validation {
    condition     = length(var.paging_subscriptions) > 0
    error_message = "paging_subscriptions must not be empty in prod: an alarm that pages nobody is not an alarm."
  }
}

variable "shared_ecr_repository" {
  description = "The image repository in the dev account that every environment pulls from."
  type = object({
    arn = string
    url = string
  })
  default = {
    arn = "arn:aws:ecr:eu-west-1:111111111111:repository/content-engine"
    url = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/content-engine"
  }
}

variable "ticket_subscriptions" {
  description = "Who this environment's ticket-tier alarms notify (client faults, slow burns, capacity): list of {protocol = email | https, endpoint}; may be empty."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "promote_read_principals" {
  description = "The staging promote read role ARN (its output promote_read_role_arn): promote from staging runs as it and assumes prod's read role to plan prod in the promotion pull request."
  type        = list(string)
  default     = []
}

variable "prod_reviewers" {
  description = "Who approves prod deployments: GitHub user and team ids (numeric: gh api users/<login> --jq .id, gh api orgs/<org>/teams/<slug> --jq .id); at least one, at most 6 in all."
  type = object({
    user_ids = optional(list(number), [])
    team_ids = optional(list(number), [])
  })

  validation {
    condition     = length(var.prod_reviewers.user_ids) + length(var.prod_reviewers.team_ids) > 0
    error_message = "prod_reviewers must name at least one user or team: prod deploys wait for a reviewer."
  }
}
