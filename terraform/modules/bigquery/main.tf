# The analytics and training dataset. schemas/training_rows.json is @eta/contracts'
# TRAINING_ROWS_BIGQUERY_FIELDS as the BFF's training-row shipper writes it (a test holds them equal);
# schemas/predictions.json is for a prediction-log sink not built yet. See this module's README.
resource "google_bigquery_dataset" "this" {
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  friendly_name              = "ETA suite analytics and training (${var.env})"
  description                = "Prediction log and training rows of the delivery-ETA suite, written by its event sink."
  location                   = var.location
  delete_contents_on_destroy = false
  labels                     = var.labels
}

# One row per delivered order joined to its checkout estimate (docs/adr/0007-training-rows.md).
resource "google_bigquery_table" "training_rows" {
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = "training_rows"
  description         = "One row per delivered order: the features and estimate served at checkout, and the actual minutes."
  schema              = file("${path.module}/schemas/training_rows.json")
  deletion_protection = var.deletion_protection
  labels              = var.labels

  time_partitioning {
    type          = "DAY"
    field         = "seoul_date"
    expiration_ms = var.training_rows_partition_expiration_days == null ? null : var.training_rows_partition_expiration_days * 86400000
  }

  clustering = ["store_id"]
}

# One row per estimate answered (the prediction log), whether or not an order followed.
resource "google_bigquery_table" "predictions" {
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = "predictions"
  description         = "One row per estimate answered by the BFF (precise and rough): inputs, model, answer."
  schema              = file("${path.module}/schemas/predictions.json")
  deletion_protection = var.deletion_protection
  labels              = var.labels

  time_partitioning {
    type          = "DAY"
    field         = "predicted_at"
    expiration_ms = var.predictions_partition_expiration_days == null ? null : var.predictions_partition_expiration_days * 86400000
  }

  clustering = ["store_id", "model_name"]
}

# Dataset-level access only (never project-wide): the sink writes, the trainer reads.
resource "google_bigquery_dataset_iam_member" "editors" {
  for_each = var.editor_members

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value
}

resource "google_bigquery_dataset_iam_member" "viewers" {
  for_each = var.viewer_members

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}
