# No required_providers: the stack has no resource of its own. Its modules declare theirs and inherit the
# root module's provider configurations (each environment's versions.tf and providers.tf).
terraform {
  required_version = ">= 1.11"
}
