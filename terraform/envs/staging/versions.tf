terraform {
  required_version = ">= 1.11"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.45"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
    confluent = {
      source  = "confluentinc/confluent"
      version = "~> 2.83"
    }
    datadog = {
      source  = "DataDog/datadog"
      version = "~> 4.19"
    }
  }
}
