output "cluster_name" {
  description = "GKE cluster name."
  value       = module.gke.cluster_name
}

output "get_credentials" {
  description = "Command that points kubectl at the cluster."
  value       = "gcloud container clusters get-credentials ${module.gke.cluster_name} --location ${module.gke.location} --project ${var.project_id}"
}

output "node_pools" {
  description = "GKE node pools: pool label and autoscaling bounds."
  value       = module.gke.node_pools
}

output "image_registry" {
  description = "The charts' global.imageRegistry."
  value       = module.artifact_registry.image_registry
}

output "images_repository" {
  description = "Where CI pushes the images (<this>/<name>:<git SHA>)."
  value       = module.artifact_registry.images_repository
}

output "charts_registry" {
  description = "OCI registry of the Helm charts."
  value       = module.artifact_registry.charts_registry
}

output "redis" {
  description = "Memorystore host and port (TLS), and the Secret Manager secret with its AUTH string."
  value = {
    host           = module.memorystore.host
    port           = module.memorystore.port
    auth_secret_id = module.memorystore.auth_secret_id
  }
}

output "redis_server_ca_certs" {
  description = "CA certificates clients must trust for rediss:// (e.g. via NODE_EXTRA_CA_CERTS)."
  value       = module.memorystore.server_ca_certs
}

output "postgres" {
  description = "Cloud SQL private address, database, user and the secret with the user's password."
  value = {
    connection_name    = module.cloudsql.connection_name
    private_ip_address = module.cloudsql.private_ip_address
    database           = module.cloudsql.database_name
    user               = module.cloudsql.user_name
    password_secret_id = module.cloudsql.password_secret_id
  }
}

output "postgres_server_ca_cert" {
  description = "CA certificate of the Cloud SQL server, for clients that verify it."
  value       = module.cloudsql.server_ca_cert
}

output "service_account_annotations" {
  description = "Per Kubernetes ServiceAccount (<namespace>/<name>), the workload identity annotation for the charts' serviceAccount.annotations."
  value       = module.workload_identity.service_account_annotations
}

output "bigquery_tables" {
  description = "The training sink's tables."
  value = {
    training_rows = module.bigquery.training_rows_table
    predictions   = module.bigquery.predictions_table
  }
}

output "kafka_bootstrap_endpoint" {
  description = "KAFKA_BROKERS for the services."
  value       = module.confluent.bootstrap_endpoint
}

output "kafka_topics" {
  description = "Topics created on the Confluent cluster."
  value       = module.confluent.topics
}

output "kafka_api_keys" {
  description = "Kafka API keys by role (producer: vendor-bff; consumer: the event consumer); terraform output -json kafka_api_keys."
  sensitive   = true
  value       = module.confluent.api_keys
}

output "datadog_monitor_ids" {
  description = "Datadog monitor ids by SLO."
  value       = module.datadog_monitors.monitor_ids
}
