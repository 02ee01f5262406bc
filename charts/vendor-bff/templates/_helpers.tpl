{{/* The roles this chart can deploy, in render order (ROLE=all is for local runs and tests only). */}}
{{- define "vendor-bff.roleNames" -}}precise rough admin events{{- end -}}

{{/*
One role's settings: roles.default with roles.<role> laid over it (lib.merge), and its namespace resolved.
Arg: dict "root" "role". Prints JSON.
*/}}
{{- define "vendor-bff.role" -}}
{{- $roles := .root.Values.roles -}}
{{- $s := include "lib.merge" (list $roles.default (index $roles .role | default dict)) | fromJson -}}
{{- $_ := set $s "namespace" ($s.namespace | default .root.Release.Namespace) -}}
{{- toJson $s -}}
{{- end -}}

{{/* "<fullname>-<role>": every object of the role. Arg: dict "root" "role". */}}
{{- define "vendor-bff.roleName" -}}
{{- include "lib.checkName" (printf "%s-%s" (include "lib.fullname" .root) .role) -}}
{{- end -}}

{{/* Geo and ML proxy URLs: the values, or the suite's Services in the release namespace. Arg: root. */}}
{{- define "vendor-bff.geoUrl" -}}
{{- .Values.upstreams.geoUrl | default (printf "http://%s-geo.%s.svc:8081" .Release.Name .Release.Namespace) -}}
{{- end -}}
{{- define "vendor-bff.mlProxyUrl" -}}
{{- .Values.upstreams.mlProxyUrl | default (printf "http://%s-ml-proxy.%s.svc:8082" .Release.Name .Release.Namespace) -}}
{{- end -}}

