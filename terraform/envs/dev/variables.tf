# What terraform.tfvars sets; everything else of this environment is in main.tf.
variable "project_id" {
  description = "The Google Cloud project of this environment."
  type        = string
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the GKE control plane's public endpoint (CI runners, operators)."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  default = []
}

variable "confluent_environment_id" {
  description = "Existing Confluent Cloud environment (env-...)."
  type        = string
}

variable "confluent_cluster_id" {
  description = "Existing Kafka cluster (lkc-...) for this environment."
  type        = string
}

variable "confluent_kafka_rest_endpoint" {
  description = "That cluster's REST endpoint (https://pkc-....confluent.cloud:443)."
  type        = string
}

variable "datadog_api_url" {
  description = "Datadog site API URL (https://api.datadoghq.com/, https://ap1.datadoghq.com/, ...)."
  type        = string
  default     = "https://api.datadoghq.com/"
}

variable "datadog_notify" {
  description = "Notification handles for the SLO monitors (e.g. @slack-eta-alerts)."
  type        = list(string)
  default     = []
}
