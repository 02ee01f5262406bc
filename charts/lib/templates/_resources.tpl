{{/* The objects around a workload's Deployment. Each takes the workload dict (see _deployment.tpl). */}}

{{- define "lib.serviceAccountName" -}}
{{- $sa := .s.serviceAccount | default dict -}}
{{- if $sa.create -}}{{ $sa.name | default .name }}{{- else -}}{{ $sa.name | default "default" }}{{- end -}}
{{- end -}}

{{- define "lib.serviceAccount" -}}
{{- $sa := .s.serviceAccount | default dict -}}
{{- if $sa.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "lib.serviceAccountName" . }}
  namespace: {{ .namespace }}
  labels:
    {{- include "lib.labels" . | nindent 4 }}
  {{- with $sa.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# The services never call the Kubernetes API.
automountServiceAccountToken: false
{{- end -}}
{{- end -}}

{{- define "lib.service" -}}
{{- $svc := .s.service | default dict -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "lib.labels" . | nindent 4 }}
  {{- with $svc.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $svc.type | default "ClusterIP" }}
  selector:
    {{- include "lib.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $svc.port | default .port }}
      targetPort: http
      protocol: TCP
      appProtocol: http
{{- end -}}

{{/* HorizontalPodAutoscaler (autoscaling/v2) on CPU, with the values' behavior. Not in KEDA mode. */}}
{{- define "lib.hpa" -}}
{{- $a := .s.autoscaling -}}
{{- if and $a.enabled (not (include "lib.kedaMode" .root)) -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- fail (printf "%s: autoscaling.minReplicas (%d) is above maxReplicas (%d)" .name (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- end -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ .name }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
  behavior:
    {{- toYaml $a.behavior | nindent 4 }}
{{- end -}}
{{- end -}}

{{- define "lib.pdb" -}}
{{- $p := .s.pdb | default dict -}}
{{- if $p.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $p.maxUnavailable }}
  # A pod that never turned ready (crash loop, bad config) may still be evicted, so it cannot block a node drain.
  unhealthyPodEvictionPolicy: AlwaysAllow
  selector:
    matchLabels:
      {{- include "lib.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{/*
NetworkPolicy: only the workload's peers (.peers) reach its port; nothing else gets in. An empty peer
list renders `ingress: []` (deny all): a rule with an empty `from` would allow every source instead.
*/}}
{{- define "lib.networkPolicy" -}}
{{- $np := .s.networkPolicy | default dict -}}
{{- if $np.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "lib.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
  {{- if .peers }}
  ingress:
    - from:
        {{- toYaml .peers | nindent 8 }}
      ports:
        - port: http
          protocol: TCP
  {{- else }}
  ingress: []
  {{- end }}
{{- end -}}
{{- end -}}

{{/* ServiceMonitor (Prometheus Operator, monitoring.coreos.com/v1) for /metrics; off by default. */}}
{{- define "lib.serviceMonitor" -}}
{{- $sm := .s.serviceMonitor | default dict -}}
{{- if $sm.enabled -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "lib.labels" . | nindent 4 }}
    {{- with $sm.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  namespaceSelector:
    matchNames:
      - {{ .namespace }}
  selector:
    matchLabels:
      {{- include "lib.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $sm.interval | default "30s" }}
      scrapeTimeout: {{ $sm.scrapeTimeout | default "10s" }}
{{- end -}}
{{- end -}}

{{/*
One object of a workload by kind (deployment, service, hpa, pdb, serviceAccount, networkPolicy,
serviceMonitor), as a YAML document or nothing. Each chart has one template file per kind, so tests and
readers find an object by file. Arg: dict "kind" "w".
*/}}
{{- define "lib.object" -}}
{{- $doc := include (printf "lib.%s" .kind) .w -}}
{{- if trim $doc }}
---
{{ $doc }}
{{- end }}
{{- end -}}
