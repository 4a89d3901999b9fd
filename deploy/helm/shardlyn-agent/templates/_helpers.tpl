{{/* What platform-lib needs to know about the shardlyn-agent binary (see platform-lib's _helpers.tpl). */}}
{{- define "shardlyn-agent.binary" -}}
hostEnv: AGENT_HOST
portEnv: AGENT_METRICS_PORT
scheme: HTTP
env:
  SHARDLYN_API_URL: {{ required "apiUrl (the shardlyn-api base URL) is required" .Values.apiUrl | quote }}
{{- end }}
