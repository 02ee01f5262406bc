locals {
  workload_pool = "${var.project_id}.svc.id.goog"
}

# The nodes' own identity: only what a node needs (logs, metrics, pulling the suite's images, which the
# artifact-registry module grants on its repository). Pods never use it: workload identity gives each
# service its own account (modules/workload-identity).
resource "google_service_account" "nodes" {
  project      = var.project_id
  account_id   = "${var.name}-nodes"
  display_name = "GKE nodes of ${var.name}"
}

resource "google_project_iam_member" "nodes" {
  project = var.project_id
  role    = "roles/container.defaultNodeServiceAccount"
  member  = "serviceAccount:${google_service_account.nodes.email}"
}

resource "google_container_cluster" "this" {
  project             = var.project_id
  name                = var.name
  location            = var.location
  node_locations      = length(var.node_locations) > 0 ? var.node_locations : null
  deletion_protection = var.deletion_protection
  resource_labels     = var.labels

  network    = var.network_id
  subnetwork = var.subnetwork_id

  # Node pools are managed below, one per workload; GKE needs a default pool to create the cluster.
  remove_default_node_pool = true
  initial_node_count       = 1

  release_channel {
    channel = var.release_channel
  }

  # Dataplane V2 (eBPF): enforces the charts' NetworkPolicies without the Calico add-on.
  datapath_provider = "ADVANCED_DATAPATH"

  ip_allocation_policy {
    cluster_secondary_range_name  = var.pods_range_name
    services_secondary_range_name = var.services_range_name
  }

  workload_identity_config {
    workload_pool = local.workload_pool
  }

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
    master_ipv4_cidr_block  = var.master_ipv4_cidr_block
  }

  master_authorized_networks_config {
    gcp_public_cidrs_access_enabled = false

    dynamic "cidr_blocks" {
      for_each = var.master_authorized_networks
      content {
        cidr_block   = cidr_blocks.value.cidr_block
        display_name = cidr_blocks.value.display_name
      }
    }
  }

  # Upgrades only in the window, which is outside Seoul's lunch and dinner peaks.
  maintenance_policy {
    recurring_window {
      start_time = var.maintenance_window.start_time
      end_time   = var.maintenance_window.end_time
      recurrence = var.maintenance_window.recurrence
    }
  }
}

resource "google_container_node_pool" "this" {
  for_each = var.node_pools

  project  = var.project_id
  name     = each.key
  cluster  = google_container_cluster.this.id
  location = var.location

  # Per zone, only at creation; the autoscaler owns the count afterwards.
  initial_node_count = each.value.min_nodes > 0 ? 1 : 0

  # Totals over all of the pool's zones, so the same numbers mean the same in a zonal and a regional
  # cluster.
  autoscaling {
    total_min_node_count = each.value.min_nodes
    total_max_node_count = each.value.max_nodes
    location_policy      = "BALANCED"
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  upgrade_settings {
    strategy        = "SURGE"
    max_surge       = 1
    max_unavailable = 0
  }

  node_config {
    machine_type    = each.value.machine_type
    disk_size_gb    = each.value.disk_size_gb
    disk_type       = each.value.disk_type
    image_type      = "COS_CONTAINERD"
    spot            = each.value.spot
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    resource_labels = var.labels

    # The charts' nodeSelector: <pool label key>: <pool> (charts/lib/templates/_deployment.tpl).
    labels = merge(each.value.labels, { (var.pool_label_key) = each.value.pool })

    # Optional: keeps other pods off the pool. Every chart then needs the toleration
    # {key: <pool label key>, operator: Exists, effect: NoSchedule}, as
    # charts/vendor-bff/ci/production-values.yaml has.
    dynamic "taint" {
      for_each = each.value.taint ? [each.value.pool] : []
      content {
        key    = var.pool_label_key
        value  = taint.value
        effect = "NO_SCHEDULE"
      }
    }

    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }

    metadata = {
      disable-legacy-endpoints = "true"
    }
  }

  lifecycle {
    ignore_changes = [initial_node_count]
  }
}
