# Requests in, dead letters, results out. Names match deploy/k8s/configmap.yaml.

resource "google_pubsub_topic" "requests" {
  name       = "${var.name_prefix}-requests"
  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  name       = "${var.name_prefix}-requests-dead-letter"
  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "results" {
  name       = "${var.name_prefix}-results"
  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "requests" {
  name                       = "${var.name_prefix}-requests"
  topic                      = google_pubsub_topic.requests.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "604800s"

  # Off on purpose: intake is exactly-once in the database (a message's request_id, or its
  # content and publish day, is the idempotency key), so redeliveries are harmless and the
  # subscription keeps the lower latency and higher throughput of at-least-once delivery.
  enable_exactly_once_delivery = false

  # A malformed message is recorded in rejected_messages and nacked; after this many deliveries
  # Pub/Sub moves it to the dead-letter topic instead of redelivering it forever.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  expiration_policy {
    ttl = ""
  }
}

# Keeps dead letters (7 days) so they can be read: gcloud pubsub subscriptions pull ... --auto-ack
resource "google_pubsub_subscription" "dead_letter" {
  name                       = "${var.name_prefix}-requests-dead-letter"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering is done by Pub/Sub's own service agent: it must publish to the dead-letter
# topic and subscribe to (acknowledge on) the source subscription.
locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source_subscriber" {
  subscription = google_pubsub_subscription.requests.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
