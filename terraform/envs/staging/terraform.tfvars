# Example values; none of them is a secret. Replace the ids with the real ones for this environment.
project_id = "eta-staging"

master_authorized_networks = [
  { cidr_block = "203.0.113.0/24", display_name = "operators (example)" },
]

confluent_environment_id      = "env-staging00"
confluent_cluster_id          = "lkc-staging00"
confluent_kafka_rest_endpoint = "https://pkc-staging00.asia-northeast3.gcp.confluent.cloud:443"

datadog_api_url = "https://ap1.datadoghq.com/"
datadog_notify  = ["@slack-eta-staging-alerts"]
