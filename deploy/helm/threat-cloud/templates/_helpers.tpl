{{/* What platform-lib needs to know about the threat-cloud binary (see platform-lib's _helpers.tpl). */}}
{{- define "threat-cloud.binary" -}}
hostEnv: TC_HOST
portEnv: TC_PORT
scheme: HTTP
env:
  TC_DB_PATH: /data/threat-cloud.db
# The SQLite file and its own backups; PostgreSQL is backed up with its own tools.
sqliteOnly: [TC_DB_PATH, TC_BACKUP_DIR, TC_BACKUP_KEEP]
# A bootstrap admin key (>= 32 characters) is generated, and kept across upgrades, unless
# secrets.TC_API_KEYS or existingSecret gives the keys.
{{- if not .Values.existingSecret }}
generatedSecrets: [TC_API_KEYS]
{{- end }}
# It can run on PostgreSQL: the database: values switch it to a Deployment.
database:
  {{- toYaml .Values.database | nindent 2 }}
replicaCount: {{ .Values.replicaCount }}
{{- end }}
