{{- define "llmwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "llmwatch.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "llmwatch.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "llmwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "llmwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "llmwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "llmwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "llmwatch.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "llmwatch.secretName" -}}
{{- default (include "llmwatch.fullname" .) .Values.secret.existingSecret -}}
{{- end -}}

{{/* The agent's pod template, shared by the Deployment and the GPU DaemonSet. */}}
{{- define "llmwatch.podTemplate" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "llmwatch.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
    {{- with $root.Values.agent.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/secret: {{ include (print $root.Template.BasePath "/secret.yaml") $root | sha256sum }}
    {{- with $root.Values.agent.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "llmwatch.serviceAccountName" $root }}
  automountServiceAccountToken: false
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .runtimeClassName }}
  runtimeClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.agent.podSecurityContext | nindent 4 }}
  {{- with .nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: agent
      image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag | default $root.Chart.AppVersion }}"
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args:
        - agent
        - --log-level={{ $root.Values.agent.logLevel }}
        {{- range $root.Values.agent.args }}
        - {{ . | quote }}
        {{- end }}
      ports:
        - name: metrics
          containerPort: {{ $root.Values.agent.port }}
          protocol: TCP
      env:
        # the agent's configuration (docs/agent.md): every option is an LLMWATCH_AGENT_* variable
        - name: LLMWATCH_AGENT_HOST
          value: "0.0.0.0"
        - name: LLMWATCH_AGENT_PORT
          value: {{ $root.Values.agent.port | quote }}
        # the DaemonSet reads its node's GPUs; scoring runs once, in the Deployment
        - name: LLMWATCH_AGENT_GPU
          value: {{ eq .component "gpu" | quote }}
        - name: LLMWATCH_AGENT_SCORING
          value: {{ ne .component "gpu" | quote }}
        - name: LLMWATCH_AGENT_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ include "llmwatch.secretName" $root }}
              key: api-token
              optional: true
        - name: LLMWATCH_AGENT_STORE_URL
          valueFrom:
            secretKeyRef:
              name: {{ include "llmwatch.secretName" $root }}
              key: database-url
              optional: true
        - name: LLMWATCH_STORE_SPOOL_DIR
          value: /var/lib/llmwatch/spool
        {{- with $root.Values.agent.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: metrics
        periodSeconds: 10
      livenessProbe:
        httpGet:
          path: /healthz
          port: metrics
        periodSeconds: 20
      resources:
        {{- toYaml $root.Values.agent.resources | nindent 8 }}
      securityContext:
        {{- toYaml $root.Values.agent.securityContext | nindent 8 }}
      volumeMounts:
        - name: spool
          mountPath: /var/lib/llmwatch/spool
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: spool
      emptyDir:
        sizeLimit: 1Gi
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
{{- end -}}
