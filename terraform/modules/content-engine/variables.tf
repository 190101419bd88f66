variable "environment" {
  description = "An environment name, environments/<name>.yaml (^[a-z][a-z0-9]*(-[a-z0-9]+)*$, at most 12 characters, not local, not pr-*). Names every resource content-engine-<environment>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.environment)) && length(var.environment) <= 12 && var.environment != "local" && !startswith(var.environment, "pr-")
    error_message = "environment must be an environment name: ^[a-z][a-z0-9]*(-[a-z0-9]+)*$, at most 12 characters, not local and not starting with pr- (reserved for preview environments)."
  }
}

variable "network" {
  description = "VPC layout: CIDR block, two or three availability zones, NAT gateway per AZ or shared, and interface endpoints."
  type = object({
    vpc_cidr            = string
    availability_zones  = list(string)
    single_nat_gateway  = optional(bool, true)
    interface_endpoints = optional(list(string), [])
  })
}

variable "api" {
  description = "The API on ECS Fargate: first image (by digest), task size, autoscaling bounds, TLS certificate, who may connect, the upload size limit, and the secrets the execution role may read (secret_arns: exactly the ARNs api.secrets of environments/<env>.yaml names)."
  type = object({
    container_image     = string
    certificate_arn     = string
    cpu                 = optional(number, 512)
    memory              = optional(number, 1024)
    desired_count       = optional(number, 2)
    min_capacity        = optional(number, 2)
    max_capacity        = optional(number, 6)
    target_cpu_percent  = optional(number, 60)
    ingress_cidrs       = optional(list(string), ["0.0.0.0/0"])
    deletion_protection = optional(bool, false)
    access_logs_bucket  = optional(string)
    waf_web_acl_arn     = optional(string)
    max_upload_bytes    = optional(number, 26214400)
    secret_arns         = optional(list(string), [])
  })
}

variable "worker" {
  description = "The worker on Lambda: bundled zip for the first deploy, timeout, memory, concurrency, SQS batching, and the processor (local or bedrock with a model id)."
  type = object({
    package_path         = string
    timeout_seconds      = optional(number, 60)
    memory_mb            = optional(number, 1024)
    reserved_concurrency = optional(number, 20)
    batch_size           = optional(number, 10)
    batching_window      = optional(number, 1)
    maximum_concurrency  = optional(number, 10)
    processor            = optional(string, "local")
    bedrock_model_id     = optional(string)
  })

  validation {
    condition     = contains(["local", "bedrock"], var.worker.processor)
    error_message = "worker.processor must be local or bedrock."
  }

  validation {
    condition     = var.worker.processor != "bedrock" || (var.worker.bedrock_model_id != null && !strcontains(coalesce(var.worker.bedrock_model_id, "*"), "*"))
    error_message = "worker.bedrock_model_id must name one model (no wildcard) when worker.processor is bedrock."
  }
}

variable "queue" {
  description = "Jobs queue: optional visibility timeout (default 6x the worker timeout) and receives before dead-lettering."
  type = object({
    visibility_timeout_seconds = optional(number)
    max_receive_count          = optional(number, 3)
  })
  default = {}
}

variable "paging_subscriptions" {
  description = "Who the page-tier topic notifies (system faults): list of {protocol = email | https, endpoint}."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "ticket_subscriptions" {
  description = "Who the ticket-tier topic notifies (client faults, slow burns, capacity): list of {protocol = email | https, endpoint}."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "github" {
  description = "GitHub repository (ORG/REPO) and environments trusted by the deploy role; create_oidc_provider false when another stack in the account owns the provider."
  type = object({
    repository           = string
    environments         = list(string)
    create_oidc_provider = optional(bool, true)
    oidc_provider_arn    = optional(string)
    # The previous environment's promote read role: it may assume this one to plan this environment
    # in the promotion pull request.
    promote_read_principals = optional(list(string), [])
    # The promote read roles (output promote_read_role_arn) of the environments that promote from this one.
    next_read_role_arns = optional(list(string), [])
    # Another environment promotes from this one: promote.yml may assume the promote read role here.
    promotes_onward = optional(bool, false)
  })
}

variable "previews" {
  description = "Pull-request preview environments pr-<n> derive from this environment (its file has the previews block; at most one does): the preview role (modules/github-oidc previews, output preview_role_arn) and the workload roles' grants on the previews' queues and keys (modules/workload-iam previews)."
  type        = bool
  default     = false
}

variable "eks" {
  description = "The EKS path: enabled flag, version, release namespace (the deploy role is admin there only), nodes, access entries and public endpoint CIDRs. Disabled by default (ECS first)."
  type = object({
    enabled             = optional(bool, false)
    kubernetes_version  = optional(string, "1.34")
    namespace           = optional(string, "content-engine")
    public_access_cidrs = optional(list(string), [])
    instance_types      = optional(list(string), ["m6i.large"])
    min_size            = optional(number, 2)
    max_size            = optional(number, 6)
    desired_size        = optional(number, 2)
    access_entries = optional(map(object({
      principal_arn = string
      policy_name   = string
      namespaces    = optional(list(string))
    })), {})
  })
  default = {}
}

variable "ecr_repository_name" {
  description = "Name of the image repository this environment creates (when shared_ecr_repository is null)."
  type        = string
  default     = "content-engine"
}

variable "ecr_pull_account_ids" {
  description = "Accounts that pull images (and worker bundles) from the repository this environment creates: the accounts of the environments promoted to, when this one (the build environment) owns the one repository."
  type        = list(string)
  default     = []
}

variable "shared_ecr_repository" {
  description = "The repository of another account this environment pulls from (one repository serves every environment, a promotion moves only the digest). null creates a repository here."
  type = object({
    arn = string
    url = string
  })
  default = null

  validation {
    condition     = var.shared_ecr_repository == null || can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\\d{12}:repository/.+$", var.shared_ecr_repository.arn))
    error_message = "shared_ecr_repository.arn must be an ECR repository ARN."
  }
}

variable "metrics" {
  description = "The metrics path: how often the ECS collector sidecar scrapes the API, and its Prometheus image; null keeps the defaults of terraform/modules/metrics."
  type = object({
    scrape_interval_seconds = optional(number)
    collector_image         = optional(string)
  })
  default = {}
}

variable "log_level" {
  description = "LOG_LEVEL of the API and the worker."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error", "fatal"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, warn, error, fatal."
  }
}

variable "log_retention_days" {
  description = "Days to keep every CloudWatch log group of the stack."
  type        = number
  default     = 30
}

variable "protect_data" {
  description = "Production data protection: the bucket is never force-emptied (AWS refuses to delete it while it holds data), the load balancer has deletion protection and secrets get a 30-day recovery window. Off by default so destroy works (prod sets it)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
