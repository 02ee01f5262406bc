# Two Docker-format repositories: the suite's images and its Helm charts as OCI artifacts
# (helm push <chart>.tgz oci://<charts registry>). The images repository is named "eta" because the charts'
# image repositories are eta/<name>: with global.imageRegistry = <location>-docker.pkg.dev/<project>, the
# image eta/geo is the package geo of the repository eta.
resource "google_artifact_registry_repository" "images" {
  project       = var.project_id
  location      = var.location
  repository_id = var.images_repository_id
  description   = "ETA suite container images: ${join(", ", var.image_names)}"
  format        = "DOCKER"
  labels        = var.labels

  # A tag names one build for good: a release (vX.Y.Z) or main's git SHA never moves.
  docker_config {
    immutable_tags = true
  }

  cleanup_policy_dry_run = false

  # Releases are kept forever.
  cleanup_policies {
    id     = "keep-releases"
    action = "KEEP"
    condition {
      tag_state    = "TAGGED"
      tag_prefixes = var.release_tag_prefixes
    }
  }

  # The newest builds of each image are kept whatever their age (the last good one to roll back to).
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = var.keep_recent
    }
  }

  # Other builds (main's SHA tags, untagged layers of retagged builds) go after a while.
  cleanup_policies {
    id     = "delete-old-builds"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "${var.delete_builds_after_days}d"
    }
  }
}

resource "google_artifact_registry_repository" "charts" {
  project       = var.project_id
  location      = var.location
  repository_id = var.charts_repository_id
  description   = "ETA suite Helm charts (OCI)"
  format        = "DOCKER"
  labels        = var.labels

  docker_config {
    immutable_tags = true
  }

  cleanup_policy_dry_run = false

  # Chart versions are small and each one is a release: keep every tagged one; drop untagged leftovers.
  cleanup_policies {
    id     = "keep-tagged"
    action = "KEEP"
    condition {
      tag_state = "TAGGED"
    }
  }

  cleanup_policies {
    id     = "delete-untagged"
    action = "DELETE"
    condition {
      tag_state  = "UNTAGGED"
      older_than = "7d"
    }
  }
}

resource "google_artifact_registry_repository_iam_member" "images_readers" {
  for_each = var.reader_members

  project    = var.project_id
  location   = var.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}

resource "google_artifact_registry_repository_iam_member" "images_writers" {
  for_each = var.writer_members

  project    = var.project_id
  location   = var.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.writer"
  member     = each.value
}

resource "google_artifact_registry_repository_iam_member" "charts_readers" {
  for_each = var.chart_reader_members

  project    = var.project_id
  location   = var.location
  repository = google_artifact_registry_repository.charts.name
  role       = "roles/artifactregistry.reader"
  member     = each.value
}

resource "google_artifact_registry_repository_iam_member" "charts_writers" {
  for_each = var.writer_members

  project    = var.project_id
  location   = var.location
  repository = google_artifact_registry_repository.charts.name
  role       = "roles/artifactregistry.writer"
  member     = each.value
}
