{{/*
A workload is a dict built by each chart and handed to every template below:
  root           the chart's root context ($)
  name           resource name of the Deployment, Service, HPA, PDB, ServiceAccount, NetworkPolicy ...
  namespace      where they all go (a BFF role may have its own)
  appName        app.kubernetes.io/name
  component      app.kubernetes.io/component (the BFF role, or the service's own component)
  version        the image tag (app.kubernetes.io/version, APP_VERSION)
  containerName  the container (also the Datadog autodiscovery prefix)
  port           container port (the service's PORT)
  image          image reference; pullPolicy; imagePullSecrets (list of names)
  env            the chart-owned env items (list of EnvVar), before config / secretEnv / extraEnv
  peers          NetworkPolicy peers allowed to reach the port (list; empty = nobody)
  datadog        the chart's datadog values; ddService the service name Datadog shows
  s              the workload settings (values: a BFF role merged over roles.default, or geo's / ml-proxy's top level)
*/}}

{{/*
terminationGracePeriodSeconds: the kubelet's clock starts when the pod is deleted, preStop included, so it
must cover the preStop sleep, then SHUTDOWN_DELAY_MS (serving while unready) and SHUTDOWN_TIMEOUT_MS (the
drain's upper bound), plus a margin. Computed from shutdown.* unless set, and a set value that is too short
fails the render. Arg: settings.
*/}}
{{- define "lib.terminationGracePeriodSeconds" -}}
{{- $sd := .shutdown -}}
{{- $drainSeconds := div (add (int $sd.delayMs) (int $sd.timeoutMs) 999) 1000 -}}
{{- $needed := add (int $sd.preStopSleepSeconds) $drainSeconds -}}
{{- if $sd.terminationGracePeriodSeconds -}}
{{- if le (int $sd.terminationGracePeriodSeconds) (int $needed) -}}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%d) must be longer than preStopSleepSeconds + (delayMs + timeoutMs)/1000 = %d s, or the kubelet kills a pod that is still draining" (int $sd.terminationGracePeriodSeconds) (int $needed)) -}}
{{- end -}}
{{- int $sd.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add $needed (int $sd.extraGraceSeconds) -}}
{{- end -}}
{{- end -}}

{{/*
The container's env as a JSON list, in this order: PORT, the chart's own (ROLE, upstream URLs), the
service-kit settings the chart owns (SHUTDOWN_*, APP_VERSION), Datadog's, then `config` (sorted by key),
`secretEnv` (references, sorted by key) and `extraEnv`. Arg: workload.
*/}}
{{- define "lib.env" -}}
{{- $w := . -}}
{{- $s := .s -}}
{{- $env := list (dict "name" "PORT" "value" (toString $w.port)) -}}
{{- $env = concat $env ($w.env | default list) -}}
{{- $env = append $env (dict "name" "SHUTDOWN_DELAY_MS" "value" (include "lib.envValue" $s.shutdown.delayMs)) -}}
{{- $env = append $env (dict "name" "SHUTDOWN_TIMEOUT_MS" "value" (include "lib.envValue" $s.shutdown.timeoutMs)) -}}
{{- $env = append $env (dict "name" "APP_VERSION" "value" $w.version) -}}
{{- $dd := $w.datadog | default dict -}}
{{- if $dd.enabled -}}
{{- $env = append $env (dict "name" "DD_TRACE_ENABLED" "value" (ternary "true" "false" (eq (toString $dd.tracing) "true"))) -}}
{{- $env = append $env (dict "name" "DD_AGENT_HOST" "valueFrom" (dict "fieldRef" (dict "fieldPath" "status.hostIP"))) -}}
{{- $env = append $env (dict "name" "DD_SERVICE" "value" $w.ddService) -}}
{{- $env = append $env (dict "name" "DD_VERSION" "value" $w.version) -}}
{{- with $dd.env }}{{ $env = append $env (dict "name" "DD_ENV" "value" .) }}{{ end -}}
{{- end -}}
{{- range $k, $v := $s.config | default dict -}}
{{- $env = append $env (dict "name" $k "value" (include "lib.envValue" $v)) -}}
{{- end -}}
{{- range $k, $ref := $s.secretEnv | default dict -}}
{{- $name := required (printf "secretEnv.%s.name: the name of an existing Secret" $k) $ref.name -}}
{{- $key := required (printf "secretEnv.%s.key: the key in Secret %s" $k $name) $ref.key -}}
{{- $sel := dict "name" $name "key" $key -}}
{{- if $ref.optional }}{{ $_ := set $sel "optional" true }}{{ end -}}
{{- $env = append $env (dict "name" $k "valueFrom" (dict "secretKeyRef" $sel)) -}}
{{- end -}}
{{- $env = concat $env ($s.extraEnv | default list) -}}
{{- toJson $env -}}
{{- end -}}

