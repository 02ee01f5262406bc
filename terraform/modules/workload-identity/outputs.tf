output "emails" {
  description = "Google service account email per service."
  value       = { for svc, sa in google_service_account.this : svc => sa.email }
}

output "members" {
  description = "IAM member string (serviceAccount:<email>) per service, for grants made elsewhere."
  value       = { for svc, sa in google_service_account.this : svc => "serviceAccount:${sa.email}" }
}

output "service_account_annotations" {
  description = "Per Kubernetes ServiceAccount (<namespace>/<name>): the annotation the charts' serviceAccount.annotations must carry."
  value = {
    for key, b in local.ksa_bindings : "${b.namespace}/${b.name}" => {
      "iam.gke.io/gcp-service-account" = google_service_account.this[b.service].email
    }
  }
}
