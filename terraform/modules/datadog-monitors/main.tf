# Monitors for the suite's SLOs, on the metrics the services export on /metrics (prom-client) as the
# Datadog agent's OpenMetrics check ingests them: the charts' datadog.* values annotate each pod for the
# check with namespace <metric_namespace> (default eta) and metrics [".*"], and the pods carry the unified
# service tags env and service (vendor-bff-<role> for the BFF's roles, <release>-geo, <release>-ml-proxy);
# every Prometheus label becomes a tag of the same name (route, status_code, kind, source, degraded ...). Under that check a histogram
# <h> arrives as <ns>.<h>.count, <ns>.<h>.sum and <ns>.<h>.bucket (cumulative counts, tag upper_bound =
# the le bound), and a counter <c>_total as <ns>.<c>.count.
#
# A p99 is tested without percentiles: "p99 <= T" holds exactly when at least 99 % of the requests took
# at most T, i.e. when the share of requests slower than T (count - bucket{upper_bound:T}) is at most 1 %.
# T must therefore be one of the histogram's bucket bounds.

locals {
  ns = var.metric_namespace

  # http_request_duration_seconds buckets (packages/service-kit/src/build-service.ts), and the
  # upper_bound tag value the check gives each (Python's str(float(le))).
  duration_bucket_tags = {
    "0.001"  = "0.001"
    "0.0025" = "0.0025"
    "0.005"  = "0.005"
    "0.01"   = "0.01"
    "0.025"  = "0.025"
    "0.05"   = "0.05"
    "0.1"    = "0.1"
    "0.25"   = "0.25"
    "0.5"    = "0.5"
    "1"      = "1.0"
    "2.5"    = "2.5"
    "5"      = "5.0"
    "10"     = "10.0"
  }

  duration = "${local.ns}.http_request_duration_seconds"
  filter   = "env:${var.env}"
  notify   = join(" ", var.notify)

  latency = {
    precise = {
      route     = "/v1/estimates/precise"
      threshold = var.precise_p99_seconds
    }
    rough = {
      route     = "/v1/estimates/rough"
      threshold = var.rough_p99_seconds
    }
  }
}

resource "datadog_monitor" "p99_latency" {
  for_each = local.latency

  name    = "[${var.env}] ETA ${each.key} estimates: p99 over ${each.value.threshold * 1000} ms"
  type    = "query alert"
  query   = "sum(${var.latency_window}):100 * (sum:${local.duration}.count{${local.filter},route:${each.value.route}}.as_count() - sum:${local.duration}.bucket{${local.filter},route:${each.value.route},upper_bound:${local.duration_bucket_tags[tostring(each.value.threshold)]}}.as_count()) / sum:${local.duration}.count{${local.filter},route:${each.value.route}}.as_count() > ${var.slow_share_critical_percent}"
  message = <<-EOT
    More than ${var.slow_share_critical_percent} % of ${each.key} estimates took longer than ${each.value.threshold * 1000} ms over ${var.latency_window} in ${var.env}, so their p99 is above the SLO.
    Look at the BFF's dependency latencies (${local.ns}.bff_dependency_duration_seconds), breakers (${local.ns}.bff_breaker_state) and load shedding (${local.ns}.http_requests_shed.count).
    ${local.notify}
  EOT

  monitor_thresholds {
    critical = var.slow_share_critical_percent
    warning  = var.slow_share_warning_percent
  }

  require_full_window = false
  notify_no_data      = false
  include_tags        = true
  tags                = concat(var.tags, ["env:${var.env}", "slo:latency", "kind:${each.key}"])
}

# Share of answers with a 5xx status, per service (the BFF's roles, Geo, the ML proxy). Probes are not in
# the histogram (the service kit skips them), so a pod going unready does not count.
resource "datadog_monitor" "error_rate" {
  name    = "[${var.env}] ETA {{service.name}}: 5xx share above ${var.error_rate_critical_percent} %"
  type    = "query alert"
  query   = "sum(${var.error_window}):100 * sum:${local.duration}.count{${local.filter},status_code:5*} by {service}.as_count() / sum:${local.duration}.count{${local.filter}} by {service}.as_count() > ${var.error_rate_critical_percent}"
  message = <<-EOT
    {{service.name}} in ${var.env} answered more than ${var.error_rate_critical_percent} % of its requests with a 5xx over ${var.error_window}.
    503 OVERLOADED is load shedding (${local.ns}.http_requests_shed.count by reason); 504 is a caller's deadline.
    ${local.notify}
  EOT

  monitor_thresholds {
    critical = var.error_rate_critical_percent
    warning  = var.error_rate_warning_percent
  }

  require_full_window = false
  notify_no_data      = false
  include_tags        = true
  tags                = concat(var.tags, ["env:${var.env}", "slo:errors"])
}

