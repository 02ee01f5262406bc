variable "project_id" {
  description = "The Google Cloud project the suite runs in."
  type        = string
}

variable "region" {
  description = "Region of the instance."
  type        = string
}

variable "name" {
  description = "Instance name (e.g. eta-prod-redis); also names its AUTH secret (<name>-auth)."
  type        = string
}

variable "network_id" {
  description = "The VPC with private services access (network module's network_id)."
  type        = string
}

variable "reserved_ip_range" {
  description = "Name of the private services access range to take the address from (network module's private_services_range_name)."
  type        = string
}

variable "high_availability" {
  description = "STANDARD_HA (a replica in another zone, automatic failover) instead of BASIC."
  type        = bool
}

variable "memory_size_gb" {
  description = "Memory in GiB."
  type        = number
}

variable "redis_version" {
  description = "Pinned Redis version (Memorystore's REDIS_x_y)."
  type        = string
  default     = "REDIS_7_2"
}

variable "deletion_protection" {
  description = "Refuse to destroy the instance from Terraform."
  type        = bool
}

variable "auth_secret_version" {
  description = "Bump to write the current AUTH string into a new secret version (after rotating it)."
  type        = number
  default     = 1
}

variable "labels" {
  description = "Google Cloud resource labels."
  type        = map(string)
  default     = {}
}
