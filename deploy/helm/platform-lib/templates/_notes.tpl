{{/* The common part of a server chart's NOTES.txt. */}}
{{- define "platform.notes" -}}
{{- $bin := include "platform.binary" . | fromYaml }}
{{- $name := include "platform.fullname" . }}
{{- $scheme := $bin.scheme | lower }}
{{ .Chart.Name }} {{ .Chart.AppVersion }} is installed as {{ $name }} in namespace {{ .Release.Namespace }}.

Check it from your machine:
  kubectl -n {{ .Release.Namespace }} rollout status statefulset/{{ $name }}
  kubectl -n {{ .Release.Namespace }} port-forward svc/{{ $name }} {{ .Values.port }}:{{ .Values.service.port }}
  curl {{ if eq $scheme "https" }}-k {{ end }}{{ $scheme }}://127.0.0.1:{{ .Values.port }}/health
  API docs: {{ $scheme }}://127.0.0.1:{{ .Values.port }}/docs
{{- if .Values.ingress.enabled }}

Ingress:
{{- range .Values.ingress.hosts }}
  http{{ if $.Values.ingress.tls }}s{{ end }}://{{ .host }}
{{- end }}
  Rate limits and logs see the client address only with config.TRUST_PROXY="true" (one proxy hop) or the proxies' CIDRs.
{{- end }}

Data: SQLite on the PVC data-{{ $name }}-0, mounted at /data. Keep one replica.
Logs: kubectl -n {{ .Release.Namespace }} logs statefulset/{{ $name }} (JSON lines)
{{- if ne .Values.appEnv "production" }}

appEnv={{ .Values.appEnv }}: secrets you did not set are generated in /data and reused.
Set appEnv=production (with real secrets) for anything but a trial.
{{- end }}
{{- end }}
