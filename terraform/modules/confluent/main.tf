# Topics, service accounts, API keys and ACLs on an existing Confluent Cloud cluster. The environment and
# cluster are not created here (they are shared and billed outside this project); the env's provider
# block points at the cluster (kafka_id, kafka_rest_endpoint, and a cluster API key from KAFKA_API_KEY /
# KAFKA_API_SECRET), so the topic and ACL resources below carry no credentials of their own.

data "confluent_environment" "this" {
  id = var.environment_id
}

data "confluent_kafka_cluster" "this" {
  id = var.cluster_id

  environment {
    id = data.confluent_environment.this.id
  }
}

locals {
  # Every topic, and a <topic>.dlq beside each one that asks for it.
  dlq_topics = {
    for name, t in var.topics : "${name}.dlq" => {
      partitions   = t.partitions
      retention_ms = var.dlq_retention_ms
      cleanup      = "delete"
    } if t.dlq
  }
  all_topics = merge(
    { for name, t in var.topics : name => { partitions = t.partitions, retention_ms = t.retention_ms, cleanup = t.cleanup } },
    local.dlq_topics,
  )

  # ACL rows: (principal role, resource type, name, pattern, operation).
  producer_acls = merge(
    { for t in var.producer_topics : "producer/topic/${t}/WRITE" => { role = "producer", type = "TOPIC", name = t, pattern = "LITERAL", operation = "WRITE" } },
    { for t in var.producer_topics : "producer/topic/${t}/DESCRIBE" => { role = "producer", type = "TOPIC", name = t, pattern = "LITERAL", operation = "DESCRIBE" } },
    # @eta/events' producer is idempotent.
    { "producer/cluster/IDEMPOTENT_WRITE" = { role = "producer", type = "CLUSTER", name = "kafka-cluster", pattern = "LITERAL", operation = "IDEMPOTENT_WRITE" } },
  )
  consumer_acls = merge(
    { for t in var.consumer_topics : "consumer/topic/${t}/READ" => { role = "consumer", type = "TOPIC", name = t, pattern = "LITERAL", operation = "READ" } },
    { for t in var.consumer_topics : "consumer/topic/${t}/DESCRIBE" => { role = "consumer", type = "TOPIC", name = t, pattern = "LITERAL", operation = "DESCRIBE" } },
    # A message the consumer cannot handle goes to its topic's dead-letter topic.
    { for t in var.consumer_topics : "consumer/topic/${t}.dlq/WRITE" => { role = "consumer", type = "TOPIC", name = "${t}.dlq", pattern = "LITERAL", operation = "WRITE" } if contains(keys(local.dlq_topics), "${t}.dlq") },
    # Topics the consumer's process also publishes to (vendor-bff's events role: its HTTP ingest of orders).
    { for t in var.consumer_write_topics : "consumer/topic/${t}/WRITE" => { role = "consumer", type = "TOPIC", name = t, pattern = "LITERAL", operation = "WRITE" } },
    { "consumer/group/READ" = { role = "consumer", type = "GROUP", name = var.consumer_group_prefix, pattern = "PREFIXED", operation = "READ" } },
  )
}

resource "confluent_kafka_topic" "this" {
  for_each = local.all_topics

  topic_name       = each.key
  partitions_count = each.value.partitions
  config = {
    "cleanup.policy" = each.value.cleanup
    "retention.ms"   = tostring(each.value.retention_ms)
  }
}

resource "confluent_service_account" "this" {
  for_each = toset(["producer", "consumer"])

  display_name = "${var.name_prefix}-${each.key}"
  description  = each.key == "producer" ? "ETA suite ${var.name_prefix}: vendor-bff, publishes ${join(", ", var.producer_topics)}" : "ETA suite ${var.name_prefix}: event consumer and sink, reads ${join(", ", var.consumer_topics)}"
}

# Cluster API keys, one per role. Their secrets are attributes of these resources and so are in the
# Terraform state (there is no write-only form); the state bucket must be readable only by the deployers.
resource "confluent_api_key" "this" {
  for_each = confluent_service_account.this

  display_name = "${var.name_prefix}-${each.key}"
  description  = "Kafka API key of ${each.value.display_name}"

  owner {
    id          = each.value.id
    api_version = each.value.api_version
    kind        = each.value.kind
  }

  managed_resource {
    id          = data.confluent_kafka_cluster.this.id
    api_version = data.confluent_kafka_cluster.this.api_version
    kind        = data.confluent_kafka_cluster.this.kind

    environment {
      id = data.confluent_environment.this.id
    }
  }
}

resource "confluent_kafka_acl" "this" {
  for_each = merge(local.producer_acls, local.consumer_acls)

  resource_type = each.value.type
  resource_name = each.value.name
  pattern_type  = each.value.pattern
  principal     = "User:${confluent_service_account.this[each.value.role].id}"
  host          = "*"
  operation     = each.value.operation
  permission    = "ALLOW"
}
