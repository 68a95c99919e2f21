# The values deploy/k8s/configmap.yaml and serviceaccount.yaml need.

output "workload_service_account" {
  value = google_service_account.workload.email
}

output "generated_content_bucket" {
  value = google_storage_bucket.generated_content.name
}

output "oer_content_bucket" {
  value = google_storage_bucket.oer_content.name
}

output "temp_files_bucket" {
  value = google_storage_bucket.temp_files.name
}

output "requests_subscription" {
  value = google_pubsub_subscription.requests.name
}

output "dead_letter_subscription" {
  value = google_pubsub_subscription.dead_letter.name
}

output "results_topic" {
  value = google_pubsub_topic.results.name
}

output "image_repository" {
  value = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}/vividly-ray"
}
