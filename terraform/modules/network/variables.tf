variable "name" {
  description = "Name prefix for every resource, e.g. content-engine-dev."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC, e.g. 10.20.0.0/16. Subnets are carved from it as /20s."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^[0-9.]+/(1[6-9]|2[0-4])$", var.vpc_cidr))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block between /16 and /24, e.g. 10.20.0.0/16."
  }
}

variable "availability_zones" {
  description = "Two or three availability zones to spread the public and private subnets across."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3
    error_message = "availability_zones must list 2 or 3 zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway shared by every private subnet (cheaper) instead of one per availability zone (survives an AZ outage)."
  type        = bool
  default     = true
}

variable "interface_endpoints" {
  description = "AWS services that get an interface VPC endpoint in the private subnets (e.g. ecr.api, ecr.dkr, sqs, logs). Empty keeps that traffic on the NAT gateway."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.interface_endpoints : contains(["ecr.api", "ecr.dkr", "sqs", "logs", "sts", "bedrock-runtime"], s)])
    error_message = "interface_endpoints may only contain ecr.api, ecr.dkr, sqs, logs, sts or bedrock-runtime."
  }
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs in CloudWatch Logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a retention period CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
