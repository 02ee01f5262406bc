variable "env" {
  description = "The environment: dev, staging or prod (the env label, the monitors' env tag, the dataset's label)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.env)
    error_message = "env must be dev, staging or prod."
  }
}

variable "name" {
  description = "Name of the environment's resources (e.g. eta-prod): VPC, cluster, <name>-redis, <name>-pg, Kafka service accounts."
  type        = string
}

variable "project_id" {
  description = "The Google Cloud project of this environment."
  type        = string
}

variable "region" {
  description = "Region of everything regional (Seoul: asia-northeast3)."
  type        = string
}

variable "cluster_location" {
  description = "A zone for a zonal GKE cluster; null = the region (a regional cluster, three zones)."
  type        = string
  default     = null
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the GKE control plane's public endpoint (CI runners, operators)."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  default = []
}

variable "ci_members" {
  description = "IAM members that push images and charts (CI), by a fixed name, e.g. { github-actions = \"principalSet://...\" }."
  type        = map(string)
  default     = {}
}

variable "admin_namespace" {
  description = "Namespace of the BFF's admin role (deploy/values/<env>.yaml): eta-admin, or eta where everything shares one."
  type        = string
}

variable "release_channel" {
  description = "GKE release channel: RAPID, REGULAR or STABLE."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to destroy GKE, Memorystore, Cloud SQL and the BigQuery dataset from Terraform."
  type        = bool
}

variable "node_pools" {
  description = <<-EOT
    Machine type, autoscaling bounds (totals over the pool's zones) and Spot of each GKE pool, by pool name:
    system, precise, peak-precise, rough, peak-rough, admin, geo, ml. Each pool is labelled
    eta.dev/pool=<workload> (peak-precise: precise, peak-rough: rough), and the peak-* pools also
    eta.dev/capacity=peak.
  EOT
  type = map(object({
    machine_type = string
    min_nodes    = number
    max_nodes    = number
    spot         = optional(bool, false)
  }))

  validation {
    condition     = alltrue([for name in keys(var.node_pools) : contains(["system", "precise", "peak-precise", "rough", "peak-rough", "admin", "geo", "ml"], name)])
    error_message = "node_pools keys must be among system, precise, peak-precise, rough, peak-rough, admin, geo, ml."
  }
}

variable "redis_high_availability" {
  description = "Memorystore STANDARD_HA (a replica in another zone) instead of BASIC."
  type        = bool
}

variable "redis_memory_size_gb" {
  description = "Memorystore capacity in GB."
  type        = number
}

variable "postgres_tier" {
  description = "Cloud SQL machine tier (db-custom-<vCPU>-<MB>)."
  type        = string
}

variable "postgres_disk_size_gb" {
  description = "Cloud SQL disk size in GB."
  type        = number
}

variable "postgres_high_availability" {
  description = "Cloud SQL REGIONAL (a standby in another zone) instead of ZONAL."
  type        = bool
}

variable "postgres_backups" {
  description = "Cloud SQL automated backups and point-in-time recovery."
  type        = bool
}

variable "postgres_retained_backups" {
  description = "Cloud SQL backups kept."
  type        = number
}

variable "bigquery_dataset_id" {
  description = "The training sink's BigQuery dataset (e.g. eta_prod)."
  type        = string
}

variable "training_rows_partition_expiration_days" {
  description = "Days the training_rows partitions are kept; null = forever."
  type        = number
}

variable "predictions_partition_expiration_days" {
  description = "Days the predictions partitions are kept; null = forever."
  type        = number
}

variable "kafka_partitions" {
  description = "Partitions of the topics orders, predictions and settings-changed (and of their .dlq)."
  type = object({
    orders           = number
    predictions      = number
    settings_changed = number
  })
}

variable "confluent_environment_id" {
  description = "Existing Confluent Cloud environment (env-...)."
  type        = string
}

variable "confluent_cluster_id" {
  description = "Existing Kafka cluster (lkc-...) for this environment; the same one the confluent provider's kafka_id names."
  type        = string
}

variable "datadog_notify" {
  description = "Notification handles for the SLO monitors (e.g. @slack-eta-alerts)."
  type        = list(string)
  default     = []
}

# The monitors' thresholds that an environment may loosen; the defaults are the SLOs (terraform/README.md,
# the datadog-monitors module's defaults).
variable "slow_share_critical_percent" {
  description = "Alert when more than this percentage of estimates is slower than the p99 SLO."
  type        = number
  default     = 1
}

variable "slow_share_warning_percent" {
  description = "Warn when more than this percentage of estimates is slower than the p99 SLO."
  type        = number
  default     = 0.5
}

variable "error_rate_critical_percent" {
  description = "Alert above this 5xx share per service, in percent."
  type        = number
  default     = 1
}

variable "error_rate_warning_percent" {
  description = "Warn above this 5xx share per service, in percent."
  type        = number
  default     = 0.5
}
