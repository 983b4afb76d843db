{{/* Names, labels and the per-process pieces every template shares. */}}

{{- define "veil.fullname" -}}
{{- if contains "veil" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-veil" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Kubernetes name of a component key: notifierWorker -> notifier-worker. */}}
{{- define "veil.componentName" -}}
{{- if eq . "notifierWorker" -}}notifier-worker{{- else -}}{{ . }}{{- end -}}
{{- end -}}

{{- define "veil.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: veil
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: veil
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "gateway"). */}}
{{- define "veil.selectorLabels" -}}
app.kubernetes.io/name: veil
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ include "veil.componentName" .component }}
{{- end -}}

{{/* Pod labels: the selector plus the chart's informational labels. */}}
{{- define "veil.podLabels" -}}
{{ include "veil.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: veil
{{- end -}}

{{- define "veil.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{- define "veil.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{ .Values.secrets.existingSecret }}
{{- else -}}
{{ include "veil.fullname" . }}-secrets
{{- end -}}
{{- end -}}

{{/* The schema (and Postgres role) a component uses: the worker shares the notifier's. */}}
{{- define "veil.dbService" -}}
{{- if eq . "notifierWorker" -}}notifier{{- else -}}{{ . }}{{- end -}}
{{- end -}}

{{/* gRPC target of a service: a headless Service resolved by the dns resolver. */}}
{{- define "veil.grpcAddress" -}}
{{- $root := .root -}}
{{- $override := index $root.Values.addresses .service -}}
{{- if $override -}}
{{ $override }}
{{- else -}}
{{- $port := (index $root.Values .service).grpcPort -}}
dns:///{{ include "veil.fullname" $root }}-{{ .service }}-headless.{{ $root.Release.Namespace }}.svc.{{ $root.Values.clusterDomain }}:{{ $port }}
{{- end -}}
{{- end -}}

{{/* Secret-backed environment of one component (never in a ConfigMap). */}}
{{- define "veil.secretEnv" -}}
{{- $root := .root -}}
{{- $secret := include "veil.secretName" $root -}}
{{- if ne .component "gateway" }}
{{- $db := include "veil.dbService" .component }}
- name: VEIL_DB_PRIMARY_DSN
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $db }}-db-primary-dsn}
{{- if $root.Values.postgres.replica.enabled }}
- name: VEIL_DB_REPLICA_DSN
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: {{ $db }}-db-replica-dsn}
{{- end }}
{{- end }}
{{- if eq .component "social" }}
- name: VEIL_PSEUDONYM_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: pseudonym-key}
{{- end }}
{{- if eq .component "gateway" }}
- name: VEIL_WEBHOOK_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: webhook-secret-key}
{{- end }}
{{- if or (eq .component "gateway") (eq .component "notifierWorker") (eq .component "confessions") }}
{{- /* Makes Telegram ids in Redis keys opaque (FSM, rate limits, flood limits), and
       keys the protected subjects of bans and limits (confessions). */}}
- name: VEIL_ID_HASH_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: id-hash-key}
{{- end }}
{{- if has .component (list "confessions" "notifier" "notifierWorker") }}
{{- include "veil.sealEnv" $root }}
{{- end }}
{{- end -}}

{{/* Keys of sealed data (veil/core/sealing.py): confessions, notifier, its workers,
     their migration Jobs and the key rotation Job. A process without them, or
     with keys the schema was not sealed with, refuses to start. */}}
{{- define "veil.sealEnv" -}}
{{- $secret := include "veil.secretName" . }}
- name: VEIL_SEAL_MASTER_KEYS
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: seal-master-keys}
- name: VEIL_SEAL_LOOKUP_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret }}, key: seal-lookup-key}
{{- end -}}

{{/* Composed DSN; call with (dict "root" $ "service" "social" "host" h "port" p). */}}
{{- define "veil.dsn" -}}
{{- $pg := .root.Values.postgres -}}
{{- $user := (index .root.Values .service).dbUser -}}
{{- $password := index .root.Values.secrets.dbPasswords .service | urlquery -}}
{{- printf "%s://%s:%s@%s:%v/%s" $pg.driver $user $password .host .port $pg.database -}}
{{- if $pg.query -}}?{{ $pg.query }}{{- end -}}
{{- end -}}

{{- define "veil.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
