{{/* What platform-lib needs to know about the shardlyn-api binary (see platform-lib's _helpers.tpl). */}}
{{- define "shardlyn-api.binary" -}}
hostEnv: SHARDLYN_HOST
portEnv: SHARDLYN_PORT
scheme: HTTP
requiredSecrets: [SHARDLYN_JWT_SECRET, SHARDLYN_ENCRYPTION_KEY]
{{- end }}
