variable "project_id" {
  description = "The Google Cloud project the suite runs in."
  type        = string
}

variable "region" {
  description = "Region of the subnet, router and NAT (e.g. asia-northeast3, Seoul)."
  type        = string
}

variable "name" {
  description = "Name of the VPC; prefixes its subnet, ranges, router and NAT (e.g. eta-prod)."
  type        = string
}

variable "nodes_cidr" {
  description = "Primary range of the node subnet."
  type        = string
}

variable "pods_cidr" {
  description = "Secondary range for pod IPs (VPC-native GKE)."
  type        = string
}

variable "services_cidr" {
  description = "Secondary range for Kubernetes Service IPs."
  type        = string
}

variable "private_services_cidr" {
  description = "Range allocated to private services access (Cloud SQL private IP, Memorystore), e.g. 10.60.0.0/20."
  type        = string

  validation {
    condition     = can(cidrhost(var.private_services_cidr, 0))
    error_message = "private_services_cidr must be a CIDR block such as 10.60.0.0/20."
  }
}
