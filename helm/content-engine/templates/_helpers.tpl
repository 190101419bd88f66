{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "content-engine.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped name; the release name alone when it already contains the chart name. */}}
{{- define "content-engine.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "content-engine.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Standard labels; pass (dict "root" $ "component" "api"). */}}
{{- define "content-engine.labels" -}}
helm.sh/chart: {{ include "content-engine.chart" .root }}
{{ include "content-engine.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: content-engine
{{- end -}}

{{- define "content-engine.selectorLabels" -}}
app.kubernetes.io/name: {{ include "content-engine.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "content-engine.serviceAccountName" -}}
{{- $sa := index .root.Values.serviceAccounts .component -}}
{{- if $sa.create -}}
{{- default (printf "%s-%s" (include "content-engine.fullname" .root) .component) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{/* repository@digest; the worker falls back to the API image when worker.image is empty. */}}
{{- define "content-engine.image" -}}
{{- $repo := .root.Values.image.repository -}}
{{- $digest := .root.Values.image.digest -}}
{{- if and (eq .component "worker") .root.Values.worker.image.digest -}}
{{- $repo = default $repo .root.Values.worker.image.repository -}}
{{- $digest = .root.Values.worker.image.digest -}}
{{- end -}}
{{- printf "%s@%s" $repo $digest -}}
{{- end -}}

{{/* Pod security context shared by every pod: non-root 10001, RuntimeDefault seccomp. */}}
{{- define "content-engine.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "content-engine.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Zone spread first, then host spread, for a component. */}}
{{- define "content-engine.topologySpread" -}}
{{- if .root.Values.topologySpread.enabled -}}
topologySpreadConstraints:
  - maxSkew: {{ .root.Values.topologySpread.maxSkew }}
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: {{ .root.Values.topologySpread.whenUnsatisfiable }}
    labelSelector:
      matchLabels:
        {{- include "content-engine.selectorLabels" . | nindent 8 }}
  - maxSkew: {{ .root.Values.topologySpread.maxSkew }}
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "content-engine.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end -}}

{{/* Cross-field checks JSON Schema cannot express. */}}
{{- define "content-engine.validate" -}}
{{- $as := .Values.api.autoscaling -}}
{{- if and $as.enabled (gt (int $as.minReplicas) (int $as.maxReplicas)) -}}
{{- fail "api.autoscaling.minReplicas must not exceed api.autoscaling.maxReplicas" -}}
{{- end -}}
{{- $k := .Values.worker.keda -}}
{{- if and $k.enabled (gt (int $k.minReplicaCount) (int $k.maxReplicaCount)) -}}
{{- fail "worker.keda.minReplicaCount must not exceed worker.keda.maxReplicaCount" -}}
{{- end -}}
{{- if not .Values.worker.processorThreads -}}
{{- $cpu := toString (dig "limits" "cpu" "" .Values.worker.resources) -}}
{{- if or (eq $cpu "") (regexMatch "^0*(\\.0*)?m?$" $cpu) -}}
{{- fail "worker.resources.limits.cpu (above 0) is required when worker.processorThreads is unset: the worker's thread count comes from the CPU limit, and without one the kubelet reports the node's cores" -}}
{{- end -}}
{{- end -}}
{{- if and (eq .Values.config.processor "bedrock") (not .Values.config.bedrockModelId) -}}
{{- fail "config.bedrockModelId is required when config.processor is bedrock" -}}
{{- end -}}
{{- end -}}
