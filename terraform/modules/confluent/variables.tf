variable "environment_id" {
  description = "Existing Confluent Cloud environment (env-...)."
  type        = string
}

variable "cluster_id" {
  description = "Existing Kafka cluster in that environment (lkc-...); the same one the provider block's kafka_id names."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of service account and API key names (e.g. eta-prod)."
  type        = string
}

variable "topics" {
  description = "Topics by name: partitions, retention in ms (-1 = forever), cleanup.policy, and whether a <name>.dlq dead-letter topic goes with it."
  type = map(object({
    partitions   = number
    retention_ms = number
    cleanup      = optional(string, "delete")
    dlq          = optional(bool, false)
  }))

  validation {
    condition     = alltrue([for n in keys(var.topics) : can(regex("^[a-zA-Z0-9._-]{1,245}$", n))])
    error_message = "Topic names may hold letters, digits, '.', '_' and '-' (the same rule as @eta/events' defineTopic), at most 245 characters (room for .dlq)."
  }
}

variable "dlq_retention_ms" {
  description = "Retention of the dead-letter topics (long enough to inspect and replay)."
  type        = number
  default     = 1209600000
}

variable "producer_topics" {
  description = "Topics the producer (vendor-bff) writes."
  type        = list(string)
}

variable "consumer_topics" {
  description = "Topics the consumer (the event consumer and BigQuery sink) reads; it may write each one's .dlq."
  type        = list(string)
}

variable "consumer_write_topics" {
  description = "Topics the consumer may also write (vendor-bff's events role publishes what its HTTP ingest receives to orders)."
  type        = list(string)
  default     = []
}

variable "consumer_group_prefix" {
  description = "Consumer group ids the consumer may use start with this."
  type        = string
}
