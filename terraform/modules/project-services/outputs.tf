output "enabled_services" {
  description = "The API service names enabled (depend on this module so that resources wait for their API)."
  value       = sort([for s in google_project_service.this : s.service])
}
