output "network_id" {
  description = "The VPC's id (projects/<project>/global/networks/<name>), for Cloud SQL's private_network and Memorystore's authorized_network."
  value       = google_compute_network.this.id
}

output "network_name" {
  description = "The VPC's name."
  value       = google_compute_network.this.name
}

output "subnetwork_id" {
  description = "The node subnet's id."
  value       = google_compute_subnetwork.nodes.id
}

output "pods_range_name" {
  description = "Name of the subnet's secondary range for pods."
  value       = local.pods_range_name
}

output "services_range_name" {
  description = "Name of the subnet's secondary range for Services."
  value       = local.services_range_name
}

output "private_services_range_name" {
  description = "Name of the range allocated to private services access."
  value       = google_compute_global_address.private_services.name
}

output "private_services_connection" {
  description = "Id of the private services access peering; Cloud SQL and Memorystore must be created after it."
  value       = google_service_networking_connection.private_services.id
}
