variable "project_id" {
  description = "The Google Cloud project the suite runs in (its workload pool is <project>.svc.id.goog)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the service account ids (<prefix>-<service>, at most 30 characters in all), e.g. eta-prod."
  type        = string
}

variable "services" {
  description = <<-EOT
    Per service (the key names its Google service account): the Kubernetes ServiceAccounts that may act as
    it (namespace and name, as the charts create them), project roles, and Secret Manager secrets it may
    read (by a fixed name, value the secret's id).
  EOT
  type = map(object({
    description = string
    kubernetes_service_accounts = list(object({
      namespace = string
      name      = string
    }))
    project_roles = optional(list(string), [])
    secrets       = optional(map(string), {})
  }))

  validation {
    condition     = alltrue([for k in keys(var.services) : can(regex("^[a-z][a-z0-9-]*[a-z0-9]$", k))])
    error_message = "Service keys must be lowercase letters, digits and dashes."
  }
}
