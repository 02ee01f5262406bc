# Confluent gives the endpoint with its protocol (SASL_SSL://pkc-....confluent.cloud:9092); KAFKA_BROKERS
# is host:port, and the protocol is the services' KAFKA_SSL and KAFKA_SASL_MECHANISM.
output "bootstrap_endpoint" {
  description = "The cluster's bootstrap endpoint as host:port, without its SASL_SSL:// scheme (KAFKA_BROKERS)."
  value       = replace(data.confluent_kafka_cluster.this.bootstrap_endpoint, "/^[A-Za-z_]+:\\/\\//", "")
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
