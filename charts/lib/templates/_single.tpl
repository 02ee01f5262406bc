{{/*
The whole of a one-Deployment service chart (geo, ml-proxy): its workload settings are the chart's top-level
values. Callers of the service are given by networkPolicy.clients (pods with those labels and this
release's instance label, in those namespaces; none listed = the release namespace), plus
networkPolicy.from and networkPolicy.metricsFrom. Arg: dict "root" "port" "env" (chart-owned env items)
"kind" (one of lib.kinds: which object to render).
*/}}
{{- define "lib.singleWorkload" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $global := $v.global | default dict -}}
{{- $np := $v.networkPolicy | default dict -}}
{{- $clients := $np.clients | default dict -}}
{{- $peers := list -}}
{{- if $clients.podLabels -}}
{{- $podLabels := merge (dict "app.kubernetes.io/instance" ($clients.instance | default $root.Release.Name)) $clients.podLabels -}}
{{- range $ns := $clients.namespaces | default (list $root.Release.Namespace) -}}
{{- $peers = append $peers (dict "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" $ns)) "podSelector" (dict "matchLabels" $podLabels)) -}}
{{- end -}}
{{- end -}}
{{- $peers = concat $peers ($np.from | default list) ($np.metricsFrom | default list) -}}
{{- $name := include "lib.name" $root -}}
{{- $w := dict
  "root" $root
  "name" (include "lib.fullname" $root)
  "namespace" $root.Release.Namespace
  "appName" $name
  "component" ($v.component | default $name)
  "version" (include "lib.imageVersion" (dict "image" $v.image "root" $root))
  "containerName" $root.Chart.Name
  "port" .port
  "image" (include "lib.image" (dict "image" $v.image "root" $root))
  "pullPolicy" $v.image.pullPolicy
  "imagePullSecrets" (concat ($global.imagePullSecrets | default list) ($v.imagePullSecrets | default list) | uniq)
  "env" (.env | default list)
  "peers" $peers
  "datadog" $v.datadog
  "ddService" $name
  "s" $v -}}
{{- include "lib.object" (dict "kind" .kind "w" $w) -}}
{{- end -}}
