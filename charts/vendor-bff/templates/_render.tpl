{{/*
"vendor-bff.render": one kind of object (lib.object's kinds) for every enabled role, each named
"<release>-vendor-bff-<role>" in the role's namespace. Arg: dict "root" "kind". The workload dict is
described in charts/lib/templates/_deployment.tpl.
*/}}
{{- define "vendor-bff.render" -}}
{{- $root := .root -}}
{{- $kind := .kind -}}
{{- $global := $root.Values.global | default dict -}}
{{- range $role := splitList " " (include "vendor-bff.roleNames" $root) }}
{{- $s := include "vendor-bff.role" (dict "root" $root "role" $role) | fromJson }}
{{- if $s.enabled }}
{{- include "vendor-bff.checkStartup" (dict "role" $role "s" $s) }}
{{- $np := $s.networkPolicy | default dict }}
{{- $env := list
  (dict "name" "ROLE" "value" $role)
  (dict "name" "GEO_URL" "value" (include "vendor-bff.geoUrl" $root))
  (dict "name" "ML_PROXY_URL" "value" (include "vendor-bff.mlProxyUrl" $root)) }}
{{- $env = concat $env (include "vendor-bff.kafkaEnv" (dict "role" $role "s" $s) | fromJsonArray) }}
{{- $w := dict
  "root" $root
  "name" (include "vendor-bff.roleName" (dict "root" $root "role" $role))
  "namespace" $s.namespace
  "appName" (include "lib.name" $root)
  "component" $role
  "version" (include "lib.imageVersion" (dict "image" $root.Values.image "root" $root))
  "containerName" "vendor-bff"
  "port" 8080
  "image" (include "lib.image" (dict "image" $root.Values.image "root" $root))
  "pullPolicy" $root.Values.image.pullPolicy
  "imagePullSecrets" (concat ($global.imagePullSecrets | default list) ($root.Values.imagePullSecrets | default list) | uniq)
  "env" $env
  "peers" (concat ($np.from | default list) ($np.metricsFrom | default list))
  "datadog" $root.Values.datadog
  "ddService" (printf "vendor-bff-%s" $role)
  "s" $s }}
{{- include "lib.object" (dict "kind" $kind "w" $w) }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The BFF warms up before it listens (catalogue read, then WARMUP_ESTIMATES estimates), for at most 60 s
(service-kit's warm-up cap): a startup probe that gives up sooner would restart a pod that is only warming
up, forever. Fails the render unless both warm-ups are off. The events role has no warm-up (src/app.ts
registers it for the estimate routes only), so its startup budget is not held to it. Arg: dict "role" "s".
*/}}
{{- define "vendor-bff.checkStartup" -}}
{{- if ne .role "events" -}}
{{- $p := .s.probes.startup -}}
{{- $budget := mul (int $p.periodSeconds) (int $p.failureThreshold) -}}
{{- $cfg := .s.config | default dict -}}
{{- $stores := ternary $cfg.WARMUP_MAX_STORES 1 (hasKey $cfg "WARMUP_MAX_STORES") -}}
{{- $estimates := ternary $cfg.WARMUP_ESTIMATES 1 (hasKey $cfg "WARMUP_ESTIMATES") -}}
{{- $warm := or (ne (int $stores) 0) (ne (int $estimates) 0) -}}
{{- if and $warm (le (int $budget) 60) -}}
{{- fail (printf "roles.%s.probes.startup allows %d s (periodSeconds x failureThreshold), not more than the 60 s the warm-up may take before the server listens" .role (int $budget)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The Kafka env of a role from its `kafka` block: KAFKA_BROKERS, KAFKA_SSL (always said, never implied),
KAFKA_SSL_CA_FILE, KAFKA_SASL_MECHANISM, and the username and password only as secretKeyRefs to
kafka.sasl.existingSecret, never values. None for the admin role, which opens no Kafka client (so it holds
no Kafka credential either). Fails the render on a block the service would refuse at start
(services/vendor-bff/src/config.ts). Arg: dict "role" "s". Prints a JSON list.
*/}}
{{- define "vendor-bff.kafkaEnv" -}}
{{- $k := .s.kafka | default dict -}}
{{- $sasl := $k.sasl | default dict -}}
{{- $at := printf "roles.%s.kafka" .role -}}
{{- if and $sasl.mechanism (not $sasl.existingSecret) -}}
{{- fail (printf "%s.sasl.existingSecret: the name of an existing Secret with the SASL username and password (kafka.sasl.mechanism is %s)" $at $sasl.mechanism) -}}
{{- end -}}
{{- if and $sasl.existingSecret (not $sasl.mechanism) -}}
{{- fail (printf "%s.sasl.mechanism: plain, scram-sha-256 or scram-sha-512 (kafka.sasl.existingSecret is set)" $at) -}}
{{- end -}}
{{- if and $k.sslCaFile (not $k.ssl) -}}
{{- fail (printf "%s.sslCaFile needs %s.ssl: true (TLS is never implied)" $at $at) -}}
{{- end -}}
{{- if and (not $k.brokers) (or $k.ssl $sasl.mechanism) -}}
{{- fail (printf "%s: ssl and sasl need %s.brokers (without brokers the role uses its in-process bus)" $at $at) -}}
{{- end -}}
{{- $env := list -}}
{{- if and $k.brokers (ne .role "admin") -}}
{{- $env = append $env (dict "name" "KAFKA_BROKERS" "value" $k.brokers) -}}
{{- $env = append $env (dict "name" "KAFKA_SSL" "value" (ternary "true" "false" (eq (toString $k.ssl) "true"))) -}}
{{- with $k.sslCaFile }}{{ $env = append $env (dict "name" "KAFKA_SSL_CA_FILE" "value" .) }}{{ end -}}
{{- if $sasl.mechanism -}}
{{- $env = append $env (dict "name" "KAFKA_SASL_MECHANISM" "value" $sasl.mechanism) -}}
{{- $env = append $env (dict "name" "KAFKA_SASL_USERNAME" "valueFrom" (dict "secretKeyRef" (dict "name" $sasl.existingSecret "key" ($sasl.usernameKey | default "username")))) -}}
{{- $env = append $env (dict "name" "KAFKA_SASL_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" $sasl.existingSecret "key" ($sasl.passwordKey | default "password")))) -}}
{{- end -}}
{{- end -}}
{{- toJson $env -}}
{{- end -}}
