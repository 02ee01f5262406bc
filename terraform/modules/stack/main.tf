locals {
  labels = {
    app = "eta-suite"
    env = var.env
  }

  # The charts' names with release "eta" (charts/README.md, "Names"); the BFF's admin role runs in
  # var.admin_namespace (deploy/values/<env>.yaml).
  release   = "eta"
  namespace = "eta"

  # The pool label value of each GKE pool (the charts' nodePool), and the peak pools' extra label.
  pool_labels = {
    system         = "system"
    precise        = "precise"
    "peak-precise" = "precise"
    rough          = "rough"
    "peak-rough"   = "rough"
    admin          = "admin"
    geo            = "geo"
    ml             = "ml"
  }
  peak_labels = { "eta.dev/capacity" = "peak" }
}

module "project_services" {
  source = "../project-services"

  project_id = var.project_id
}

module "network" {
  source = "../network"

  project_id            = var.project_id
  region                = var.region
  name                  = var.name
  nodes_cidr            = "10.10.0.0/20"
  pods_cidr             = "10.16.0.0/14"
  services_cidr         = "10.20.0.0/20"
  private_services_cidr = "10.30.0.0/20"

  depends_on = [module.project_services]
}

module "gke" {
  source = "../gke"

  project_id                 = var.project_id
  name                       = var.name
  location                   = coalesce(var.cluster_location, var.region)
  network_id                 = module.network.network_id
  subnetwork_id              = module.network.subnetwork_id
  pods_range_name            = module.network.pods_range_name
  services_range_name        = module.network.services_range_name
  master_authorized_networks = var.master_authorized_networks
  release_channel            = var.release_channel
  deletion_protection        = var.deletion_protection
  labels                     = local.labels

  # One pool per workload, labelled eta.dev/pool=<pool> as the charts select. The suite's placeholders
  # pre-warm the precise and rough pools before each meal peak; the peak-* pools (min 0) carry the same
  # pool label and hold the capacity above the off-peak ceiling, so that the pre-scaling's placeholders
  # and the pods that preempt them can land there. "system" takes what has no pool: kube-system, the
  # prescaler's Jobs, agents.
  node_pools = {
    for name, p in var.node_pools : name => {
      pool         = local.pool_labels[name]
      machine_type = p.machine_type
      min_nodes    = p.min_nodes
      max_nodes    = p.max_nodes
      spot         = p.spot
      labels       = { for k, v in local.peak_labels : k => v if startswith(name, "peak-") }
    }
  }

  depends_on = [module.project_services]
}

module "memorystore" {
  source = "../memorystore"

  project_id          = var.project_id
  region              = var.region
  name                = "${var.name}-redis"
  network_id          = module.network.network_id
  reserved_ip_range   = module.network.private_services_range_name
  high_availability   = var.redis_high_availability
  memory_size_gb      = var.redis_memory_size_gb
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [module.network]
}

module "cloudsql" {
  source = "../cloudsql"

  project_id          = var.project_id
  region              = var.region
  name                = "${var.name}-pg"
  network_id          = module.network.network_id
  tier                = var.postgres_tier
  disk_size_gb        = var.postgres_disk_size_gb
  high_availability   = var.postgres_high_availability
  backups             = var.postgres_backups
  retained_backups    = var.postgres_retained_backups
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [module.network]
}

module "artifact_registry" {
  source = "../artifact-registry"

  project_id     = var.project_id
  location       = var.region
  reader_members = { gke-nodes = "serviceAccount:${module.gke.node_service_account_email}" }
  writer_members = var.ci_members
  labels         = local.labels

  depends_on = [module.project_services]
}

module "workload_identity" {
  source = "../workload-identity"

  project_id = var.project_id
  # One project per environment, so the accounts are eta-<service>@<project>, as deploy/values/*.yaml
  # annotate the ServiceAccounts.
  name_prefix = "eta"

