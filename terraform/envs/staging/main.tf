locals {
  region = "asia-northeast3" # Seoul; also the google provider's default region (providers.tf)
}

# Staging: production's shape (regional cluster, n2 pools, backups and PITR, deletion protection on) at
# smaller sizes, on the REGULAR channel, without HA. The composition itself is modules/stack.
module "stack" {
  source = "../../modules/stack"

  env                        = "staging"
  name                       = "eta-staging"
  project_id                 = var.project_id
  region                     = local.region
  master_authorized_networks = var.master_authorized_networks
  confluent_environment_id   = var.confluent_environment_id
  confluent_cluster_id       = var.confluent_cluster_id
  datadog_notify             = var.datadog_notify

  admin_namespace     = "eta-admin" # as in production (deploy/values/staging.yaml)
  release_channel     = "REGULAR"
  deletion_protection = true

  node_pools = {
    system         = { machine_type = "n2-standard-2", min_nodes = 3, max_nodes = 3 }
    precise        = { machine_type = "n2-standard-4", min_nodes = 3, max_nodes = 3 }
    "peak-precise" = { machine_type = "n2-standard-4", min_nodes = 0, max_nodes = 6 }
    rough          = { machine_type = "n2-standard-4", min_nodes = 3, max_nodes = 3 }
    "peak-rough"   = { machine_type = "n2-standard-4", min_nodes = 0, max_nodes = 3 }
    admin          = { machine_type = "n2-standard-2", min_nodes = 3, max_nodes = 3 }
    geo            = { machine_type = "n2-standard-2", min_nodes = 3, max_nodes = 3 }
    ml             = { machine_type = "n2-standard-4", min_nodes = 3, max_nodes = 3 }
  }

  redis_high_availability = false
  redis_memory_size_gb    = 2

  postgres_tier              = "db-custom-2-7680"
  postgres_disk_size_gb      = 20
  postgres_high_availability = false
  postgres_backups           = true
  postgres_retained_backups  = 7

  bigquery_dataset_id                     = "eta_staging"
  training_rows_partition_expiration_days = null
  predictions_partition_expiration_days   = 90

  kafka_partitions = { orders = 6, predictions = 6, settings_changed = 3 }
}
