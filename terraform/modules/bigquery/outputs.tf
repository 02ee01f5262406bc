output "dataset_id" {
  description = "The dataset's id."
  value       = google_bigquery_dataset.this.dataset_id
}

output "training_rows_table" {
  description = "Fully qualified training rows table (<project>.<dataset>.training_rows)."
  value       = "${var.project_id}.${google_bigquery_dataset.this.dataset_id}.${google_bigquery_table.training_rows.table_id}"
}

output "predictions_table" {
  description = "Fully qualified predictions table (<project>.<dataset>.predictions)."
  value       = "${var.project_id}.${google_bigquery_dataset.this.dataset_id}.${google_bigquery_table.predictions.table_id}"
}
