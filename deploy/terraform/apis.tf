# Cloud Text-to-Speech needs its API only: no IAM role grants or limits calling it.
locals {
  services = [
    "aiplatform.googleapis.com",
    "artifactregistry.googleapis.com",
    "container.googleapis.com",
    "iamcredentials.googleapis.com",
    "pubsub.googleapis.com",
    "servicenetworking.googleapis.com",
    "sqladmin.googleapis.com",
    "storage.googleapis.com",
    "texttospeech.googleapis.com",
  ]
}

resource "google_project_service" "enabled" {
  for_each           = toset(local.services)
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

resource "google_artifact_registry_repository" "images" {
  location      = var.region
  repository_id = var.name_prefix
  format        = "DOCKER"
  description   = "vividly-ray images (deploy/deploy.sh pushes here and pins the digest)."
  depends_on    = [google_project_service.enabled]
}