  services = {
    # One account for the service, bound to each role's own ServiceAccount: every role, the events role's
    # consumers included, reads and writes the same Postgres and Redis (deploy/values/<env>.yaml annotate
    # them through roles.default). The events role has an account of its own only because it alone ships
    # training rows to BigQuery (docs/adr/0007-training-rows.md): the serving roles get no BigQuery grant.
    vendor-bff = {
      description = "vendor-bff, the serving roles (precise, rough, admin): Postgres (Cloud SQL) and Redis"
      kubernetes_service_accounts = [
        { namespace = local.namespace, name = "${local.release}-vendor-bff-precise" },
        { namespace = local.namespace, name = "${local.release}-vendor-bff-rough" },
        { namespace = var.admin_namespace, name = "${local.release}-vendor-bff-admin" },
      ]
      project_roles = ["roles/cloudsql.client"]
      secrets = {
        db-password = module.cloudsql.password_secret_id
        redis-auth  = module.memorystore.auth_secret_id
      }
    }
    vendor-bff-events = {
      description                 = "vendor-bff ROLE=events: Postgres, Redis, and the training rows it ships to BigQuery"
      kubernetes_service_accounts = [{ namespace = local.namespace, name = "${local.release}-vendor-bff-events" }]
      project_roles               = ["roles/cloudsql.client"]
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
    # The ML proxy chart's retrain CronJob (its own ServiceAccount, <fullname>-retrain): reads the training
    # rows (image eta/ml). The CronJob is off by default: its volumes and source have no defaults.
    trainer = {
      description                 = "the retrain job: reads the training dataset"
      kubernetes_service_accounts = [{ namespace = local.namespace, name = "${local.release}-ml-proxy-retrain" }]
      project_roles               = ["roles/bigquery.jobUser"]
    }
  }

  depends_on = [module.gke]
}

module "bigquery" {
  source = "../bigquery"

  project_id                              = var.project_id
  env                                     = var.env
  dataset_id                              = var.bigquery_dataset_id
  location                                = var.region
  deletion_protection                     = var.deletion_protection
  training_rows_partition_expiration_days = var.training_rows_partition_expiration_days
  predictions_partition_expiration_days   = var.predictions_partition_expiration_days
  editor_members                          = { vendor-bff-events = module.workload_identity.members["vendor-bff-events"] }
  viewer_members                          = { trainer = module.workload_identity.members["trainer"] }
  labels                                  = local.labels

  depends_on = [module.project_services]
}

module "confluent" {
  source = "../confluent"

  environment_id = var.confluent_environment_id
  cluster_id     = var.confluent_cluster_id
  name_prefix    = var.name

  # 7 days of orders and settings changes, 3 of predictions (the sink copies them to BigQuery); each with
  # a <topic>.dlq for what the consumer cannot handle.
  topics = {
    orders             = { partitions = var.kafka_partitions.orders, retention_ms = 604800000, dlq = true }
    predictions        = { partitions = var.kafka_partitions.predictions, retention_ms = 259200000, dlq = true }
    "settings-changed" = { partitions = var.kafka_partitions.settings_changed, retention_ms = 604800000, dlq = true }
  }
  # The consumer's key is vendor-bff's events role's: its POST /v1/events/orders publishes to orders, and its
  # consumer group (EVENTS_CONSUMER_GROUP, default eta-vendor-bff-events) has the prefix below.
  producer_topics       = ["predictions", "settings-changed"]
  consumer_topics       = ["orders", "predictions", "settings-changed"]
  consumer_write_topics = ["orders"]
  consumer_group_prefix = "eta-"
}

module "datadog_monitors" {
  source = "../datadog-monitors"

  env    = var.env
  notify = var.datadog_notify

  slow_share_critical_percent = var.slow_share_critical_percent
  slow_share_warning_percent  = var.slow_share_warning_percent
  error_rate_critical_percent = var.error_rate_critical_percent
  error_rate_warning_percent  = var.error_rate_warning_percent
}
