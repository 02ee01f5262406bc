locals {
  region = "asia-northeast3" # Seoul; also the google provider's default region (providers.tf)
}

# Production: regional cluster on the STABLE channel, n2 pools, HA Redis and Postgres with backups and
# PITR, deletion protection on. The composition itself is modules/stack.
module "stack" {
  source = "../../modules/stack"

  env                        = "prod"
  name                       = "eta-prod"
  project_id                 = var.project_id
  region                     = local.region
  master_authorized_networks = var.master_authorized_networks
  confluent_environment_id   = var.confluent_environment_id
  confluent_cluster_id       = var.confluent_cluster_id
  datadog_notify             = var.datadog_notify

  admin_namespace     = "eta-admin" # deploy/values/prod.yaml
  release_channel     = "STABLE"
  deletion_protection = true

  node_pools = {
    system         = { machine_type = "n2-standard-2", min_nodes = 3, max_nodes = 6 }
    precise        = { machine_type = "n2-standard-4", min_nodes = 3, max_nodes = 9 }
    "peak-precise" = { machine_type = "n2-standard-4", min_nodes = 0, max_nodes = 9 }
    rough          = { machine_type = "n2-standard-4", min_nodes = 3, max_nodes = 6 }
    "peak-rough"   = { machine_type = "n2-standard-4", min_nodes = 0, max_nodes = 6 }
    admin          = { machine_type = "n2-standard-2", min_nodes = 3, max_nodes = 3 }
    geo            = { machine_type = "n2-standard-2", min_nodes = 3, max_nodes = 6 }
    ml             = { machine_type = "n2-standard-4", min_nodes = 3, max_nodes = 6 }
  }

  redis_high_availability = true
  redis_memory_size_gb    = 5

  postgres_tier              = "db-custom-4-15360"
  postgres_disk_size_gb      = 50
  postgres_high_availability = true
  postgres_backups           = true
  postgres_retained_backups  = 14

  bigquery_dataset_id                     = "eta_prod"
  training_rows_partition_expiration_days = null
  predictions_partition_expiration_days   = 400

  kafka_partitions = { orders = 12, predictions = 12, settings_changed = 3 }
}
