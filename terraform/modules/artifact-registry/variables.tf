variable "project_id" {
  description = "The Google Cloud project the suite runs in."
  type        = string
}

variable "location" {
  description = "Repository location (e.g. asia-northeast3)."
  type        = string
}

variable "images_repository_id" {
  description = "Id of the images repository: the first segment of the charts' image repositories (eta/<name>)."
  type        = string
  default     = "eta"
}

variable "charts_repository_id" {
  description = "Id of the Helm charts repository."
  type        = string
  default     = "eta-charts"
}

variable "image_names" {
  description = "The images pushed to the images repository, for its description."
  type        = list(string)
  default     = ["vendor-bff", "geo", "ml-proxy", "prescaler"]
}

variable "release_tag_prefixes" {
  description = "Tag prefixes of releases, kept forever."
  type        = list(string)
  default     = ["v"]
}

variable "keep_recent" {
  description = "Newest versions of each image kept whatever their age."
  type        = number
  default     = 20
}

variable "delete_builds_after_days" {
  description = "Age after which other image versions are deleted."
  type        = number
  default     = 90
}

variable "reader_members" {
  description = "IAM members that pull images, by a fixed name (e.g. { gke-nodes = \"serviceAccount:<email>\" }); a map so that for_each keys are known before the accounts exist."
  type        = map(string)
  default     = {}
}

variable "chart_reader_members" {
  description = "IAM members that pull charts (e.g. the deployer), by a fixed name."
  type        = map(string)
  default     = {}
}

variable "writer_members" {
  description = "IAM members that push images and charts (CI), by a fixed name."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Google Cloud resource labels."
  type        = map(string)
  default     = {}
}
