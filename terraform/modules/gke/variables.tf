variable "project_id" {
  description = "The Google Cloud project the suite runs in."
  type        = string
}

variable "name" {
  description = "Cluster name (e.g. eta-prod); also prefixes the node service account (6-24 characters)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{5,23}$", var.name))
    error_message = "name must be 6-24 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "location" {
  description = "A region for a regional cluster (control plane and nodes in three zones), a zone for a zonal one."
  type        = string
}

variable "node_locations" {
  description = "Zones for the nodes; empty = the location's default zones."
  type        = list(string)
  default     = []
}

variable "network_id" {
  description = "The VPC (network module's network_id)."
  type        = string
}

variable "subnetwork_id" {
  description = "The node subnet (network module's subnetwork_id)."
  type        = string
}

variable "pods_range_name" {
  description = "The subnet's secondary range for pods."
  type        = string
}

variable "services_range_name" {
  description = "The subnet's secondary range for Services."
  type        = string
}

variable "master_ipv4_cidr_block" {
  description = "A /28 for the control plane's private endpoint, or null to let GKE choose (Private Service Connect)."
  type        = string
  default     = null
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the control plane's public endpoint (CI runners, operators); empty = none."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  default = []
}

variable "release_channel" {
  description = "GKE release channel: RAPID, REGULAR or STABLE."
  type        = string
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.release_channel)
    error_message = "release_channel must be RAPID, REGULAR or STABLE."
  }
}

variable "maintenance_window" {
  description = "Recurring maintenance window in UTC (RFC 3339 times, RFC 5545 RRULE). Default: daily 02:00-06:00 Asia/Seoul, outside the meal peaks."
  type = object({
    start_time = string
    end_time   = string
    recurrence = string
  })
  default = {
    start_time = "2026-01-01T17:00:00Z"
    end_time   = "2026-01-01T21:00:00Z"
    recurrence = "FREQ=DAILY"
  }
}

variable "deletion_protection" {
  description = "Refuse to destroy the cluster from Terraform."
  type        = bool
}

variable "pool_label_key" {
  description = "Node label naming a workload pool: the charts' global.nodePoolLabelKey (default eta.dev/pool)."
  type        = string
  default     = "eta.dev/pool"
}

variable "node_pools" {
  description = <<-EOT
    Node pools by GKE pool name. `pool` is the value of the pool label the charts select on (precise,
    rough, admin, geo, ml; system for everything without a pool); several GKE pools may carry the same
    value (a workload's base and peak pools). min_nodes/max_nodes are totals over the pool's zones.
  EOT
  type = map(object({
    pool         = string
    machine_type = string
    min_nodes    = number
    max_nodes    = number
    disk_size_gb = optional(number, 50)
    disk_type    = optional(string, "pd-balanced")
    spot         = optional(bool, false)
    taint        = optional(bool, false)
    labels       = optional(map(string), {})
  }))

  validation {
    condition     = alltrue([for p in values(var.node_pools) : p.min_nodes >= 0 && p.max_nodes >= p.min_nodes && p.max_nodes > 0])
    error_message = "Each pool needs 0 <= min_nodes <= max_nodes and max_nodes > 0."
  }
}

variable "labels" {
  description = "Google Cloud resource labels for the cluster and its nodes."
  type        = map(string)
  default     = {}
}
