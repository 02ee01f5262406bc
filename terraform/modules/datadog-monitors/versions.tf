terraform {
  required_version = ">= 1.11"

  required_providers {
    datadog = {
      source  = "DataDog/datadog"
      version = "~> 4.19"
    }
  }
}
