variable "project_id" {
  description = "Google Cloud project that runs vividly-ray."
  type        = string
}

variable "region" {
  description = "Region of the buckets and the Artifact Registry repository."
  type        = string
  default     = "us-central1"
}

variable "name_prefix" {
  description = "Prefix of the topics, subscriptions and service account (the ConfigMap uses vividly-*)."
  type        = string
  default     = "vividly"
}

variable "k8s_namespace" {
  description = "Namespace of the Kubernetes service account (deploy/k8s/serviceaccount.yaml)."
  type        = string
  default     = "vividly"
}

variable "k8s_service_account" {
  description = "Name of the Kubernetes service account that Workload Identity maps."
  type        = string
  default     = "vividly-ray"
}

variable "temp_files_retention_days" {
  description = "Scene audio and segments are deleted this many days after upload."
  type        = number
  default     = 3
}

variable "max_delivery_attempts" {
  description = "Deliveries of a request message before Pub/Sub dead-letters it (5-100)."
  type        = number
  default     = 5

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub accepts 5 to 100 delivery attempts."
  }
}

variable "ack_deadline_seconds" {
  description = "Ack deadline of the request subscription; the client extends leases up to VIVIDLY_PUBSUB_MAX_LEASE_EXTENSION_S."
  type        = number
  default     = 60
}
