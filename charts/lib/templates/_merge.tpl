{{/*
Deep merge for the roles map: "lib.merge" (list $base $override) prints $base with $override laid over it
as JSON (use fromJson). Maps merge key by key, recursively; anything else in $override (lists, scalars,
and false, 0 or "") replaces the base value, so `roles.admin.autoscaling.enabled: false` over a default
of true is false (vendor-bff/tests/roles_test.yaml). Written out rather than sprig's mergeOverwrite so the
rule does not depend on the mergo version Helm links (older ones skipped "empty" overrides such as
false; Helm 3.21's does not) and never mutates the values it reads.
*/}}
{{- define "lib.merge" -}}
{{- $base := deepCopy (index . 0 | default dict) -}}
{{- $over := index . 1 | default dict -}}
{{- range $k, $v := $over -}}
{{- $b := index $base $k -}}
{{- if and (kindIs "map" $v) (kindIs "map" $b) -}}
{{- $_ := set $base $k (include "lib.merge" (list $b $v) | fromJson) -}}
{{- else -}}
{{- $_ := set $base $k $v -}}
{{- end -}}
{{- end -}}
{{- toJson $base -}}
{{- end -}}
