variable "name" {
  description = "Name prefix, e.g. content-engine-prod; the topics are <name>-paging (page tier) and <name>-ticket (ticket tier)."
  type        = string
}

variable "subscriptions" {
  description = "Who gets paged (page tier: system faults): a list of {protocol = email | https, endpoint}. HTTPS endpoints receive SNS JSON (e.g. an incident tool's webhook)."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.subscriptions : contains(["email", "https"], s.protocol)])
    error_message = "subscriptions protocol must be email or https."
  }

  validation {
    condition = alltrue([for s in var.subscriptions :
      s.protocol == "email" ? can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint)) : startswith(s.endpoint, "https://")
    ])
    error_message = "Each email subscription needs an email address, each https subscription an https:// URL."
  }
}

variable "ticket_subscriptions" {
  description = "Who gets tickets (ticket tier: client faults, slow burns, capacity): a list of {protocol = email | https, endpoint}. HTTPS endpoints receive SNS JSON (e.g. an incident tool's webhook)."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.ticket_subscriptions : contains(["email", "https"], s.protocol)])
    error_message = "ticket_subscriptions protocol must be email or https."
  }

  validation {
    condition = alltrue([for s in var.ticket_subscriptions :
      s.protocol == "email" ? can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint)) : startswith(s.endpoint, "https://")
    ])
    error_message = "Each email ticket subscription needs an email address, each https subscription an https:// URL."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
