# A Google service account per service, usable only by that service's Kubernetes ServiceAccount(s)
# through GKE workload identity, with only the roles and secrets it needs.

locals {
  ksa_bindings = merge([
    for svc, s in var.services : {
      for k in s.kubernetes_service_accounts : "${svc}/${k.namespace}/${k.name}" => {
        service   = svc
        namespace = k.namespace
        name      = k.name
      }
    }
  ]...)

  project_roles = merge([
    for svc, s in var.services : { for r in s.project_roles : "${svc}/${r}" => { service = svc, role = r } }
  ]...)

  secret_access = merge([
    for svc, s in var.services : { for name, id in s.secrets : "${svc}/${name}" => { service = svc, secret_id = id } }
  ]...)
}

resource "google_service_account" "this" {
  for_each = var.services

  project      = var.project_id
  account_id   = "${var.name_prefix}-${each.key}"
  display_name = "${var.name_prefix} ${each.key}"
  description  = each.value.description
}

resource "google_service_account_iam_member" "workload_identity" {
  for_each = local.ksa_bindings

  service_account_id = google_service_account.this[each.value.service].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${each.value.namespace}/${each.value.name}]"
}

resource "google_project_iam_member" "this" {
  for_each = local.project_roles

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.this[each.value.service].email}"
}

# On each secret, never project-wide.
resource "google_secret_manager_secret_iam_member" "this" {
  for_each = local.secret_access

  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.this[each.value.service].email}"
}
