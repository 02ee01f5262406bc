output "cluster_name" {
  description = "The cluster's name (for gcloud container clusters get-credentials)."
  value       = google_container_cluster.this.name
}

output "cluster_id" {
  description = "The cluster's id (projects/<project>/locations/<location>/clusters/<name>)."
  value       = google_container_cluster.this.id
}

output "location" {
  description = "The cluster's location (region or zone)."
  value       = google_container_cluster.this.location
}

output "endpoint" {
  description = "The control plane's endpoint."
  value       = google_container_cluster.this.endpoint
}

output "cluster_ca_certificate" {
  description = "The cluster's CA certificate (base64 PEM)."
  value       = google_container_cluster.this.master_auth[0].cluster_ca_certificate
}

output "workload_pool" {
  description = "The workload identity pool (<project>.svc.id.goog)."
  value       = local.workload_pool
}

output "node_service_account_email" {
  description = "The nodes' service account (give it read access to the image repository)."
  value       = google_service_account.nodes.email
}

output "node_pools" {
  description = "Per GKE node pool: the pool label value and the autoscaling bounds."
  value = {
    for name, p in google_container_node_pool.this : name => {
      pool      = var.node_pools[name].pool
      min_nodes = p.autoscaling[0].total_min_node_count
      max_nodes = p.autoscaling[0].total_max_node_count
    }
  }
}
