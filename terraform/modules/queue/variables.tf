variable "name" {
  description = "Name of the jobs queue; the dead-letter queue is named <name>-dlq."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,76}$", var.name))
    error_message = "name must be 1-76 letters, digits, dashes or underscores (room is left for the -dlq suffix)."
  }
}

variable "consumer_timeouts" {
  description = <<-EOT
    How long one worker invocation may run, and the queue's visibility timeout, in seconds.
    The visibility timeout must be at least 6x the worker timeout (AWS guidance for Lambda event
    sources: a message must not reappear while a retried batch still holds it). Leave
    visibility_timeout_seconds null to get exactly 6x.
  EOT
  type = object({
    worker_timeout_seconds     = number
    visibility_timeout_seconds = optional(number)
  })

  validation {
    condition     = var.consumer_timeouts.worker_timeout_seconds >= 1 && var.consumer_timeouts.worker_timeout_seconds <= 900
    error_message = "consumer_timeouts.worker_timeout_seconds must be between 1 and 900 (the Lambda maximum)."
  }

  validation {
    condition     = var.consumer_timeouts.visibility_timeout_seconds == null ? true : var.consumer_timeouts.visibility_timeout_seconds >= 6 * var.consumer_timeouts.worker_timeout_seconds
    error_message = "consumer_timeouts.visibility_timeout_seconds must be at least 6x worker_timeout_seconds, or messages are redelivered while a worker still processes them."
  }

  validation {
    condition     = var.consumer_timeouts.visibility_timeout_seconds == null ? 6 * var.consumer_timeouts.worker_timeout_seconds <= 43200 : var.consumer_timeouts.visibility_timeout_seconds <= 43200
    error_message = "The visibility timeout cannot exceed 43200 seconds (12 hours), the SQS maximum."
  }
}

variable "max_receive_count" {
  description = "Receives before a message is moved to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "message_retention_seconds" {
  description = "How long an unprocessed job waits in the jobs queue."
  type        = number
  default     = 345600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "dlq_message_retention_seconds" {
  description = "How long a failed job stays in the dead-letter queue for inspection and redrive (default 14 days, the SQS maximum)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600
    error_message = "dlq_message_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for both queues; null uses SQS-managed SSE."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
