output "host" {
  description = "The instance's private IP address."
  value       = google_redis_instance.this.host
}

output "port" {
  description = "The instance's port (TLS)."
  value       = google_redis_instance.this.port
}

output "server_ca_certs" {
  description = "PEM certificates of the instance's server CA: clients must trust them (e.g. NODE_EXTRA_CA_CERTS) to connect with rediss://."
  value       = [for c in google_redis_instance.this.server_ca_certs : c.cert]
}

output "auth_secret_id" {
  description = "Secret Manager secret holding the AUTH string (projects/<project>/secrets/<name>-auth)."
  value       = google_secret_manager_secret.auth.id
}
