variable "bucket_name" {
  description = "Globally unique name of the content bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits, dots or dashes."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for SSE-KMS; null uses the AWS managed aws/s3 key (still SSE-KMS)."
  type        = string
  default     = null
}

variable "upload_expiry_days" {
  description = "Days after which objects under uploads/ are deleted (the worker has read them long before)."
  type        = number
  default     = 7

  validation {
    condition     = var.upload_expiry_days >= 1
    error_message = "upload_expiry_days must be at least 1."
  }
}

variable "noncurrent_version_expiry_days" {
  description = "Days to keep previous versions of overwritten or deleted objects."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiry_days >= 1
    error_message = "noncurrent_version_expiry_days must be at least 1."
  }
}

variable "abort_incomplete_multipart_days" {
  description = "Days after which unfinished multipart uploads (a client that went away mid-stream) are aborted and their parts freed."
  type        = number
  default     = 1

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1
    error_message = "abort_incomplete_multipart_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy empty the bucket first (environments without data to keep). Keep false where data matters (prod): AWS then refuses to delete the bucket while it holds data."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
