{{/* What platform-lib needs to know about the auth-server binary (see platform-lib's _helpers.tpl). */}}
{{- define "auth-server.binary" -}}
hostEnv: AUTH_HOST
portEnv: AUTH_PORT
# TLS is terminated by the Ingress; the binary's own TLS (TLS_CERT_FILE) is not used here.
scheme: HTTP
requiredSecrets: [JWT_SECRET, TOTP_ENCRYPTION_KEY]
{{- end }}
