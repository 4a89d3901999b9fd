{{/* What platform-lib needs to know about the manager binary (see platform-lib's _helpers.tpl). */}}
{{- define "manager.binary" -}}
{{- $mode := .Values.tls.mode }}
{{- if not (has $mode (list "self-signed" "files" "off")) }}
{{- fail (printf "tls.mode must be self-signed, files or off (got %q)" $mode) }}
{{- end }}
hostEnv: MANAGER_HOST
portEnv: MANAGER_PORT
scheme: {{ if eq $mode "off" }}HTTP{{ else }}HTTPS{{ end }}
# The manager refuses a non-loopback listen address without a token: one is generated
# (and kept across upgrades) unless secrets.MANAGER_AUTH_TOKEN or existingSecret gives it.
{{- if not .Values.existingSecret }}
generatedSecrets: [MANAGER_AUTH_TOKEN]
{{- end }}
env:
  MANAGER_TLS: {{ $mode }}
  {{- if eq $mode "files" }}
  MANAGER_TLS_CERT: /etc/manager/tls/tls.crt
  MANAGER_TLS_KEY: /etc/manager/tls/tls.key
  {{- end }}
{{- if eq $mode "files" }}
volumes:
  - name: tls
    secret:
      secretName: {{ required "tls.secretName is required with tls.mode=files" .Values.tls.secretName }}
volumeMounts:
  - name: tls
    mountPath: /etc/manager/tls
    readOnly: true
{{- end }}
# It can run on PostgreSQL: the database: values switch it to a Deployment.
database:
  {{- toYaml .Values.database | nindent 2 }}
replicaCount: {{ .Values.replicaCount }}
{{- end }}
