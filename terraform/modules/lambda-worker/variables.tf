variable "name" {
  description = "Function name, e.g. content-engine-dev-worker."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, dashes or underscores."
  }
}

variable "package_path" {
  description = "Path of the bundled worker zip (services/worker/dist/lambda.zip) used for the first deployment; later code comes from the deploy action."
  type        = string
}

variable "timeout_seconds" {
  description = "Function timeout. The jobs queue's visibility timeout must be at least 6x this (enforced by the queue module)."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 1 and 900."
  }
}

variable "memory_mb" {
  description = "Function memory in MB (CPU scales with it)."
  type        = number
  default     = 1024

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be between 128 and 10240."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the worker, protecting the rest of the account."
  type        = number
  default     = 20

  validation {
    condition     = var.reserved_concurrency >= 2
    error_message = "reserved_concurrency must be at least 2 (the SQS event source needs two)."
  }
}

variable "queue_arn" {
  description = "ARN of the jobs queue the function consumes."
  type        = string
}

variable "event_source" {
  description = "SQS event source mapping: messages per batch, how long to gather a batch, and the most concurrent invocations the queue may drive."
  type = object({
    batch_size                         = optional(number, 10)
    maximum_batching_window_in_seconds = optional(number, 1)
    maximum_concurrency                = optional(number, 10)
  })
  default = {}

  validation {
    condition     = var.event_source.batch_size >= 1 && var.event_source.batch_size <= 10000
    error_message = "event_source.batch_size must be between 1 and 10000."
  }

  validation {
    condition     = var.event_source.maximum_batching_window_in_seconds >= 0 && var.event_source.maximum_batching_window_in_seconds <= 300
    error_message = "event_source.maximum_batching_window_in_seconds must be between 0 and 300."
  }

  validation {
    condition     = var.event_source.batch_size <= 10 || var.event_source.maximum_batching_window_in_seconds >= 1
    error_message = "event_source.batch_size above 10 needs maximum_batching_window_in_seconds of at least 1."
  }

  validation {
    condition     = var.event_source.maximum_concurrency >= 2 && var.event_source.maximum_concurrency <= 1000
    error_message = "event_source.maximum_concurrency must be between 2 and 1000."
  }
}

variable "worker_policy_json" {
  description = "IAM policy document of the worker (from the workload-iam module)."
  type        = string
}

variable "environment" {
  description = "Environment variables of the function (AWS_REGION is set by Lambda itself). Never secrets."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Days to keep the function's CloudWatch logs."
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

variable "recovery_schedule" {
  description = "EventBridge schedule of the worker's recovery run (dead-lettered jobs marked failed, stalled uploads re-driven); at most CONTENT_ENGINE_REDRIVE_AFTER_SECONDS apart."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition     = can(regex("^(rate\\([0-9]+ (minute|minutes|hour|hours)\\)|cron\\(.+\\))$", var.recovery_schedule))
    error_message = "recovery_schedule must be an EventBridge rate(...) or cron(...) expression."
  }
}
