{{/*
The scaling targets of the suite, keyed by the ids the values use (prescale.schedules[].minReplicas,
keda.windows[].desiredReplicas, placeholders.pools[].workload):
  vendor-bff-precise, vendor-bff-rough, vendor-bff-admin, geo, ml-proxy
and vendor-bff-events, which the values cannot name (the schema leaves it out: it has no HPA by default,
a consumer group's useful size is its partition count) but which is here so that NOTES.txt and the
cross-chart checks see it, and so that KEDA mode still scales it if its autoscaling is turned on
(the subchart renders no HPA in KEDA mode; without a ScaledObject its Deployment, which then has no
spec.replicas, would fall to one pod).
Each: enabled, name (of its Deployment and HPA), namespace, appName, component, poolLabelKey and settings
(the workload settings the subchart renders with: a BFF role merged over roles.default, or geo's /
ml-proxy's values). Names and settings come from the subcharts' own templates (vendor-bff.role,
vendor-bff.roleName, lib.fullname) called with the subchart's values, so the umbrella can never disagree
with what the subcharts render. A disabled subchart's templates are not loaded: its targets are only
marked disabled. Prints JSON.
*/}}
{{- define "suite.targets" -}}
{{- $root := . -}}
{{- $out := dict -}}
{{- $global := .Values.global | default dict -}}
{{- $bff := index .Values "vendor-bff" | default dict -}}
{{- $bffOn := ne (toString $bff.enabled) "false" -}}
{{- $bffRoot := dict "Values" $bff "Release" .Release "Chart" (dict "Name" "vendor-bff") -}}
{{- range $role := list "precise" "rough" "admin" "events" -}}
{{- $id := printf "vendor-bff-%s" $role -}}
{{- if $bffOn -}}
{{- $s := include "vendor-bff.role" (dict "root" $bffRoot "role" $role) | fromJson -}}
{{- $_ := set $out $id (dict
  "enabled" (eq (toString $s.enabled) "true")
  "name" (include "vendor-bff.roleName" (dict "root" $bffRoot "role" $role))
  "namespace" $s.namespace
  "appName" ($bff.nameOverride | default "vendor-bff")
  "component" $role
  "poolLabelKey" ($global.nodePoolLabelKey | default $bff.nodePoolLabelKey)
  "settings" $s) -}}
{{- else -}}
{{- $_ := set $out $id (dict "enabled" false) -}}
{{- end -}}
{{- end -}}
{{- range $chart := list "geo" "ml-proxy" -}}
{{- $v := index $root.Values $chart | default dict -}}
{{- if ne (toString $v.enabled) "false" -}}
{{- $r := dict "Values" $v "Release" $root.Release "Chart" (dict "Name" $chart) -}}
{{- $_ := set $out $chart (dict
  "enabled" true
  "name" (include "lib.fullname" $r)
  "namespace" $root.Release.Namespace
  "appName" ($v.nameOverride | default $chart)
  "component" ($v.component | default ($v.nameOverride | default $chart))
  "poolLabelKey" ($global.nodePoolLabelKey | default $v.nodePoolLabelKey)
  "settings" (omit $v "global" "lib")) -}}
{{- else -}}
{{- $_ := set $out $chart (dict "enabled" false) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* One target, checked: deployed, and (with "hpa" true) autoscaled. Arg: dict "targets" "id" "what" "hpa". Prints JSON. */}}
{{- define "suite.target" -}}
{{- $t := index .targets .id -}}
{{- if not $t -}}
{{- fail (printf "%s names %q, which is not a target (vendor-bff-precise, vendor-bff-rough, vendor-bff-admin, geo, ml-proxy)" .what .id) -}}
{{- end -}}
{{- if not $t.enabled -}}
{{- fail (printf "%s names %s, which this release does not deploy (its chart or role is disabled)" .what .id) -}}
{{- end -}}
{{- if and .hpa (not $t.settings.autoscaling.enabled) -}}
{{- fail (printf "%s names %s, whose autoscaling is off: there is no HPA to raise" .what .id) -}}
{{- end -}}
{{- toJson $t -}}
{{- end -}}

{{/* "<release>-placeholder-<pool>": a pool's placeholder Deployment. Arg: dict "root" "pool". */}}
{{- define "suite.placeholderName" -}}
{{- include "lib.checkName" (printf "%s-placeholder-%s" .root.Release.Name .pool) -}}
{{- end -}}

{{/* The PriorityClass of the placeholders (cluster-scoped, so named after the release). Arg: root. */}}
{{- define "suite.priorityClassName" -}}
{{- .Values.placeholders.priorityClass.name | default (printf "%s-placeholder" .Release.Name) -}}
{{- end -}}

{{/* A placeholder pool, checked against placeholders.pools. Arg: dict "root" "pool" "what". Prints JSON. */}}
{{- define "suite.pool" -}}
{{- $ph := .root.Values.placeholders -}}
{{- if not $ph.enabled -}}
{{- fail (printf "%s names placeholder pool %q, but placeholders.enabled is false" .what .pool) -}}
{{- end -}}
{{- $p := index ($ph.pools | default dict) .pool -}}
{{- if not $p -}}
{{- fail (printf "%s names placeholder pool %q, which placeholders.pools does not list" .what .pool) -}}
{{- end -}}
{{- toJson $p -}}
{{- end -}}

{{/* "<ns>/<name>" for a target outside the release namespace (the prescaler's --namespace), else "<name>". */}}
{{- define "suite.qualified" -}}
{{- if eq .namespace .root.Release.Namespace }}{{ .name }}{{ else }}{{ printf "%s/%s" .namespace .name }}{{ end -}}
{{- end -}}

{{/* True when the suite runs in KEDA mode (global.keda.enabled): ScaledObjects instead of HPAs and CronJobs. */}}
{{- define "suite.keda" -}}
{{- include "lib.kedaMode" . -}}
{{- end -}}

{{/* Labels of the suite's own objects. Arg: dict "root" "appName" "component". */}}
{{- define "suite.labels" -}}
{{- include "lib.labels" (dict "root" .root "appName" .appName "component" .component "version" .version) -}}
{{- end -}}
