# The workload's Google service account, what it may do, and who may act as it.

resource "google_service_account" "workload" {
  account_id   = "${var.name_prefix}-ray"
  display_name = "vividly-ray workload (GKE Workload Identity)"
}

locals {
  workload = "serviceAccount:${google_service_account.workload.email}"
}

# Workload Identity: the Kubernetes service account vividly/vividly-ray acts as this account.
resource "google_service_account_iam_member" "workload_identity" {
  service_account_id = google_service_account.workload.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.k8s_namespace}/${var.k8s_service_account}]"
}

# Signed V4 URLs without a key file: the account signs through IAM signBlob as itself.
resource "google_service_account_iam_member" "sign_as_self" {
  service_account_id = google_service_account.workload.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.workload
}

resource "google_storage_bucket_iam_member" "content_objects" {
  bucket = google_storage_bucket.generated_content.name
  role   = "roles/storage.objectAdmin"
  member = local.workload
}

resource "google_storage_bucket_iam_member" "temp_objects" {
  bucket = google_storage_bucket.temp_files.name
  role   = "roles/storage.objectAdmin"
  member = local.workload
}

resource "google_storage_bucket_iam_member" "oer_reader" {
  bucket = google_storage_bucket.oer_content.name
  role   = "roles/storage.objectViewer"
  member = local.workload
}

resource "google_pubsub_subscription_iam_member" "requests_subscriber" {
  subscription = google_pubsub_subscription.requests.id
  role         = "roles/pubsub.subscriber"
  member       = local.workload
}

# `vividly doctor` reads the subscription's dead-letter policy and checks the results topic.
resource "google_pubsub_subscription_iam_member" "requests_viewer" {
  subscription = google_pubsub_subscription.requests.id
  role         = "roles/pubsub.viewer"
  member       = local.workload
}

resource "google_pubsub_topic_iam_member" "results_publisher" {
  topic  = google_pubsub_topic.results.id
  role   = "roles/pubsub.publisher"
  member = local.workload
}

resource "google_pubsub_topic_iam_member" "results_viewer" {
  topic  = google_pubsub_topic.results.id
  role   = "roles/pubsub.viewer"
  member = local.workload
}

resource "google_project_iam_member" "cloudsql_client" {
  project = var.project_id
  role    = "roles/cloudsql.client"
  member  = local.workload
}

resource "google_project_iam_member" "vertex_user" {
  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = local.workload
}
