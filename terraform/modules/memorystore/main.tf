# Redis for the BFF's L2 cache and cross-pod invalidation (@eta/cache) and for Geo's live per-dong
# statistics. Reached over private services access only, with AUTH and in-transit TLS.
resource "google_redis_instance" "this" {
  project        = var.project_id
  name           = var.name
  display_name   = "ETA suite Redis (${var.name})"
  region         = var.region
  tier           = var.high_availability ? "STANDARD_HA" : "BASIC"
  memory_size_gb = var.memory_size_gb
  redis_version  = var.redis_version
  labels         = var.labels

  authorized_network = var.network_id
  connect_mode       = "PRIVATE_SERVICE_ACCESS"
  reserved_ip_range  = var.reserved_ip_range

  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"

  deletion_protection = var.deletion_protection

  # Tuesday 03:00 Asia/Seoul (18:00 UTC on Monday), far from the meal peaks.
  maintenance_policy {
    weekly_maintenance_window {
      day = "MONDAY"
      start_time {
        hours   = 18
        minutes = 0
        seconds = 0
        nanos   = 0
      }
    }
  }
}

# The AUTH string, for whoever builds REDIS_URL (rediss://:<auth>@<host>:<port>). Google generates it, so
# it is an attribute of the instance and therefore in the Terraform state; the secret version is written
# with a write-only argument, which adds no second copy.
resource "google_secret_manager_secret" "auth" {
  project   = var.project_id
  secret_id = "${var.name}-auth"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "auth" {
  secret                 = google_secret_manager_secret.auth.id
  secret_data_wo         = google_redis_instance.this.auth_string
  secret_data_wo_version = var.auth_secret_version
}
