variable "bucket_arn" {
  description = "ARN of the content bucket the API and the worker use."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.bucket_arn))
    error_message = "bucket_arn must be an S3 bucket ARN (arn:aws:s3:::name)."
  }
}

variable "queue_arn" {
  description = "ARN of the jobs queue."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.queue_arn))
    error_message = "queue_arn must be an SQS queue ARN."
  }
}

variable "dlq_arn" {
  description = "ARN of the jobs queue's dead-letter queue, which the worker's dead-letter handler reads; null to grant nothing."
  type        = string
  default     = null

  validation {
    condition     = var.dlq_arn == null ? true : can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.dlq_arn))
    error_message = "dlq_arn must be an SQS queue ARN."
  }
}

variable "bedrock_model_arn" {
  description = "ARN of the Bedrock foundation model or inference profile the worker may invoke; null when the local processor is used."
  type        = string
  default     = null

  validation {
    condition     = var.bedrock_model_arn == null ? true : can(regex("^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:[0-9]{0,12}:(foundation-model|inference-profile|application-inference-profile)/.+$", var.bedrock_model_arn))
    error_message = "bedrock_model_arn must be a Bedrock foundation-model or inference-profile ARN, never a wildcard."
  }
}

variable "previews" {
  description = "Pull-request previews pr-<n> of this environment (its file's previews block): the same grants on each preview's own queues (<queue_name_prefix><n>-jobs, -jobs-dlq) and key prefix (<key_prefix>pr-<n>/uploads/, …/jobs/), which the preview's API tasks and worker functions (same roles) use. Null grants nothing more."
  type = object({
    key_prefix        = optional(string, "previews/")
    queue_name_prefix = optional(string, "content-engine-pr-")
  })
  default = null

  validation {
    condition     = var.previews == null ? true : can(regex("^[a-z0-9-]+/$", var.previews.key_prefix)) && can(regex("^[a-z0-9-]+-$", var.previews.queue_name_prefix))
    error_message = "previews: key_prefix like previews/ and queue_name_prefix like content-engine-pr-, no wildcards."
  }
}
