variable "name" {
  description = "Cluster name, e.g. content-engine-prod."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,60}$", var.name))
    error_message = "name must be 2-61 lowercase letters, digits or dashes."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and nodes."
  type        = string
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.(3[1-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be a supported minor version, 1.31 or newer (e.g. 1.34)."
  }
}

variable "subnet_ids" {
  description = "Private subnets for the control plane ENIs and the nodes, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets."
  }
}

variable "public_access_cidrs" {
  description = "CIDR blocks that may reach the public API endpoint; empty keeps the endpoint private (reach it through the VPC)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "public_access_cidrs must contain valid CIDR blocks and never 0.0.0.0/0."
  }
}

variable "node_group" {
  description = "Managed node group sizing."
  type = object({
    instance_types = optional(list(string), ["m6i.large"])
    min_size       = optional(number, 2)
    max_size       = optional(number, 6)
    desired_size   = optional(number, 2)
    disk_size_gb   = optional(number, 50)
  })
  default = {}

  validation {
    condition     = var.node_group.min_size >= 1 && var.node_group.min_size <= var.node_group.desired_size && var.node_group.desired_size <= var.node_group.max_size
    error_message = "node_group needs 1 <= min_size <= desired_size <= max_size."
  }
}

variable "access_entries" {
  description = "IAM principals given cluster access, keyed by a short name: principal_arn and an EKS access policy name (e.g. AmazonEKSClusterAdminPolicy), optionally limited to namespaces."
  type = map(object({
    principal_arn = string
    policy_name   = string
    namespaces    = optional(list(string))
  }))
  default = {}

  validation {
    condition     = alltrue([for e in values(var.access_entries) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/", e.principal_arn))])
    error_message = "access_entries principal_arn must be IAM role or user ARNs."
  }
}

variable "namespace" {
  description = "Namespace the Helm chart is installed into."
  type        = string
  default     = "content-engine"
}

variable "service_accounts" {
  description = "Kubernetes service account names of the API and the worker (helm values serviceAccounts.{api,worker}.name)."
  type = object({
    api    = optional(string, "content-engine-api")
    worker = optional(string, "content-engine-worker")
  })
  default = {}
}

variable "keda_service_account" {
  description = "Namespace and service account of the KEDA operator, which reads the queue depth with its own identity."
  type = object({
    namespace = optional(string, "keda")
    name      = optional(string, "keda-operator")
  })
  default = {}
}

variable "api_policy_json" {
  description = "IAM policy document of the API pods (from the workload-iam module)."
  type        = string
}

variable "worker_policy_json" {
  description = "IAM policy document of the worker pods (from the workload-iam module)."
  type        = string
}

variable "keda_policy_json" {
  description = "IAM policy document of the KEDA operator: read the jobs queue's attributes only."
  type        = string
}

variable "log_retention_days" {
  description = "Days to keep control plane logs."
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
