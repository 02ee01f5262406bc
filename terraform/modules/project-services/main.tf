# The Google APIs the other modules call. Left enabled on destroy: other things in the project may use
# them, and disabling an API can delete resources that depend on it.
resource "google_project_service" "this" {
  for_each = toset(var.services)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
