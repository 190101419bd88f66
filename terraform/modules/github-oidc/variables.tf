variable "name" {
  description = "Name of the deploy role, e.g. content-engine-dev-deploy."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "name must be a valid IAM role name (1-64 characters)."
  }
}

variable "github_repository" {
  description = "The GitHub repository allowed to assume the role, as ORG/REPO."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be ORG/REPO, without wildcards."
  }
}

variable "github_environments" {
  description = "GitHub environments whose jobs may assume the roles (the context of the trusted sub claims, environment:<env>); each needs an entry in trusted_workflows."
  type        = list(string)

  validation {
    condition     = length(var.github_environments) > 0 && alltrue([for e in var.github_environments : can(regex("^[A-Za-z0-9_.-]+$", e))])
    error_message = "github_environments must name at least one environment, without wildcards."
  }
}

variable "create_oidc_provider" {
  description = "Create the account's token.actions.githubusercontent.com OIDC provider. An account holds one; set false and pass oidc_provider_arn when another stack owns it."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "ARN of an existing GitHub OIDC provider (when create_oidc_provider is false)."
  type        = string
  default     = null
}

variable "ecr_repository_arn" {
  description = "ECR repository the deploy role pushes images to."
  type        = string
}

variable "ecs" {
  description = "ECS service the deploy role rolls out, and the roles its task definitions pass; null when this environment has no ECS service."
  type = object({
    cluster_arn        = string
    service_arn        = string
    task_role_arn      = string
    execution_role_arn = string
    # The API's task definition family (pre-deploy tasks run its revisions) and its log group (their log tail).
    task_family    = string
    log_group_name = string
  })
  default = null
}

variable "lambda_function_arn" {
  description = "Worker function whose code, versions and alias the deploy role updates; null when there is none."
  type        = string
  default     = null
}

variable "eks_cluster_arn" {
  description = "EKS cluster the deploy role may describe (to build a kubeconfig); null when there is none."
  type        = string
  default     = null
}

variable "alarm_name_prefix" {
  description = "Prefix of the CloudWatch alarm and dashboard names the deploy role may write, e.g. content-engine-dev-."
  type        = string

  validation {
    condition     = length(var.alarm_name_prefix) >= 3 && !strcontains(var.alarm_name_prefix, "*")
    error_message = "alarm_name_prefix must be at least 3 characters and contain no wildcard."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "promote_read_principals" {
  description = "Roles that may assume this environment's promote read role besides promote.yml's own jobs: the previous environment's promote read role, which plans this environment in the promotion pull request."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.promote_read_principals : can(regex("^arn:aws[a-z-]*:iam::\\d{12}:role/.+$", arn))])
    error_message = "promote_read_principals must be IAM role ARNs, without wildcards."
  }
}

variable "next_read_role_arns" {
  description = "The promote read roles (their output promote_read_role_arn) of the environments that promote from this one, which this environment's promote read role may assume to plan them; empty in the last environment. Several where the promotion order forks."
  type        = list(string)
  default     = []
}

variable "trusted_workflows" {
  description = "Per GitHub environment, the workflow files (.github/workflows/<file>) whose jobs may assume each role from the deploy branch: deploy = the deploy role (deploy.yml builds and pushes in dev, deploy-env.yml deploys, drift.yml checks and reconciles), promote_read = the promote read role (promote.yml, in the environment it promotes from). Every other workflow, branch or environment is refused."
  type = map(object({
    deploy       = list(string)
    promote_read = list(string)
  }))
  # Null: derived from what this environment does (builds, promotes_onward), not from its name.
  default = null

  validation {
    condition = var.trusted_workflows == null ? true : alltrue(flatten([
      for env, roles in var.trusted_workflows : [
        for workflow in concat(roles.deploy, roles.promote_read) : can(regex("^[A-Za-z0-9_.-]+\\.ya?ml$", workflow))
      ]
    ]))
    error_message = "trusted_workflows must name workflow files such as deploy-env.yml: no path, no wildcard."
  }
}

