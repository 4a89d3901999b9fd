{{/*
A server binary on SQLite: one pod, its database on a PVC mounted at /data.
Exactly one replica: SQLite has one writer, and the binary keeps its state only there, so a
second pod would be a second, diverging database. Charts with database values switch to
platform.deployment (replicaCount pods on PostgreSQL) through platform.workload.
*/}}
{{- define "platform.statefulset" -}}
{{- include "platform.validate" . }}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "platform.fullname" . }}
  labels:
    {{- include "platform.labels" . | nindent 4 }}
spec:
  replicas: 1
  serviceName: {{ include "platform.fullname" . }}
  selector:
    matchLabels:
      {{- include "platform.selectorLabels" . | nindent 6 }}
  template:
    {{- include "platform.podTemplate" . | nindent 4 }}
  # The claim outlives `helm uninstall` (StatefulSet default): delete it by hand to drop data.
  volumeClaimTemplates:
    - metadata:
        name: data
        labels:
          {{- include "platform.selectorLabels" . | nindent 10 }}
      spec:
        accessModes: [ReadWriteOnce]
        {{- with .Values.persistence.storageClass }}
        storageClassName: {{ . }}
        {{- end }}
        resources:
          requests:
            storage: {{ .Values.persistence.size }}
{{- end }}

{{/* The pod of a server binary (StatefulSet or Deployment). */}}
{{- define "platform.podTemplate" -}}
{{- $bin := include "platform.binary" . | fromYaml }}
metadata:
  labels:
    {{- include "platform.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- include "platform.podAnnotations" . | nindent 4 }}
spec:
  serviceAccountName: {{ include "platform.serviceAccountName" . }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  # SIGTERM: the binary stops accepting, finishes in-flight requests (<= 10 s), exits 0.
  terminationGracePeriodSeconds: 30
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- include "platform.podSecurityContext" . | nindent 4 }}
  containers:
    - name: {{ .Chart.Name }}
      image: {{ include "platform.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      ports:
        - name: {{ include "platform.portName" . }}
          containerPort: {{ .Values.port }}
          protocol: TCP
      envFrom:
        {{- include "platform.envFrom" . | nindent 8 }}
      {{- with (include "platform.databaseEnv" .) }}
      env:
        {{- . | nindent 8 }}
      {{- end }}
      # Migrations run at start: allow up to 5 minutes before liveness applies.
      startupProbe:
        httpGet:
          path: /health
          port: {{ include "platform.portName" . }}
          scheme: {{ $bin.scheme }}
        periodSeconds: 5
        failureThreshold: 60
      livenessProbe:
        httpGet:
          path: /health
          port: {{ include "platform.portName" . }}
          scheme: {{ $bin.scheme }}
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /health/ready
          port: {{ include "platform.portName" . }}
          scheme: {{ $bin.scheme }}
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 3
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        {{- include "platform.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: data
          mountPath: /data
        - name: tmp
          mountPath: /tmp
        {{- with $bin.volumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    {{- if include "platform.database" . }}
    # On PostgreSQL nothing lasting lives in /data: generated files only (no claim).
    - name: data
      emptyDir:
        sizeLimit: 256Mi
    {{- end }}
    # The root filesystem is read-only; SQLite may spill temporary files to /tmp.
    - name: tmp
      emptyDir:
        sizeLimit: 256Mi
    {{- with $bin.volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
A server binary on PostgreSQL (database.url or database.existingSecret): replicaCount pods of
a Deployment sharing the database, no claim (/data is an emptyDir for generated files). Pods
are ready only while the database answers (/health/ready checks it). A rolling update adds a
pod before it removes one; the pods apply migrations one at a time (an advisory lock).
*/}}
{{- define "platform.deployment" -}}
{{- include "platform.validate" . }}
{{- $bin := include "platform.binary" . | fromYaml }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "platform.fullname" . }}
  labels:
    {{- include "platform.labels" . | nindent 4 }}
spec:
  replicas: {{ $bin.replicaCount }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      {{- include "platform.selectorLabels" . | nindent 6 }}
  template:
    {{- include "platform.podTemplate" . | nindent 4 }}
{{- end }}

{{/* The StatefulSet on SQLite, the Deployment on PostgreSQL. */}}
{{- define "platform.workload" -}}
{{- if include "platform.database" . }}
{{- include "platform.deployment" . }}
{{- else }}
{{- include "platform.statefulset" . }}
{{- end }}
{{- end }}
