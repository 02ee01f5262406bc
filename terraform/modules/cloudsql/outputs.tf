output "instance_name" {
  description = "The instance's name."
  value       = google_sql_database_instance.this.name
}

output "connection_name" {
  description = "<project>:<region>:<instance>, for the Cloud SQL Auth Proxy or connectors."
  value       = google_sql_database_instance.this.connection_name
}

output "private_ip_address" {
  description = "The instance's private IP address."
  value       = google_sql_database_instance.this.private_ip_address
}

output "server_ca_cert" {
  description = "PEM certificate of the instance's server CA, for clients that verify the server."
  value       = google_sql_database_instance.this.server_ca_cert[0].cert
}

output "database_name" {
  description = "The database's name."
  value       = google_sql_database.this.name
}

output "user_name" {
  description = "The application user's name."
  value       = google_sql_user.this.name
}

output "password_secret_id" {
  description = "Secret Manager secret holding the user's password (projects/<project>/secrets/<name>-<user>-password)."
  value       = google_secret_manager_secret.password.id
}
