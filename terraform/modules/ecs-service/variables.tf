variable "name" {
  description = "Name of the cluster, service, task family, load balancer and log group, e.g. content-engine-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,27}$", var.name))
    error_message = "name must be 2-28 lowercase letters, digits or dashes (load balancer names are limited to 32 characters)."
  }
}

variable "vpc_id" {
  description = "VPC to run in."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets for the load balancer, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "public_subnet_ids must list at least two subnets (an ALB needs two availability zones)."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets for the tasks, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids must list at least two subnets."
  }
}

variable "container_image" {
  description = "Initial image of the API container, pinned by digest (repository@sha256:...). Later deploys register new task definitions and Terraform leaves them alone."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@sha256:[0-9a-f]{64}$", var.container_image))
    error_message = "container_image must be pinned by digest: <repository>@sha256:<64 hex>."
  }
}

variable "container_port" {
  description = "Port the API listens on (PORT)."
  type        = number
  default     = 8000
}

variable "cpu" {
  description = "Fargate task CPU units (256 = 0.25 vCPU)."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be one of the Fargate sizes 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB; must be a valid pairing with cpu."
  type        = number
  default     = 1024

  validation {
    condition     = var.memory >= 512 && var.memory <= 122880
    error_message = "memory must be between 512 and 122880 MiB."
  }
}

variable "desired_count" {
  description = "Tasks started on first apply; afterwards autoscaling owns the count."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 1
    error_message = "desired_count must be at least 1."
  }
}

variable "autoscaling" {
  description = "Target-tracking autoscaling of the service on average CPU."
  type = object({
    min_capacity       = number
    max_capacity       = number
    target_cpu_percent = optional(number, 60)
  })
  default = {
    min_capacity = 2
    max_capacity = 6
  }

  validation {
    condition     = var.autoscaling.min_capacity >= 1 && var.autoscaling.max_capacity >= var.autoscaling.min_capacity
    error_message = "autoscaling needs 1 <= min_capacity <= max_capacity."
  }

  validation {
    condition     = var.autoscaling.target_cpu_percent > 10 && var.autoscaling.target_cpu_percent < 95
    error_message = "autoscaling.target_cpu_percent must be between 10 and 95."
  }
}

variable "environment" {
  description = "Plain environment variables of the API container (AWS_REGION, CONTENT_ENGINE_BUCKET, CONTENT_ENGINE_QUEUE_URL, LOG_LEVEL, ...). Never secrets."
  type        = map(string)
  default     = {}
}

variable "api_keys_secret_arn" {
  description = "Secrets Manager secret whose value is CONTENT_ENGINE_API_KEYS (key:tenant,key:tenant)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:", var.api_keys_secret_arn))
    error_message = "api_keys_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "secret_arns" {
  description = "The SSM parameters and Secrets Manager secrets environments/<env>.yaml names in api.secrets (secrets by their full ARN, without ECS's :json-key:stage:version selector). The execution role may read exactly these, besides the API keys secret; test/infra/ecs-secrets.test.ts keeps the two equal."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for arn in var.secret_arns :
      can(regex("^arn:aws[a-z-]*:(ssm:[a-z0-9-]+:[0-9]{12}:parameter/[A-Za-z0-9_./-]+|secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+)$", arn))
    ])
    error_message = "secret_arns must be SSM parameter ARNs (arn:aws:ssm:<region>:<account>:parameter/<name>) or Secrets Manager secret ARNs (arn:aws:secretsmanager:<region>:<account>:secret:<name>), no wildcard and no JSON key selector."
  }
}

variable "ecr_repository_arn" {
  description = "ECR repository the task execution role may pull from."
  type        = string
}

variable "task_policy_json" {
  description = "IAM policy document of the API task role (from the workload-iam module)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "ingress_cidrs" {
  description = "CIDR blocks allowed to reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.ingress_cidrs : can(cidrhost(c, 0))])
    error_message = "ingress_cidrs must contain valid CIDR blocks."
  }
}

variable "health_check" {
  description = "Target group health check and draining, tuned for fast deploys (see terraform/README.md for the push-to-live arithmetic)."
  type = object({
    path                       = optional(string, "/ready")
    interval_seconds           = optional(number, 5)
    timeout_seconds            = optional(number, 3)
    healthy_threshold          = optional(number, 2)
    unhealthy_threshold        = optional(number, 2)
    deregistration_delay       = optional(number, 10)
    grace_period_seconds       = optional(number, 15)
    container_stop_timeout_sec = optional(number, 10)
  })
  default = {}

  validation {
    condition     = var.health_check.timeout_seconds < var.health_check.interval_seconds
    error_message = "health_check.timeout_seconds must be shorter than interval_seconds."
  }

  validation {
    condition     = var.health_check.healthy_threshold >= 2 && var.health_check.unhealthy_threshold >= 2
    error_message = "health_check thresholds must be at least 2 (the ALB minimum)."
  }
}

variable "deletion_protection" {
  description = "Protect the load balancer from deletion (prod)."
  type        = bool
  default     = false
}

variable "access_logs_bucket" {
  description = "S3 bucket for load balancer access logs (must grant the regional ELB account write access); null disables them."
  type        = string
  default     = null
}

variable "waf_web_acl_arn" {
  description = "WAFv2 web ACL to associate with the load balancer; null leaves it unassociated."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days to keep the API's CloudWatch logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention period CloudWatch Logs accepts."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "metrics_collector" {
  description = "The metrics collector sidecar (the `collector` output of modules/metrics): Prometheus image, agent configuration and the remote-write IAM policy for the task role. null runs the API without one."
  type = object({
    image       = string
    config      = string
    policy_json = string
  })
  default = null
}
