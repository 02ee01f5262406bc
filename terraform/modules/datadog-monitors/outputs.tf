output "monitor_ids" {
  description = "Datadog monitor ids by SLO."
  value = merge(
    { for kind, m in datadog_monitor.p99_latency : "p99_${kind}" => m.id },
    {
      error_rate        = datadog_monitor.error_rate.id
      degraded_share    = datadog_monitor.degraded_share.id
      fallback_share    = datadog_monitor.fallback_share.id
      feature_freshness = datadog_monitor.feature_freshness.id
      live_redis_down   = datadog_monitor.live_redis_down.id
      dead_lettered     = datadog_monitor.dead_lettered.id
    },
  )
}
