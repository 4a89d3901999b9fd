{{/*
platform-lib: what every service chart shares. The templates take the service chart's root
context (.) and read its values. The one thing a service chart must define itself is
"<chart>.binary" in its _helpers.tpl: a YAML map that describes the binary.

  hostEnv:          variable naming the listen address (set to 0.0.0.0)
  portEnv:          variable naming the port (set to .Values.port)
  scheme:           HTTP or HTTPS (probes, port name, Prometheus scrape scheme)
  env:              fixed extra environment (optional)
  requiredSecrets:  keys that must be in .Values.secrets when appEnv=production, unless
                    existingSecret is used (optional)
  generatedSecrets: keys generated when not given, kept across upgrades (optional)
  sqliteOnly:       config keys left out on PostgreSQL (optional)
  database, replicaCount: the chart's database: values and pod count, for a binary that can
                    run on PostgreSQL (optional; with database.url or database.existingSecret
                    the chart renders platform.deployment, see _statefulset.tpl)
  volumes, volumeMounts: extra pod volumes and their mounts (optional)
*/}}

{{- define "platform.binary" -}}
{{- include (printf "%s.binary" .Chart.Name) . }}
{{- end }}

{{- define "platform.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "platform.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "platform.selectorLabels" -}}
app.kubernetes.io/name: {{ include "platform.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "platform.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "platform.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: platform
{{- end }}

{{- define "platform.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "platform.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "platform.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Name of the HTTP(S) port: "http" or "https". */}}
{{- define "platform.portName" -}}
{{- (include "platform.binary" . | fromYaml).scheme | lower }}
{{- end }}

{{/* The image's user (10001), no privileges, the runtime's default seccomp profile. */}}
{{- define "platform.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "platform.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Non-secret environment, as "KEY: value" lines. Precedence: listen address, port and DATA_DIR
(the probes and the volume depend on them) > the binary's fixed env > .Values.config >
appEnv/logLevel. Empty values are left out (the binary's default applies).
*/}}
{{- define "platform.configData" -}}
{{- $bin := include "platform.binary" . | fromYaml }}
{{- $fixed := dict $bin.hostEnv "0.0.0.0" $bin.portEnv (toString .Values.port) "DATA_DIR" "/data" }}
{{- $defaults := dict "APP_ENV" .Values.appEnv "LOG_LEVEL" .Values.logLevel }}
{{- $database := $bin.database | default dict }}
{{- $pool := dict "DATABASE_POOL_SIZE" (toString ($database.poolSize | default "")) "DATABASE_STATEMENT_TIMEOUT_MS" (toString ($database.statementTimeoutMs | default "")) }}
{{- $env := merge (dict) $fixed ($bin.env | default dict) (.Values.config | default dict) $defaults }}
{{- if include "platform.database" . }}
{{- $env = merge $env $pool }}
{{- range $key := $bin.sqliteOnly }}
{{- $_ := unset $env $key }}
{{- end }}
{{- end }}
{{- range $key, $value := $env }}
{{- if ne (toString $value) "" }}
{{ $key }}: {{ toString $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Secret data (base64), as "KEY: value" lines: non-empty .Values.secrets, plus the binary's
generatedSecrets that were not given (the value already in the cluster is reused, so an
upgrade keeps it).
*/}}
{{- define "platform.secretData" -}}
{{- $bin := include "platform.binary" . | fromYaml }}
{{- $inCluster := dict }}
{{- if $bin.generatedSecrets }}
{{- $current := lookup "v1" "Secret" .Release.Namespace (include "platform.fullname" .) }}
{{- $inCluster = get $current "data" | default dict }}
{{- end }}
{{- range $key := $bin.generatedSecrets }}
{{- if not (index $.Values.secrets $key) }}
{{ $key }}: {{ index $inCluster $key | default (randAlphaNum 48 | b64enc) }}
{{- end }}
{{- end }}
{{- range $key, $value := .Values.secrets }}
{{- if $value }}
{{ $key }}: {{ toString $value | b64enc }}
{{- end }}
{{- end }}
{{- with ($bin.database | default dict).url }}
DATABASE_URL: {{ toString . | b64enc }}
{{- end }}
{{- end }}

{{/* "true" when the chart runs on PostgreSQL (database.url or database.existingSecret), else "". */}}
{{- define "platform.database" -}}
{{- $database := (include "platform.binary" . | fromYaml).database | default dict }}
{{- if or $database.url $database.existingSecret }}true{{ end }}
{{- end }}

{{/* The container's env: DATABASE_URL from database.existingSecret (else it is in the chart's Secret). */}}
{{- define "platform.databaseEnv" -}}
{{- $database := (include "platform.binary" . | fromYaml).database | default dict }}
{{- with $database.existingSecret }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $database.existingSecretKey | default "DATABASE_URL" }}
{{- end }}
{{- end }}

{{/* The Secret the pod reads its secret environment from; empty when there is none. */}}
{{- define "platform.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if (include "platform.secretData" . | trim) }}
{{- include "platform.fullname" . }}
{{- end }}
{{- end }}

{{/* appEnv=production: the binary refuses to start without its secrets; say so at install. */}}
{{- define "platform.validate" -}}
{{- $bin := include "platform.binary" . | fromYaml }}
{{- $database := $bin.database | default dict }}
{{- if and $database.url $database.existingSecret }}
{{- fail "set database.url or database.existingSecret, not both" }}
{{- end }}
{{- if and $database.url (not (regexMatch "^postgres(ql)?://" $database.url)) }}
{{- fail "database.url must be a postgres:// or postgresql:// URL" }}
{{- end }}
{{- if and (include "platform.database" .) (lt (int $bin.replicaCount) 1) }}
{{- fail "replicaCount must be at least 1" }}
{{- end }}
{{- if and (eq .Values.appEnv "production") (not .Values.existingSecret) }}
{{- range $key := $bin.requiredSecrets }}
{{- if not (index $.Values.secrets $key) }}
{{- fail (printf "appEnv=production needs secrets.%s (or existingSecret)" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod annotations: roll the pods when config or secrets change; Prometheus scraping. */}}
{{- define "platform.podAnnotations" -}}
{{- $bin := include "platform.binary" . | fromYaml -}}
checksum/config: {{ include "platform.configData" . | sha256sum }}
checksum/secret: {{ printf "%s/%s/%s" (toYaml .Values.secrets) .Values.existingSecret (toYaml ($bin.database | default dict)) | sha256sum }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.port | quote }}
prometheus.io/path: /metrics
prometheus.io/scheme: {{ $bin.scheme | lower }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* envFrom: the ConfigMap and, when there is one, the Secret. */}}
{{- define "platform.envFrom" -}}
- configMapRef:
    name: {{ include "platform.fullname" . }}
{{- with (include "platform.secretName" .) }}
- secretRef:
    name: {{ . }}
{{- end }}
{{- end }}
