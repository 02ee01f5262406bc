locals {
  env  = "prod"
  name = "eta-prod"
  labels = {
    app = "eta-suite"
    env = "prod"
  }

  # The charts' names with release "eta" (charts/README.md, "Names"); the BFF's admin role runs in
  # "eta-admin" (deploy/values/prod.yaml).
  release         = "eta"
  namespace       = "eta"
  admin_namespace = "eta-admin"
}

module "project_services" {
  source = "../../modules/project-services"

  project_id = var.project_id
}

module "network" {
  source = "../../modules/network"

  project_id            = var.project_id
  region                = var.region
  name                  = local.name
  nodes_cidr            = "10.10.0.0/20"
  pods_cidr             = "10.16.0.0/14"
  services_cidr         = "10.20.0.0/20"
  private_services_cidr = "10.30.0.0/20"

  depends_on = [module.project_services]
}

module "gke" {
  source = "../../modules/gke"

  project_id                 = var.project_id
  name                       = local.name
  location                   = var.region
  network_id                 = module.network.network_id
  subnetwork_id              = module.network.subnetwork_id
  pods_range_name            = module.network.pods_range_name
  services_range_name        = module.network.services_range_name
  master_authorized_networks = var.master_authorized_networks
  release_channel            = "STABLE"
  deletion_protection        = true
  labels                     = local.labels

  # One pool per workload, labelled eta.dev/pool=<pool> as the charts select. The suite's placeholders
  # pre-warm the precise and rough pools before each meal peak; the peak-* pools (min 0) carry the same
  # pool label and hold the capacity above the off-peak ceiling, so that the pre-scaling's placeholders
  # and the pods that preempt them can land there. "system" takes what has no pool: kube-system, the
  # prescaler's Jobs, agents.
  node_pools = {
    system = {
      pool         = "system"
      machine_type = "n2-standard-2"
      min_nodes    = 3
      max_nodes    = 6
    }
    precise = {
      pool         = "precise"
      machine_type = "n2-standard-4"
      min_nodes    = 3
      max_nodes    = 9
    }
    peak-precise = {
      pool         = "precise"
      machine_type = "n2-standard-4"
      min_nodes    = 0
      max_nodes    = 9
      labels       = { "eta.dev/capacity" = "peak" }
    }
    rough = {
      pool         = "rough"
      machine_type = "n2-standard-4"
      min_nodes    = 3
      max_nodes    = 6
    }
    peak-rough = {
      pool         = "rough"
      machine_type = "n2-standard-4"
      min_nodes    = 0
      max_nodes    = 6
      labels       = { "eta.dev/capacity" = "peak" }
    }
    admin = {
      pool         = "admin"
      machine_type = "n2-standard-2"
      min_nodes    = 3
      max_nodes    = 3
    }
    geo = {
      pool         = "geo"
      machine_type = "n2-standard-2"
      min_nodes    = 3
      max_nodes    = 6
    }
    ml = {
      pool         = "ml"
      machine_type = "n2-standard-4"
      min_nodes    = 3
      max_nodes    = 6
    }
  }

  depends_on = [module.project_services]
}

module "memorystore" {
  source = "../../modules/memorystore"

  project_id          = var.project_id
  region              = var.region
  name                = "${local.name}-redis"
  network_id          = module.network.network_id
  reserved_ip_range   = module.network.private_services_range_name
  high_availability   = true
  memory_size_gb      = 5
  deletion_protection = true
  labels              = local.labels

  depends_on = [module.network]
}

module "cloudsql" {
  source = "../../modules/cloudsql"

  project_id          = var.project_id
  region              = var.region
  name                = "${local.name}-pg"
  network_id          = module.network.network_id
  tier                = "db-custom-4-15360"
  disk_size_gb        = 50
  high_availability   = true
  backups             = true
  retained_backups    = 14
  deletion_protection = true
  labels              = local.labels

  depends_on = [module.network]
}

