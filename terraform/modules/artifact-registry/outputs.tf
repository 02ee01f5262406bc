output "image_registry" {
  description = "The charts' global.imageRegistry (<location>-docker.pkg.dev/<project>); an image is <this>/<images repository>/<name>, e.g. .../eta/geo."
  value       = "${var.location}-docker.pkg.dev/${var.project_id}"
}

output "images_repository" {
  description = "Full path of the images repository (<location>-docker.pkg.dev/<project>/<id>), where CI pushes <name>:<tag>."
  value       = "${var.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "charts_registry" {
  description = "OCI registry for the charts: helm push <chart>.tgz oci://<this>."
  value       = "${var.location}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.charts.repository_id}"
}

output "images_repository_id" {
  description = "The images repository's id."
  value       = google_artifact_registry_repository.images.repository_id
}

output "charts_repository_id" {
  description = "The charts repository's id."
  value       = google_artifact_registry_repository.charts.repository_id
}
