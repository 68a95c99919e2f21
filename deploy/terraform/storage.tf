# The three buckets of the platform: delivered content, OER documents, temporary scene files.

resource "google_storage_bucket" "generated_content" {
  name                        = "${var.project_id}-${var.name_prefix}-content"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  depends_on                  = [google_project_service.enabled]
}

resource "google_storage_bucket" "oer_content" {
  name                        = "${var.project_id}-${var.name_prefix}-oer"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  depends_on = [google_project_service.enabled]
}

# The content-addressed scene cache (cache/...). An entry's metadata marks it whole, so the
# metadata objects expire a day before the audio and segments they describe: a reader never
# finds metadata without its blob, and an expired entry is simply made again.
resource "google_storage_bucket" "temp_files" {
  name                        = "${var.project_id}-${var.name_prefix}-temp"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age            = var.temp_files_retention_days
      matches_prefix = ["cache/audio-timings/", "cache/segment-meta/"]
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = var.temp_files_retention_days + 1
    }
    action {
      type = "Delete"
    }
  }

  # Deleted temporary files are not worth keeping recoverable.
  soft_delete_policy {
    retention_duration_seconds = 0
  }

  depends_on = [google_project_service.enabled]
}
