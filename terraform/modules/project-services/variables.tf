variable "project_id" {
  description = "The Google Cloud project the suite runs in."
  type        = string
}

variable "services" {
  description = "API service names to enable, e.g. container.googleapis.com."
  type        = list(string)
  default = [
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "redis.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
  ]
}