module "artifact_registry" {
  source = "../../modules/artifact-registry"

  project_id     = var.project_id
  location       = var.region
  reader_members = { gke-nodes = "serviceAccount:${module.gke.node_service_account_email}" }
  writer_members = var.ci_members
  labels         = local.labels

  depends_on = [module.project_services]
}

module "workload_identity" {
  source = "../../modules/workload-identity"

  project_id = var.project_id
  # One project per environment, so the accounts are eta-<service>@<project>, as deploy/values/*.yaml
  # annotate the ServiceAccounts.
  name_prefix = "eta"

  services = {
    vendor-bff = {
      description = "vendor-bff, all three roles: Postgres (Cloud SQL) and Redis"
      kubernetes_service_accounts = [
        { namespace = local.namespace, name = "${local.release}-vendor-bff-precise" },
        { namespace = local.namespace, name = "${local.release}-vendor-bff-rough" },
        { namespace = local.admin_namespace, name = "${local.release}-vendor-bff-admin" },
      ]
      project_roles = ["roles/cloudsql.client"]
      secrets = {
        db-password = module.cloudsql.password_secret_id
        redis-auth  = module.memorystore.auth_secret_id
      }
    }
    geo = {
      description                 = "geo: live per-dong statistics in Redis"
      kubernetes_service_accounts = [{ namespace = local.namespace, name = "${local.release}-geo" }]
      secrets                     = { redis-auth = module.memorystore.auth_secret_id }
    }
    ml-proxy = {
      description                 = "ml-proxy: no Google API today"
      kubernetes_service_accounts = [{ namespace = local.namespace, name = "${local.release}-ml-proxy" }]
    }
    prescaler = {
      description                 = "prescaler: Kubernetes API only (RBAC in the chart), no Google API"
      kubernetes_service_accounts = [{ namespace = local.namespace, name = "${local.release}-prescaler" }]
    }
    # Not built yet (a later issue): the Kafka consumer that writes BigQuery, and the model trainer.
    events-consumer = {
      description                 = "events consumer and BigQuery sink (future)"
      kubernetes_service_accounts = [{ namespace = local.namespace, name = "${local.release}-events-consumer" }]
    }
    trainer = {
      description                 = "model trainer (future): reads the training dataset"
      kubernetes_service_accounts = [{ namespace = local.namespace, name = "${local.release}-trainer" }]
      project_roles               = ["roles/bigquery.jobUser"]
    }
  }

  depends_on = [module.gke]
}

module "bigquery" {
  source = "../../modules/bigquery"

  project_id                              = var.project_id
  env                                     = local.env
  dataset_id                              = "eta_prod"
  location                                = var.region
  deletion_protection                     = true
  training_rows_partition_expiration_days = null
  predictions_partition_expiration_days   = 400
  editor_members                          = { events-consumer = module.workload_identity.members["events-consumer"] }
  viewer_members                          = { trainer = module.workload_identity.members["trainer"] }
  labels                                  = local.labels

  depends_on = [module.project_services]
}

module "confluent" {
  source = "../../modules/confluent"

  environment_id = var.confluent_environment_id
  cluster_id     = var.confluent_cluster_id
  name_prefix    = local.name

  # 7 days of orders and settings changes, 3 of predictions (the sink copies them to BigQuery); each with
  # a <topic>.dlq for what the consumer cannot handle.
  topics = {
    orders             = { partitions = 12, retention_ms = 604800000, dlq = true }
    predictions        = { partitions = 12, retention_ms = 259200000, dlq = true }
    "settings-changed" = { partitions = 3, retention_ms = 604800000, dlq = true }
  }
  producer_topics       = ["predictions", "settings-changed"]
  consumer_topics       = ["orders", "predictions", "settings-changed"]
  consumer_group_prefix = "eta-"
}

module "datadog_monitors" {
  source = "../../modules/datadog-monitors"

  env    = local.env
  notify = var.datadog_notify
}
