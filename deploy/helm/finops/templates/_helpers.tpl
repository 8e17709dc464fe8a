{{/* The chart's name: the app label, and part of the objects' names (finops.fullname). */}}
{{- define "finops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/* 40 characters at most: the longest suffix (-collector, -secrets) keeps names under 63. */}}
{{- define "finops.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else if contains (include "finops.name" .) .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "finops.name" .) | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "finops.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "finops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: finops
{{- end }}

{{/* What selects a component's pods: (list $ "api"). The release is in it, so two releases
in one namespace never select each other's pods. */}}
{{- define "finops.selector" -}}
{{- $root := index . 0 }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "finops.podLabels" -}}
app.kubernetes.io/name: {{ include "finops.name" (index . 0) }}
{{ include "finops.selector" . }}
{{- end }}

{{- define "finops.image" -}}
image: {{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) | quote }}
{{- with .Values.image.pullPolicy }}
imagePullPolicy: {{ . }}
{{- end }}
{{- end }}

{{- define "finops.secretName" -}}
{{- if .Values.secrets.existingSecret }}{{ .Values.secrets.existingSecret }}
{{- else }}{{ include "finops.fullname" . }}-secrets{{ end }}
{{- end }}

{{- define "finops.publicUrl" -}}
{{- required "api.publicUrl: the URL people open finops at (links in Slack messages)" .Values.api.publicUrl }}
{{- end }}

{{/* Every pod: non-root (the image's user), the runtime's seccomp profile. */}}
{{- define "finops.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile: {type: RuntimeDefault}
{{- end }}

{{/* Every container: read-only root filesystem, no capabilities, no privilege escalation. */}}
{{- define "finops.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities: {drop: [ALL]}
{{- end }}

{{/* Where the code finds the warehouse and finops.yaml (FINOPS_DB, FINOPS_CONFIG). */}}
{{- define "finops.pathEnv" -}}
- {name: FINOPS_DB, value: /var/lib/finops/finops.duckdb}
- {name: FINOPS_CONFIG, value: /etc/finops/finops.yaml}
{{- end }}

{{/* The warehouse (read-only for the API: called with true), the config, a writable /tmp. */}}
{{- define "finops.volumeMounts" -}}
volumeMounts:
  - name: warehouse
    mountPath: /var/lib/finops
    {{- if . }}
    readOnly: true
    {{- end }}
  - {name: config, mountPath: /etc/finops, readOnly: true}
  - {name: tmp, mountPath: /tmp}
{{- end }}

{{- define "finops.volumes" -}}
volumes:
  - name: warehouse
    persistentVolumeClaim: {claimName: {{ include "finops.fullname" . }}-warehouse}
  - name: config
    configMap: {name: {{ include "finops.fullname" . }}-config}
  - name: tmp
    emptyDir: {}
{{- end }}

{{/* A CronJob's pod runs on the API pod's node: the warehouse volume is ReadWriteOnce. */}}
{{- define "finops.besideTheApi" -}}
affinity:
  podAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector:
          matchLabels:
            {{- include "finops.selector" (list . "api") | nindent 12 }}
        topologyKey: kubernetes.io/hostname
{{- end }}
