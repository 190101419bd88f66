variable "name" {
  description = "Repository name, e.g. content-engine-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+([._/-][a-z0-9]+)*$", var.name))
    error_message = "name must be a valid ECR repository name (lowercase letters, digits, . _ - /)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for image encryption; null uses the AWS managed aws/ecr key (still KMS)."
  type        = string
  default     = null
}

variable "keep_tagged_images" {
  description = "How many of the newest images that no deploy tagged deployed-… to keep (builds never deployed, their signatures); older ones are expired."
  type        = number
  default     = 50

  validation {
    condition     = var.keep_tagged_images >= 5
    error_message = "keep_tagged_images must be at least 5 so a rollback target is always there."
  }
}

variable "untagged_expiry_days" {
  description = "Days after which untagged images (dangling layers of multi-arch pushes) are expired."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_expiry_days >= 1
    error_message = "untagged_expiry_days must be at least 1."
  }
}

variable "force_delete" {
  description = "Let terraform destroy delete the repository while it still holds images (environments without data to keep)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "pull_account_ids" {
  description = "Accounts whose principals may pull from this repository (the accounts of the other environments, when one repository serves every environment). Each pulling account still grants its own roles ecr:BatchGetImage on this repository's ARN."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.pull_account_ids : can(regex("^\\d{12}$", id))])
    error_message = "pull_account_ids must be 12-digit AWS account ids."
  }
}

variable "keep_deployed_days" {
  description = "Days an image a deploy tagged deployed-… (and its signatures) is kept after its push: every digest an environment ran, so every rollback target. Far longer than any image runs."
  type        = number
  default     = 3650

  validation {
    condition     = var.keep_deployed_days >= 365
    error_message = "keep_deployed_days must be at least 365: a digest prod runs must not expire under it."
  }
}

variable "signing_key" {
  description = "Create the KMS key (ECC P-256, SIGN_VERIFY) build-push signs images and worker bundles with."
  type        = bool
  default     = true
}