{{/* Datadog unified service tags, on the Deployment and its pods. Arg: workload. */}}
{{- define "lib.datadogLabels" -}}
{{- $dd := .datadog | default dict -}}
{{- if $dd.enabled -}}
tags.datadoghq.com/service: {{ .ddService | quote }}
tags.datadoghq.com/version: {{ .version | quote }}
{{- with $dd.env }}
tags.datadoghq.com/env: {{ . | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* Datadog autodiscovery annotations (OpenMetrics check of /metrics, log source). Arg: workload. */}}
{{- define "lib.datadogAnnotations" -}}
{{- $dd := .datadog | default dict -}}
{{- if $dd.enabled -}}
{{- if $dd.metrics }}
ad.datadoghq.com/{{ .containerName }}.checks: {{ dict "openmetrics" (dict "init_config" dict "instances" (list (dict "openmetrics_endpoint" (printf "http://%%%%host%%%%:%d/metrics" (int .port)) "namespace" ($dd.metricsNamespace | default "eta") "metrics" (list ".*")))) | toJson | quote }}
{{- end }}
{{- if $dd.logs }}
ad.datadoghq.com/{{ .containerName }}.logs: {{ list (dict "source" "nodejs" "service" .ddService) | toJson | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{/*
Pod-level security context: non-root as uid/gid 65532 (the images' `USER 65532:65532`, distroless's
nonroot; given here too so runAsNonRoot holds whatever the image says), RuntimeDefault seccomp. Arg: dict
with an optional "uid".
*/}}
{{- define "lib.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid | default 65532 }}
runAsGroup: {{ .uid | default 65532 }}
fsGroup: {{ .uid | default 65532 }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Container-level security context: read-only root, no privilege escalation, every capability dropped. Arg:
dict with an optional "readOnlyRootFilesystem" (only an explicit false turns it off: skaffold's dev profile
syncs changed sources into the running container, deploy/values/dev.yaml).
*/}}
{{- define "lib.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ ne .readOnlyRootFilesystem false }}
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
nodeSelector: the workload's pool (<pool label key>: <nodePool>) plus any extra labels. Arg: dict "root" "s".
*/}}
{{- define "lib.nodeSelector" -}}
{{- $sel := dict -}}
{{- if .s.nodePool -}}{{- $_ := set $sel (include "lib.poolLabelKey" .root) .s.nodePool -}}{{- end -}}
{{- range $k, $v := .s.nodeSelector | default dict -}}{{- $_ := set $sel $k $v -}}{{- end -}}
{{- if $sel -}}{{ toYaml $sel }}{{- end -}}
{{- end -}}

{{/* topologySpreadConstraints across zones (topology.kubernetes.io/zone) and nodes. Arg: workload. */}}
{{- define "lib.topologySpread" -}}
{{- $ts := .s.topologySpread | default dict -}}
{{- if $ts.enabled -}}
{{- $w := . -}}
{{- range $pair := list (list "topology.kubernetes.io/zone" $ts.zone) (list "kubernetes.io/hostname" $ts.hostname) }}
{{- $key := index $pair 0 }}{{- $c := index $pair 1 }}
{{- if $c }}
- topologyKey: {{ $key }}
  maxSkew: {{ $c.maxSkew }}
  whenUnsatisfiable: {{ $c.whenUnsatisfiable }}
  labelSelector:
    matchLabels: {{- include "lib.selectorLabels" $w | nindent 6 }}
  matchLabelKeys:
    - pod-template-hash
{{- end }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* The three probes. startup and liveness ask /livez (the process only), readiness /readyz (dependencies, warm models). */}}
{{- define "lib.probes" -}}
{{- $p := .s.probes -}}
startupProbe:
  httpGet:
    path: /livez
    port: http
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  successThreshold: {{ $p.readiness.successThreshold }}
livenessProbe:
  httpGet:
    path: /livez
    port: http
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end -}}

{{/* True when replicas belong to an autoscaler (HPA, or KEDA's in KEDA mode): the Deployment then has no spec.replicas, or every helm upgrade would reset the count. */}}
{{- define "lib.autoscaled" -}}
{{- if .s.autoscaling.enabled }}true{{ end -}}
{{- end -}}

{{- define "lib.deployment" -}}
{{- $w := . -}}
{{- $s := $w.s -}}
{{- $root := $w.root -}}
{{- $ddLabels := include "lib.datadogLabels" $w -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $w.name }}
  namespace: {{ $w.namespace }}
  labels:
    {{- include "lib.labels" $w | nindent 4 }}
    {{- with $ddLabels }}
    {{- . | nindent 4 }}
    {{- end }}
spec:
  {{- if not (include "lib.autoscaled" $w) }}
  replicas: {{ $s.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "lib.selectorLabels" $w | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "lib.labels" $w | nindent 8 }}
        {{- with $ddLabels }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with $s.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        kubectl.kubernetes.io/default-container: {{ $w.containerName }}
        {{- with include "lib.datadogAnnotations" $w | trim }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with $s.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "lib.serviceAccountName" $w }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with $s.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ include "lib.terminationGracePeriodSeconds" $s }}
      securityContext:
        {{- include "lib.podSecurityContext" dict | nindent 8 }}
      {{- with include "lib.nodeSelector" (dict "root" $root "s" $s) }}
      nodeSelector:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with $s.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $s.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with include "lib.topologySpread" $w | trim }}
      topologySpreadConstraints:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with $w.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ $w.containerName }}
          image: {{ $w.image | quote }}
          imagePullPolicy: {{ $w.pullPolicy | default "IfNotPresent" }}
          ports:
            - name: http
              containerPort: {{ $w.port }}
              protocol: TCP
          env:
            {{- include "lib.env" $w | fromJsonArray | toYaml | nindent 12 }}
          {{- include "lib.probes" $w | nindent 10 }}
          lifecycle:
            preStop:
              # Kubernetes >= 1.30 (PodLifecycleSleepAction): no shell needed in the image.
              sleep:
                seconds: {{ $s.shutdown.preStopSleepSeconds }}
          resources:
            {{- toYaml $s.resources | nindent 12 }}
          securityContext:
            {{- include "lib.containerSecurityContext" (dict "readOnlyRootFilesystem" $s.readOnlyRootFilesystem) | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with $s.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $s.tmpSizeLimit | default "64Mi" }}
        {{- with $s.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end -}}
