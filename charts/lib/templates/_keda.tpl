{{/*
KEDA ScaledObject (keda.sh/v1alpha1): replaces a workload's HPA in KEDA mode (the umbrella's
global.keda.enabled), with one cron trigger per peak window and the CPU trigger. Arg: dict
  root, name, namespace, appName, component   (names and labels, as for a workload)
  target          the Deployment it scales
  minReplicas     minReplicaCount (0 only for a placeholder, which has no CPU trigger)
  maxReplicas     maxReplicaCount
  cpu             target CPU utilisation in percent, or 0 for no CPU trigger (placeholders)
  behavior        the HPA behavior KEDA's HPA gets (advanced.horizontalPodAutoscalerConfig.behavior)
  windows         list of dict name, start, end, desiredReplicas
  timezone, pollingInterval, cooldownPeriod
KEDA's cron pitfalls this guards (charts/suite/README.md, "KEDA"):
  - at `end` the cron trigger stops asking and KEDA's HPA falls to the other triggers' wish; without a
    behavior of its own it uses the HPA default (down to that wish within 5 minutes). The chart always sets
    the workload's slow scale-down behavior here.
  - a desiredReplicas at or below minReplicaCount does nothing, and one above maxReplicaCount is capped:
    both fail the render instead.
  - start equal to end is refused by KEDA at run time: fails the render.
  - a window may cross midnight (start 22:00, end 02:00): KEDA handles it when the two schedules are
    evaluated in the same timezone, which is why every trigger carries the chart's timezone.
*/}}
{{- define "lib.scaledObject" -}}
{{- $so := . -}}
{{- if gt (int $so.minReplicas) (int $so.maxReplicas) -}}
{{- fail (printf "%s: minReplicaCount %d is above maxReplicaCount %d" $so.name (int $so.minReplicas) (int $so.maxReplicas)) -}}
{{- end -}}
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: {{ $so.name }}
  namespace: {{ $so.namespace }}
  labels:
    {{- include "lib.labels" $so | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $so.target }}
  minReplicaCount: {{ $so.minReplicas }}
  maxReplicaCount: {{ $so.maxReplicas }}
  pollingInterval: {{ $so.pollingInterval }}
  cooldownPeriod: {{ $so.cooldownPeriod }}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        {{- toYaml $so.behavior | nindent 8 }}
  triggers:
    {{- if $so.cpu }}
    - type: cpu
      metricType: Utilization
      metadata:
        value: {{ $so.cpu | toString | quote }}
    {{- end }}
    {{- range $so.windows }}
    {{- if eq .start .end }}
    {{- fail (printf "%s: window %q has start = end (%q); KEDA refuses such a cron trigger" $so.name .name .start) }}
    {{- end }}
    {{- if le (int .desiredReplicas) (int $so.minReplicas) }}
    {{- fail (printf "%s: window %q asks desiredReplicas %d, not above minReplicaCount %d: the window would do nothing" $so.name .name (int .desiredReplicas) (int $so.minReplicas)) }}
    {{- end }}
    {{- if gt (int .desiredReplicas) (int $so.maxReplicas) }}
    {{- fail (printf "%s: window %q asks desiredReplicas %d, above maxReplicaCount %d: KEDA would cap it silently" $so.name .name (int .desiredReplicas) (int $so.maxReplicas)) }}
    {{- end }}
    - type: cron
      name: {{ .name }}
      metadata:
        timezone: {{ $so.timezone | quote }}
        start: {{ .start | quote }}
        end: {{ .end | quote }}
        desiredReplicas: {{ .desiredReplicas | toString | quote }}
    {{- end }}
{{- end -}}