# Answers that are degraded (some step fell back) and answers from the last rung (a region default), per
# kind: bff_estimates_total{role,kind,source,degraded}.
resource "datadog_monitor" "degraded_share" {
  name    = "[${var.env}] ETA {{kind.name}} estimates: degraded share above ${var.degraded_critical_percent} %"
  type    = "query alert"
  query   = "sum(${var.fallback_window}):100 * sum:${local.ns}.bff_estimates.count{${local.filter},degraded:true} by {kind}.as_count() / sum:${local.ns}.bff_estimates.count{${local.filter}} by {kind}.as_count() > ${var.degraded_critical_percent}"
  message = <<-EOT
    More than ${var.degraded_critical_percent} % of {{kind.name}} estimates in ${var.env} were degraded over ${var.fallback_window}: Geo or a model failed or was late, or the catalogue served its last known copy.
    Which rung answered: ${local.ns}.bff_estimates.count by source; which dependency: ${local.ns}.bff_dependency_failures.count by dependency and kind.
    ${local.notify}
  EOT

  monitor_thresholds {
    critical = var.degraded_critical_percent
    warning  = var.degraded_warning_percent
  }

  require_full_window = false
  notify_no_data      = false
  include_tags        = true
  tags                = concat(var.tags, ["env:${var.env}", "slo:fallback"])
}

resource "datadog_monitor" "fallback_share" {
  name    = "[${var.env}] ETA {{kind.name}} estimates: region-default fallback share above ${var.fallback_critical_percent} %"
  type    = "query alert"
  query   = "sum(${var.fallback_window}):100 * sum:${local.ns}.bff_estimates.count{${local.filter},source:fallback} by {kind}.as_count() / sum:${local.ns}.bff_estimates.count{${local.filter}} by {kind}.as_count() > ${var.fallback_critical_percent}"
  message = <<-EOT
    More than ${var.fallback_critical_percent} % of {{kind.name}} estimates in ${var.env} were a region default (source fallback) over ${var.fallback_window}: neither a model nor the store's own settings could answer.
    ${local.notify}
  EOT

  monitor_thresholds {
    critical = var.fallback_critical_percent
    warning  = var.fallback_warning_percent
  }

  require_full_window = false
  notify_no_data      = false
  include_tags        = true
  tags                = concat(var.tags, ["env:${var.env}", "slo:fallback"])
}

# Live per-dong features: Geo counts each lookup by outcome (geo_live_lookups_total{outcome}); "stale"
# means the statistics were older than GEO_LIVE_MAX_AGE_SECONDS. Share of stale among the lookups that
# found statistics; silent until the statistics writer exists (today every lookup is no-data).
resource "datadog_monitor" "feature_freshness" {
  name    = "[${var.env}] ETA Geo live features: stale share above ${var.stale_critical_percent} %"
  type    = "query alert"
  query   = "sum(${var.freshness_window}):100 * sum:${local.ns}.geo_live_lookups.count{${local.filter},outcome:stale}.as_count() / (sum:${local.ns}.geo_live_lookups.count{${local.filter},outcome:stale}.as_count() + sum:${local.ns}.geo_live_lookups.count{${local.filter},outcome:available}.as_count()) > ${var.stale_critical_percent}"
  message = <<-EOT
    More than ${var.stale_critical_percent} % of Geo's live per-dong statistics were stale over ${var.freshness_window} in ${var.env}: their writer is behind or stopped, and estimates go without live features.
    ${local.notify}
  EOT

  monitor_thresholds {
    critical = var.stale_critical_percent
    warning  = var.stale_warning_percent
  }

  require_full_window = false
  notify_no_data      = false
  include_tags        = true
  tags                = concat(var.tags, ["env:${var.env}", "slo:freshness"])
}

# geo_live_redis_up: 1 while the live-statistics Redis answers, 0 while Geo serves without live features.
resource "datadog_monitor" "live_redis_down" {
  name    = "[${var.env}] ETA Geo {{pod_name.name}}: live statistics Redis unreachable"
  type    = "query alert"
  query   = "max(${var.freshness_window}):min:${local.ns}.geo_live_redis_up{${local.filter}} by {pod_name} < 1"
  message = <<-EOT
    A Geo pod in ${var.env} has not reached its live-statistics Redis for ${var.freshness_window}: every estimate it helps goes without live features.
    ${local.notify}
  EOT

  monitor_thresholds {
    critical = 1
  }

  require_full_window = false
  notify_no_data      = false
  include_tags        = true
  tags                = concat(var.tags, ["env:${var.env}", "slo:freshness"])
}

# vendor-bff's events role: events_dead_lettered_total{topic,reason} counts the events its consumers copied
# to <topic>.dlq instead of handling them (undecodable, an unknown schema version, or refused by the
# handler for good). Nothing is lost (the copy can be replayed), but the live statistics and accuracy go
# without them, and a burst means a producer and the consumers disagree on a schema. Per topic; silent
# until the events role runs with its consumers on.
resource "datadog_monitor" "dead_lettered" {
  name    = "[${var.env}] ETA events on {{topic.name}}: more than ${var.dead_lettered_critical_count} dead-lettered"
  type    = "query alert"
  query   = "sum(${var.events_window}):sum:${local.ns}.events_dead_lettered.count{${local.filter}} by {topic}.as_count() > ${var.dead_lettered_critical_count}"
  message = <<-EOT
    The events role's consumers in ${var.env} sent more than ${var.dead_lettered_critical_count} events of {{topic.name}} to {{topic.name}}.dlq over ${var.events_window}.
    Why: ${local.ns}.events_dead_lettered.count by reason, and the x-dlq-* headers of the dead-letter copies; what was handled: ${local.ns}.events_consumed.count by outcome.
    ${local.notify}
  EOT

  monitor_thresholds {
    critical = var.dead_lettered_critical_count
    warning  = var.dead_lettered_warning_count
  }

  require_full_window = false
  notify_no_data      = false
  include_tags        = true
  tags                = concat(var.tags, ["env:${var.env}", "events:dead-letter"])
}
