{{/*
Environment. Plain settings come from a `config` map whose keys the values schema restricts to the
service's config schema (services/<svc>/src/config.ts), minus the keys the chart owns (PORT, ROLE,
upstream URLs, SHUTDOWN_*) and minus secrets; secrets come only by reference (`secretEnv`: KEY -> an
existing Secret's name and key), never as values.
*/}}

{{/*
One env value as a string. Numbers from values files arrive as float64: 67108864 would print as
6.7108864e+07, so whole numbers print as integers; maps and lists (MODEL_SETTINGS) as JSON.
*/}}
{{- define "lib.envValue" -}}
{{- $v := . -}}
{{- if kindIs "float64" $v -}}
{{- if eq (floor $v) $v -}}{{ printf "%.0f" $v }}{{- else -}}{{ toString $v }}{{- end -}}
{{- else if or (kindIs "map" $v) (kindIs "slice" $v) -}}
{{- toJson $v -}}
{{- else -}}
{{- toString $v -}}
{{- end -}}
{{- end -}}

