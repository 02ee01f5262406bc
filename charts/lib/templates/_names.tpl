{{/*
Names. Predictable on purpose: every resource of a chart is "<release>-<chart>[-<role>]" unless
fullnameOverride says otherwise; there is no "release name already contains the chart name" shortcut and no
silent truncation (a name over 63 characters fails the render instead of being cut into something else).
*/}}

{{/* The app name: the chart name or nameOverride. Arg: the chart's root context. */}}
{{- define "lib.name" -}}
{{- .Values.nameOverride | default .Chart.Name -}}
{{- end -}}

{{/*
"<release>-<chart>" or fullnameOverride, for any chart of the suite. Arg: dict "release" "chart" "values"
(the umbrella passes a subchart's values to compute that subchart's names; a chart passes its own).
*/}}
{{- define "lib.fullnameFor" -}}
{{- $v := .values | default dict -}}
{{- $name := $v.nameOverride | default .chart -}}
{{- $full := $v.fullnameOverride | default (printf "%s-%s" .release $name) -}}
{{- include "lib.checkName" $full -}}
{{- end -}}

{{/* The chart's own full name. Arg: root context. */}}
{{- define "lib.fullname" -}}
{{- include "lib.fullnameFor" (dict "release" .Release.Name "chart" .Chart.Name "values" .Values) -}}
{{- end -}}

{{/* Fails on a name that is not a DNS-1035 label of at most 63 characters; else prints it. */}}
{{- define "lib.checkName" -}}
{{- if gt (len .) 63 -}}
{{- fail (printf "name %q is %d characters long; Kubernetes allows 63 (shorten the release name or set fullnameOverride)" . (len .)) -}}
{{- end -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" .) -}}
{{- fail (printf "name %q is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter)" .) -}}
{{- end -}}
{{- . -}}
{{- end -}}

{{/* "<chart>-<version>" for the helm.sh/chart label. Arg: root context. */}}
{{- define "lib.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Image reference. Arg: dict "image" (registry, repository, tag, digest) "root". The registry falls back to
global.imageRegistry; the tag to the chart's appVersion; a digest wins over the tag.
*/}}
{{- define "lib.image" -}}
{{- $img := .image -}}
{{- $global := .root.Values.global | default dict -}}
{{- $registry := $img.registry | default $global.imageRegistry | default "" -}}
{{- $repo := $img.repository -}}
{{- if $registry }}{{ $repo = printf "%s/%s" (trimSuffix "/" $registry) $repo }}{{ end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (include "lib.imageVersion" .) -}}
{{- end -}}
{{- end -}}

{{/*
The tag a workload runs (APP_VERSION, version label): the image's own tag, else global.imageTag (one key
per environment that a release pipeline sets: deploy/values/<env>.yaml), else the chart's appVersion.
Arg: dict "image" "root".
*/}}
{{- define "lib.imageVersion" -}}
{{- $global := .root.Values.global | default dict -}}
{{- .image.tag | default $global.imageTag | default .root.Chart.AppVersion | toString -}}
{{- end -}}

{{/* The node pool label key: global.nodePoolLabelKey, else the chart's nodePoolLabelKey. Arg: root context. */}}
{{- define "lib.poolLabelKey" -}}
{{- $global := .Values.global | default dict -}}
{{- $global.nodePoolLabelKey | default .Values.nodePoolLabelKey | default "eta.dev/pool" -}}
{{- end -}}

{{/* True ("true") when the umbrella switched autoscaling to KEDA ScaledObjects (global.keda.enabled). */}}
{{- define "lib.kedaMode" -}}
{{- $global := .Values.global | default dict -}}
{{- $keda := $global.keda | default dict -}}
{{- if $keda.enabled }}true{{ end -}}
{{- end -}}
