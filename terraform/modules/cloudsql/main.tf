# Postgres for the BFF's stores, settings and audit records. Private IP only (private services access),
# TLS required; HA, backups and point-in-time recovery per environment.
resource "google_sql_database_instance" "this" {
  project             = var.project_id
  name                = var.name
  region              = var.region
  database_version    = var.database_version
  deletion_protection = var.deletion_protection

  settings {
    # ENTERPRISE explicitly: for POSTGRES_16 and later the API would default to ENTERPRISE_PLUS, which
    # takes only db-perf-optimized-* tiers.
    edition                     = "ENTERPRISE"
    tier                        = var.tier
    availability_type           = var.high_availability ? "REGIONAL" : "ZONAL"
    disk_type                   = "PD_SSD"
    disk_size                   = var.disk_size_gb
    disk_autoresize             = true
    deletion_protection_enabled = var.deletion_protection
    user_labels                 = var.labels

    ip_configuration {
      ipv4_enabled    = false
      private_network = var.network_id
      ssl_mode        = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = var.backups
      point_in_time_recovery_enabled = var.backups
      # 02:00 Asia/Seoul.
      start_time                     = "17:00"
      transaction_log_retention_days = var.backups ? var.log_retention_days : null

      backup_retention_settings {
        retained_backups = var.retained_backups
        retention_unit   = "COUNT"
      }
    }

    # Sunday 03:00 Asia/Seoul = Saturday 18:00 UTC (day 6).
    maintenance_window {
      day          = 6
      hour         = 18
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled = true
    }
  }
}

resource "google_sql_database" "this" {
  project  = var.project_id
  instance = google_sql_database_instance.this.name
  name     = var.database_name
}

# The application user's password: generated for this run only (an ephemeral resource), written to Secret
# Manager and to Cloud SQL through write-only arguments, so no copy of it lands in the Terraform state.
# To rotate, bump password_version: both get a new one in the same apply.
ephemeral "random_password" "user" {
  length  = 32
  special = false
}

resource "google_secret_manager_secret" "password" {
  project   = var.project_id
  secret_id = "${var.name}-${var.user_name}-password"
  labels    = var.labels

  replication {
    auto {}
  }
}

resource "google_secret_manager_secret_version" "password" {
  secret                 = google_secret_manager_secret.password.id
  secret_data_wo         = ephemeral.random_password.user.result
  secret_data_wo_version = var.password_version
}

resource "google_sql_user" "this" {
  project             = var.project_id
  instance            = google_sql_database_instance.this.name
  name                = var.user_name
  password_wo         = ephemeral.random_password.user.result
  password_wo_version = var.password_version
}
