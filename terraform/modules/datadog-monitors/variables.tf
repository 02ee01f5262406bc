variable "env" {
  description = "The env tag the pods carry (the charts' datadog.env): dev, staging or prod."
  type        = string
}

variable "metric_namespace" {
  description = "The OpenMetrics check's namespace (the charts' datadog.metricsNamespace, default eta)."
  type        = string
  default     = "eta"
}

variable "notify" {
  description = "Notification handles appended to every message (e.g. @slack-eta-alerts, @pagerduty-eta)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Extra tags on every monitor."
  type        = list(string)
  default     = ["team:eta", "managed-by:terraform"]
}

variable "precise_p99_seconds" {
  description = "Precise p99 SLO in seconds; must be a bucket bound of http_request_duration_seconds. Default 0.25: the BFF's ESTIMATE_BUDGET_MS."
  type        = number
  default     = 0.25

  validation {
    condition     = contains([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], var.precise_p99_seconds)
    error_message = "precise_p99_seconds must be a bucket bound of http_request_duration_seconds: 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 or 10."
  }
}

variable "rough_p99_seconds" {
  description = "Rough p99 SLO in seconds; must be a bucket bound of http_request_duration_seconds. Default 0.25: the BFF's ESTIMATE_BUDGET_MS."
  type        = number
  default     = 0.25

  validation {
    condition     = contains([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], var.rough_p99_seconds)
    error_message = "rough_p99_seconds must be a bucket bound of http_request_duration_seconds: 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 or 10."
  }
}

variable "slow_share_critical_percent" {
  description = "Alert when more than this percentage of requests is slower than the p99 SLO (1 = the p99 itself is over it)."
  type        = number
  default     = 1
}

variable "slow_share_warning_percent" {
  description = "Warn when more than this percentage of requests is slower than the p99 SLO."
  type        = number
  default     = 0.5
}

variable "latency_window" {
  description = "Evaluation window of the latency monitors."
  type        = string
  default     = "last_10m"
}

variable "error_rate_critical_percent" {
  description = "Alert above this 5xx share per service, in percent."
  type        = number
  default     = 1
}

variable "error_rate_warning_percent" {
  description = "Warn above this 5xx share per service, in percent."
  type        = number
  default     = 0.5
}

variable "error_window" {
  description = "Evaluation window of the error monitor."
  type        = string
  default     = "last_5m"
}

variable "degraded_critical_percent" {
  description = "Alert above this share of degraded estimates per kind, in percent."
  type        = number
  default     = 5
}

variable "degraded_warning_percent" {
  description = "Warn above this share of degraded estimates per kind, in percent."
  type        = number
  default     = 2
}

variable "fallback_critical_percent" {
  description = "Alert above this share of region-default (source fallback) estimates per kind, in percent."
  type        = number
  default     = 1
}

variable "fallback_warning_percent" {
  description = "Warn above this share of region-default estimates per kind, in percent."
  type        = number
  default     = 0.5
}

variable "fallback_window" {
  description = "Evaluation window of the degraded and fallback monitors."
  type        = string
  default     = "last_10m"
}

variable "stale_critical_percent" {
  description = "Alert above this share of stale live statistics among those found, in percent."
  type        = number
  default     = 20
}

variable "stale_warning_percent" {
  description = "Warn above this share of stale live statistics, in percent."
  type        = number
  default     = 5
}

variable "freshness_window" {
  description = "Evaluation window of the live-feature monitors."
  type        = string
  default     = "last_15m"
}

variable "dead_lettered_critical_count" {
  description = "Alert when the events role dead-letters more than this many events of one topic within events_window."
  type        = number
  default     = 100
}

variable "dead_lettered_warning_count" {
  description = "Warn when the events role dead-letters more than this many events of one topic within events_window (0: any)."
  type        = number
  default     = 0

  validation {
    condition     = var.dead_lettered_warning_count >= 0
    error_message = "dead_lettered_warning_count must not be negative."
  }
}

variable "events_window" {
  description = "Evaluation window of the events monitors."
  type        = string
  default     = "last_15m"
}
