# Credentials never live in these files:
# - google: Application Default Credentials (gcloud auth application-default login, or CI's workload
#   identity federation);
# - confluent: CONFLUENT_CLOUD_API_KEY / CONFLUENT_CLOUD_API_SECRET (a Cloud API key: service accounts and
#   API keys) and KAFKA_API_KEY / KAFKA_API_SECRET (a cluster API key with rights to manage topics and ACLs);
# - datadog: DD_API_KEY / DD_APP_KEY.
provider "google" {
  project = var.project_id
  region  = local.region
}

provider "random" {}

provider "confluent" {
  kafka_id            = var.confluent_cluster_id
  kafka_rest_endpoint = var.confluent_kafka_rest_endpoint
}

provider "datadog" {
  api_url = var.datadog_api_url
}