variable "builds" {
  description = "This is the build environment (its file has no promotion.from; it owns the image repository): its deploy role also trusts deploy.yml, which builds, signs and pushes. Used when trusted_workflows is null."
  type        = bool
  default     = false
}

variable "promotes_onward" {
  description = "Another environment promotes from this one (its promotion.from names this one): the promote read role trusts promote.yml here. Used when trusted_workflows is null."
  type        = bool
  default     = false
}

variable "deploy_branch" {
  description = "The only branch whose workflow runs may assume the roles (job_workflow_ref <workflow>@refs/heads/<branch>); the GitHub environments allow deployments from it alone (modules/github-repository)."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.deploy_branch)) && !strcontains(var.deploy_branch, "*")
    error_message = "deploy_branch must be one branch name, without wildcards."
  }
}

variable "signing_key_arn" {
  description = "KMS key (asymmetric, SIGN_VERIFY) build-push signs images and worker bundles with: the deploy role may kms:Sign with it and read its public key. Null grants nothing."
  type        = string
  default     = null

  validation {
    condition     = var.signing_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.signing_key_arn))
    error_message = "signing_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias or a wildcard."
  }
}

variable "previews" {
  description = "Pull-request preview environments pr-<n> derived from this environment (its file's previews block): a role of their own, <name without -deploy>-preview, trusted by workflow in github_environment from the deploy branch only, that may push images to ecr_repository_arn (unsigned; no KMS), read the base it copies from, and create, update and delete exactly the previews' resources — ECS services <service>-pr-* in this cluster and their task definition families <task_family>-pr-*, target groups <name_prefix>* and listener rules of load_balancer_name, Lambda functions <function>-pr-* (passing worker_role_arn) and their SQS mappings, queues <name_prefix>*, objects under <key_prefix> of bucket_arn. The deploy role gets none of it. Null: no previews, no preview role."
  type = object({
    # The workflow file that runs previews (up on a labelled pull request, down on close, the scheduled reaper).
    workflow = optional(string, "preview.yml")
    # The GitHub environment its jobs run in (modules/github-repository preview_environment): not a deploy one.
    github_environment = optional(string, "preview")
    # The base load balancer (api.loadBalancer) whose listener the host-header rules go on (ECS; null on EKS).
    load_balancer_name = optional(string)
    # The worker function's role, passed to each preview's own function (ECS; null on EKS).
    worker_role_arn = optional(string)
    # The content bucket; every preview keeps its objects under key_prefix pr-<n>/.
    bucket_arn = string
    key_prefix = optional(string, "previews/")
    # Prefix of the previews' queue and target group names (content-engine-pr-<n>-jobs, content-engine-pr-<n>).
    name_prefix = optional(string, "content-engine-pr-")
  })
  default = null

  validation {
    condition = var.previews == null ? true : alltrue([
      can(regex("^[A-Za-z0-9_.-]+\\.ya?ml$", var.previews.workflow)),
      can(regex("^[A-Za-z0-9_.-]+$", var.previews.github_environment)),
      can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.previews.bucket_arn)),
      can(regex("^[a-z0-9-]+/$", var.previews.key_prefix)),
      can(regex("^[a-z0-9-]+-$", var.previews.name_prefix)),
      var.previews.load_balancer_name == null ? true : can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,31}$", var.previews.load_balancer_name)),
      var.previews.worker_role_arn == null ? true : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[^*]+$", var.previews.worker_role_arn)),
    ])
    error_message = "previews: workflow a file name such as preview.yml, github_environment a GitHub environment name without wildcards, bucket_arn an S3 bucket ARN, key_prefix like previews/, name_prefix like content-engine-pr-, load_balancer_name an ALB name and worker_role_arn a role ARN; no wildcards."
  }
}
