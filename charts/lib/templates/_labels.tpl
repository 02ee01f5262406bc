{{/*
Labels. Every object carries the standard set; every pod also carries the selector labels
app.kubernetes.io/name, /instance and /component (the BFF role, or the workload's own component) and
app.kubernetes.io/part-of: eta-suite. Arg of each: a workload dict (lib.workload's argument) or any dict
with "root", "appName" and "component".
*/}}

{{- define "lib.selectorLabels" -}}
app.kubernetes.io/name: {{ .appName }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "lib.labels" -}}
{{ include "lib.selectorLabels" . }}
app.kubernetes.io/part-of: eta-suite
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .version | default .root.Chart.AppVersion | toString | quote }}
helm.sh/chart: {{ include "lib.chart" .root }}
{{- with .extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
