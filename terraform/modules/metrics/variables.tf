variable "name" {
  description = "Name of the metrics workspace and prefix of its resources, e.g. content-engine-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,99}$", var.name))
    error_message = "name must be lowercase letters, digits and dashes."
  }
}

variable "environment" {
  description = "An environment name, environments/<name>.yaml: the collector writes it into the env label of every series (the label the dashboards select)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*(-[a-z0-9]+)*$", var.environment)) && length(var.environment) <= 12 && var.environment != "local" && !startswith(var.environment, "pr-")
    error_message = "environment must be an environment name: ^[a-z][a-z0-9]*(-[a-z0-9]+)*$, at most 12 characters, not local and not starting with pr- (reserved for preview environments)."
  }
}

variable "api_port" {
  description = "Port the API serves /metrics on inside its task (the sidecar scrapes localhost:<api_port>)."
  type        = number
  default     = 8000

  validation {
    condition     = var.api_port > 0 && var.api_port < 65536
    error_message = "api_port must be a TCP port."
  }
}

variable "scrape_interval_seconds" {
  description = "How often the collector scrapes the API (also the resolution of every Prometheus panel)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.scrape_interval_seconds >= 5 && var.scrape_interval_seconds <= 300
    error_message = "scrape_interval_seconds must be between 5 and 300."
  }
}

variable "collector_image" {
  description = "Prometheus image of the collector sidecar (runs in agent mode), pinned by tag or digest."
  type        = string
  default     = "quay.io/prometheus/prometheus:v2.53.4"
  nullable    = false

  validation {
    condition     = can(regex("^[^:@\\s]+(:[\\w.-]+)?(@sha256:[0-9a-f]{64})?$", var.collector_image)) && (can(regex(":[\\w.-]+$", var.collector_image)) || can(regex("@sha256:", var.collector_image)))
    error_message = "collector_image must name a tag or a digest, never an implicit latest."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the workspace's data; null uses an AWS owned key (still encrypted)."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the workspace's own log group (remote-write and rule errors)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
