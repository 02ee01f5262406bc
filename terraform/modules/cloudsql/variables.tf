variable "project_id" {
  description = "The Google Cloud project the suite runs in."
  type        = string
}

variable "region" {
  description = "Region of the instance."
  type        = string
}

variable "name" {
  description = "Instance name (e.g. eta-prod-pg); also prefixes the password secret."
  type        = string
}

variable "network_id" {
  description = "The VPC with private services access (network module's network_id)."
  type        = string
}

variable "database_version" {
  description = "Pinned Postgres major version."
  type        = string
  default     = "POSTGRES_17"
}

variable "tier" {
  description = "Machine tier (ENTERPRISE edition), e.g. db-custom-2-7680."
  type        = string
}

variable "disk_size_gb" {
  description = "Initial SSD size in GB (grows automatically)."
  type        = number
  default     = 20
}

variable "high_availability" {
  description = "REGIONAL availability (a standby in another zone, automatic failover) instead of ZONAL."
  type        = bool
}

variable "backups" {
  description = "Daily backups and point-in-time recovery."
  type        = bool
}

variable "retained_backups" {
  description = "How many daily backups to keep."
  type        = number
  default     = 7
}

variable "log_retention_days" {
  description = "Days of transaction logs kept for point-in-time recovery (1-7 on ENTERPRISE)."
  type        = number
  default     = 7

  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 7
    error_message = "log_retention_days must be 1-7 on the ENTERPRISE edition."
  }
}

variable "deletion_protection" {
  description = "Refuse to destroy the instance, from Terraform and (deletion_protection_enabled) from any API client."
  type        = bool
}

variable "database_name" {
  description = "The BFF's database."
  type        = string
  default     = "eta"
}

variable "user_name" {
  description = "The BFF's database user."
  type        = string
  default     = "eta"
}

variable "password_version" {
  description = "Bump to rotate the user's password (a new random one, into Cloud SQL and a new secret version)."
  type        = number
  default     = 1
}

variable "labels" {
  description = "Google Cloud resource labels."
  type        = map(string)
  default     = {}
}
