{{/*
A server binary: one pod, its SQLite database on a PVC mounted at /data.
Exactly one replica: SQLite has one writer, and the binary keeps its state only there, so a
second pod would be a second, diverging database. Scaling out waits for the PostgreSQL backend.
*/}}
{{- define "platform.statefulset" -}}
{{- include "platform.validate" . }}
{{- $bin := include "platform.binary" . | fromYaml }}
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
    metadata:
      labels:
        {{- include "platform.selectorLabels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- include "platform.podAnnotations" . | nindent 8 }}
    spec:
      serviceAccountName: {{ include "platform.serviceAccountName" . }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      # SIGTERM: the binary stops accepting, finishes in-flight requests (<= 10 s), exits 0.
      terminationGracePeriodSeconds: 30
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "platform.podSecurityContext" . | nindent 8 }}
      containers:
        - name: {{ .Chart.Name }}
          image: {{ include "platform.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: {{ include "platform.portName" . }}
              containerPort: {{ .Values.port }}
              protocol: TCP
          envFrom:
            {{- include "platform.envFrom" . | nindent 12 }}
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
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- include "platform.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: data
              mountPath: /data
            - name: tmp
              mountPath: /tmp
            {{- with $bin.volumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
            {{- with .Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        # The root filesystem is read-only; SQLite may spill temporary files to /tmp.
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
        {{- with $bin.volumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        {{- with .Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
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
