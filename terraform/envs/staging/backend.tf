# Partial configuration: the state bucket is given at init, so no project's bucket name is committed:
#   terraform -chdir=terraform/envs/staging init -backend-config="bucket=<state bucket>"
terraform {
  backend "gcs" {
    prefix = "eta-suite/staging"
  }
}
