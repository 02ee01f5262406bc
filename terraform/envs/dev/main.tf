locals {
  region = "asia-northeast3" # Seoul; also the google provider's default region (providers.tf)
}

# Dev: a zonal cluster with small e2 pools (the peak pools on Spot), no HA, no backups, no deletion
# protection, and looser monitors. The composition itself is modules/stack.
module "stack" {
  source = "../../modules/stack"

  env                        = "dev"
  name                       = "eta-dev"
  project_id                 = var.project_id
  region                     = local.region
  cluster_location           = "asia-northeast3-a"
  master_authorized_networks = var.master_authorized_networks
  confluent_environment_id   = var.confluent_environment_id
  confluent_cluster_id       = var.confluent_cluster_id
  datadog_notify             = var.datadog_notify

  admin_namespace     = "eta" # like the other roles here
  release_channel     = "REGULAR"
  deletion_protection = false

  node_pools = {
    system         = { machine_type = "e2-standard-2", min_nodes = 1, max_nodes = 2 }
    precise        = { machine_type = "e2-standard-4", min_nodes = 1, max_nodes = 2 }
    "peak-precise" = { machine_type = "e2-standard-4", min_nodes = 0, max_nodes = 2, spot = true }
    rough          = { machine_type = "e2-standard-4", min_nodes = 1, max_nodes = 2 }
    "peak-rough"   = { machine_type = "e2-standard-4", min_nodes = 0, max_nodes = 2, spot = true }
    admin          = { machine_type = "e2-standard-2", min_nodes = 1, max_nodes = 1 }
    geo            = { machine_type = "e2-standard-2", min_nodes = 1, max_nodes = 2 }
    ml             = { machine_type = "e2-standard-2", min_nodes = 1, max_nodes = 2 }
  }

  redis_high_availability = false
  redis_memory_size_gb    = 1

  postgres_tier              = "db-custom-1-3840"
  postgres_disk_size_gb      = 10
  postgres_high_availability = false
  postgres_backups           = false
  postgres_retained_backups  = 7

  bigquery_dataset_id                     = "eta_dev"
  training_rows_partition_expiration_days = 90
  predictions_partition_expiration_days   = 30

  kafka_partitions = { orders = 3, predictions = 3, settings_changed = 1 }

  # Dev is not held to the SLOs: its monitors only warn loudly when something is badly off.
  slow_share_critical_percent = 5
  slow_share_warning_percent  = 2
  error_rate_critical_percent = 5
  error_rate_warning_percent  = 2
}
