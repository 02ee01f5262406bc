# The stack's outputs, forwarded under the same names and descriptions: `terraform output <name>` (this
# README's table, docs/runbooks/deploy.md) reads them here.

output "cluster_name" {
  description = "GKE cluster name."
  value       = module.stack.cluster_name
}

output "get_credentials" {
  description = "Command that points kubectl at the cluster."
  value       = module.stack.get_credentials
}

output "node_pools" {
  description = "GKE node pools: pool label and autoscaling bounds."
  value       = module.stack.node_pools
}

output "image_registry" {
  description = "The charts' global.imageRegistry."
  value       = module.stack.image_registry
}

output "images_repository" {
  description = "Where CI pushes the images (<this>/<name>:<git SHA>)."
  value       = module.stack.images_repository
}

output "charts_registry" {
  description = "OCI registry of the Helm charts."
  value       = module.stack.charts_registry
}

output "redis" {
  description = "Memorystore host and port (TLS), and the Secret Manager secret with its AUTH string."
  value       = module.stack.redis
}

output "redis_server_ca_certs" {
  description = "CA certificates clients must trust for rediss:// (e.g. via NODE_EXTRA_CA_CERTS)."
  value       = module.stack.redis_server_ca_certs
}

output "postgres" {
  description = "Cloud SQL private address, database, user and the secret with the user's password."
  value       = module.stack.postgres
}

output "postgres_server_ca_cert" {
  description = "CA certificate of the Cloud SQL server, for clients that verify it."
  value       = module.stack.postgres_server_ca_cert
}

output "service_account_annotations" {
  description = "Per Kubernetes ServiceAccount (<namespace>/<name>), the workload identity annotation for the charts' serviceAccount.annotations."
  value       = module.stack.service_account_annotations
}

output "bigquery_tables" {
  description = "The training sink's tables."
  value       = module.stack.bigquery_tables
}

output "kafka_bootstrap_endpoint" {
  description = "KAFKA_BROKERS for the services."
  value       = module.stack.kafka_bootstrap_endpoint
}

output "kafka_topics" {
  description = "Topics created on the Confluent cluster."
  value       = module.stack.kafka_topics
}

output "kafka_api_keys" {
  description = "Kafka API keys by role (producer: vendor-bff; consumer: the event consumer); terraform output -json kafka_api_keys."
  sensitive   = true
  value       = module.stack.kafka_api_keys
}

output "datadog_monitor_ids" {
  description = "Datadog monitor ids by SLO."
  value       = module.stack.datadog_monitor_ids
}
