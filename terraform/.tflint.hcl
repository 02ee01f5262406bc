# TFLint with only its bundled Terraform ruleset (every rule: preset "all"). Plugins cannot be downloaded
# here, so no provider ruleset (google, confluent, datadog) is configured; see README.md, "What the test
# command checks, and what it cannot".
plugin "terraform" {
  enabled = true
  preset  = "all"
}
