variable "project_id" {
  description = "The Google Cloud project the suite runs in."
  type        = string
}

variable "env" {
  description = "Environment name (dev, staging, prod), shown in the dataset's name."
  type        = string
}

variable "dataset_id" {
  description = "Dataset id (letters, digits, underscores), e.g. eta_prod."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.dataset_id)) && length(var.dataset_id) <= 1024
    error_message = "dataset_id may hold only letters, digits and underscores, at most 1024 of them."
  }
}

variable "location" {
  description = "Dataset location (e.g. asia-northeast3)."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to destroy the tables from Terraform."
  type        = bool
}

variable "training_rows_partition_expiration_days" {
  description = "Days to keep each day-partition of training_rows; null = forever."
  type        = number
  default     = null
}

variable "predictions_partition_expiration_days" {
  description = "Days to keep each day-partition of predictions; null = forever."
  type        = number
  default     = null
}

variable "editor_members" {
  description = "IAM members given roles/bigquery.dataEditor on the dataset (the sink: vendor-bff's events role), by a fixed name: { vendor-bff-events = \"serviceAccount:<email>\" }. A map, so that for_each keys are known before the accounts exist."
  type        = map(string)
  default     = {}
}

variable "viewer_members" {
  description = "IAM members given roles/bigquery.dataViewer on the dataset (the trainer), by a fixed name like editor_members."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Google Cloud resource labels."
  type        = map(string)
  default     = {}
}
