output "bootstrap_endpoint" {
  description = "The cluster's bootstrap endpoint (KAFKA_BROKERS)."
  value       = data.confluent_kafka_cluster.this.bootstrap_endpoint
}

output "topics" {
  description = "Every topic created, dead-letter topics included."
  value       = sort(keys(confluent_kafka_topic.this))
}

output "service_account_ids" {
  description = "Confluent service account ids by role (producer, consumer)."
  value       = { for role, sa in confluent_service_account.this : role => sa.id }
}

output "api_keys" {
  description = "Kafka API key id and secret by role; put them into Secret Manager or a Kubernetes Secret for the services."
  sensitive   = true
  value       = { for role, k in confluent_api_key.this : role => { id = k.id, secret = k.secret } }
}
