{{/* What platform-lib needs to know about the threat-cloud binary (see platform-lib's _helpers.tpl). */}}
{{- define "threat-cloud.binary" -}}
hostEnv: TC_HOST
portEnv: TC_PORT
scheme: HTTP
env:
  TC_DB_PATH: /data/threat-cloud.db
# A bootstrap admin key (>= 32 characters) is generated, and kept across upgrades, unless
# secrets.TC_API_KEYS or existingSecret gives the keys.
{{- if not .Values.existingSecret }}
generatedSecrets: [TC_API_KEYS]
{{- end }}
{{- end }}
