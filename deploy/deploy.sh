#!/usr/bin/env bash
# One release of vividly-ray to GKE: build and push the image, pin digests (never tags) in the
# manifests, migrate the schema, apply the RayService, wait until the new cluster serves, smoke
# test it, and roll back to the previous image if the wait or the smoke test fails.
#
#   IMAGE_REPO=us-central1-docker.pkg.dev/PROJECT/vividly/vividly-ray \
#   SMOKE_API_KEY=vk_... deploy/deploy.sh
#
# Required:
#   IMAGE_REPO      Artifact Registry repository of the image; must end in /vividly-ray
#   SMOKE_API_KEY   an API key for `vividly smoke` (vividly keys create --org smoke)
# Optional (defaults in brackets):
#   IMAGE_DIGEST    deploy this already-pushed digest (sha256:...) instead of building [build]
#   SMOKE_URL       the service's URL; unset: a kubectl port-forward to the Serve Service
#   MANIFEST [cluster.yaml]   MIGRATION_JOB [deploy/k8s/jobs/db-upgrade.yaml]
#   RUN_MIGRATIONS [1]   NAMESPACE [vividly]   RAYSERVICE [vividly]   TAG [UTC time]
#   PLATFORM [linux/amd64]   PYTHON_BASE [python:3.11.13-slim-bookworm]
#   SQL_PROXY_IMAGE [gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.18.2]
#   WAIT_TIMEOUT_S [1800]   POLL_INTERVAL_S [15]   SMOKE_PORT [18000]
#   GKE_CLUSTER, GKE_LOCATION, PROJECT_ID: when set, fetch the cluster's credentials first
#   DOCKER, KUBECTL, VIVIDLY, GCLOUD: the tools [docker, kubectl, vividly, gcloud]
set -euo pipefail

DOCKER=${DOCKER:-docker}
KUBECTL=${KUBECTL:-kubectl}
VIVIDLY=${VIVIDLY:-vividly}
GCLOUD=${GCLOUD:-gcloud}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MANIFEST=${MANIFEST:-$ROOT/cluster.yaml}
MIGRATION_JOB=${MIGRATION_JOB:-$ROOT/deploy/k8s/jobs/db-upgrade.yaml}
RUN_MIGRATIONS=${RUN_MIGRATIONS:-1}
NAMESPACE=${NAMESPACE:-vividly}
RAYSERVICE=${RAYSERVICE:-vividly}
TAG=${TAG:-$(date -u +%Y%m%d-%H%M%S)}
PLATFORM=${PLATFORM:-linux/amd64}
PYTHON_BASE=${PYTHON_BASE:-python:3.11.13-slim-bookworm}
SQL_PROXY_IMAGE=${SQL_PROXY_IMAGE:-gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.18.2}
WAIT_TIMEOUT_S=${WAIT_TIMEOUT_S:-1800}
POLL_INTERVAL_S=${POLL_INTERVAL_S:-15}
SMOKE_PORT=${SMOKE_PORT:-18000}

DIGEST_RE='sha256:[0-9a-f]{64}'
APP_IMAGE_RE="[^[:space:]\"']+/vividly-ray@${DIGEST_RE}"
PROXY_IMAGE_RE="[^[:space:]\"']+/cloud-sql-proxy:[^[:space:]@\"']+@${DIGEST_RE}"
PLACEHOLDER="sha256:$(printf '0%.0s' {1..64})"
PORT_FORWARD_PID=""

log() { printf 'deploy: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}

cleanup() {
    if [[ -n $PORT_FORWARD_PID ]]; then
        kill "$PORT_FORWARD_PID" 2>/dev/null || true
        wait "$PORT_FORWARD_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

check_settings() {
    local missing=()
    [[ -n ${IMAGE_REPO:-} ]] || missing+=("IMAGE_REPO (e.g. us-central1-docker.pkg.dev/PROJECT/vividly/vividly-ray)")
    [[ -n ${SMOKE_API_KEY:-} ]] || missing+=("SMOKE_API_KEY (an API key: vividly keys create --org smoke)")
    if ((${#missing[@]})); then
        log "missing required variables:"
        printf '  %s\n' "${missing[@]}" >&2
        exit 2
    fi
    [[ $IMAGE_REPO =~ ^[a-z0-9][a-z0-9._/-]*/vividly-ray$ ]] ||
        die "IMAGE_REPO must be a lowercase repository ending in /vividly-ray, got '$IMAGE_REPO'"
    [[ -z ${IMAGE_DIGEST:-} || ${IMAGE_DIGEST} =~ ^${DIGEST_RE}$ ]] ||
        die "IMAGE_DIGEST must be sha256: and 64 hex digits, got '$IMAGE_DIGEST'"
    [[ -f $MANIFEST ]] || die "no manifest at $MANIFEST"
    if [[ $RUN_MIGRATIONS == 1 && ! -f $MIGRATION_JOB ]]; then
        die "no migration Job at $MIGRATION_JOB (RUN_MIGRATIONS=0 skips migrations)"
    fi
}

# The registry's digest of an image reference (the multi-platform index when there is one).
resolve_digest() {
    local ref=$1 out digest
    out=$("$DOCKER" buildx imagetools inspect "$ref" --format '{{json .Manifest.Digest}}')
    digest=${out//\"/}
    [[ $digest =~ ^${DIGEST_RE}$ ]] || die "could not resolve the digest of $ref (got '$out')"
    printf '%s\n' "$digest"
}

# Rewrites every vividly-ray image in FILE to IMAGE (repo@digest); fails if there is none.
pin_app_image() {
    local file=$1 image=$2 tmp
    grep -Eq "image: *${APP_IMAGE_RE}" "$file" || die "no vividly-ray image@sha256 in $file"
    tmp=$(mktemp)
    sed -E "s#(image: *)${APP_IMAGE_RE}#\\1${image}#" "$file" >"$tmp"
    cat "$tmp" >"$file"
    rm -f "$tmp"
}

pin_proxy_image() {
    local file=$1 image=$2 tmp
    grep -Eq "image: *${PROXY_IMAGE_RE}" "$file" || return 0
    tmp=$(mktemp)
    sed -E "s#(image: *)${PROXY_IMAGE_RE}#\\1${image}#" "$file" >"$tmp"
    cat "$tmp" >"$file"
    rm -f "$tmp"
}

manifest_image() {
    grep -Eo "${APP_IMAGE_RE}" "$MANIFEST" | head -n 1 || true
}

# The image the RayService runs now (empty before the first release).
live_image() {
    "$KUBECTL" -n "$NAMESPACE" get rayservice "$RAYSERVICE" --ignore-not-found \
        -o 'jsonpath={.spec.rayClusterConfig.headGroupSpec.template.spec.containers[0].image}'
}

build_and_push() {
    local base_digest
    base_digest=$(resolve_digest "$PYTHON_BASE")
    log "building $IMAGE_REPO:$TAG on $PYTHON_BASE@$base_digest"
    # stdout carries only the digest: the tools' own output goes to stderr.
    "$DOCKER" build --platform "$PLATFORM" \
        --build-arg "PYTHON_IMAGE=$PYTHON_BASE@$base_digest" \
        -f "$ROOT/deploy/Dockerfile" -t "$IMAGE_REPO:$TAG" "$ROOT" >&2
    "$DOCKER" push "$IMAGE_REPO:$TAG" >&2
    resolve_digest "$IMAGE_REPO:$TAG"
}

migrate() {
    local image=$1
    pin_app_image "$MIGRATION_JOB" "$image"
    pin_proxy_image "$MIGRATION_JOB" "$PROXY_REF"
    log "migrating the schema with $image"
    "$KUBECTL" -n "$NAMESPACE" delete job vividly-db-upgrade --ignore-not-found
    "$KUBECTL" apply -f "$MIGRATION_JOB"
    if ! "$KUBECTL" -n "$NAMESPACE" wait --for=condition=complete job/vividly-db-upgrade --timeout=900s; then
        "$KUBECTL" -n "$NAMESPACE" logs job/vividly-db-upgrade -c db-upgrade --tail=50 >&2 || true
        die "the schema migration failed; nothing else was changed"
    fi
}

# Ready, no upgrade in flight, the spec observed, and the active cluster on IMAGE.
wait_for() {
    local image=$1 deadline status generation observed ready upgrading cluster running
    deadline=$((SECONDS + WAIT_TIMEOUT_S))
    while ((SECONDS < deadline)); do
        status=$("$KUBECTL" -n "$NAMESPACE" get rayservice "$RAYSERVICE" -o \
            'jsonpath={.metadata.generation}|{.status.observedGeneration}|{.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="UpgradeInProgress")].status}|{.status.activeServiceStatus.rayClusterName}') || status=""
        IFS='|' read -r generation observed ready upgrading cluster <<<"$status"
        if [[ -n $generation && $generation == "$observed" && $ready == True && $upgrading != True && -n $cluster ]]; then
            running=$("$KUBECTL" -n "$NAMESPACE" get raycluster "$cluster" -o \
                'jsonpath={.spec.headGroupSpec.template.spec.containers[0].image}') || running=""
            if [[ $running == "$image" ]]; then
                log "RayService $RAYSERVICE serves $image on $cluster"
                return 0
            fi
        fi
        log "waiting: generation=${generation:-?} observed=${observed:-?} ready=${ready:-?} upgrading=${upgrading:-?} cluster=${cluster:-?}"
        sleep "$POLL_INTERVAL_S"
    done
    log "timed out after ${WAIT_TIMEOUT_S}s waiting for $image"
    return 1
}

smoke() {
    local url=${SMOKE_URL:-}
    if [[ -z $url ]]; then
        # Started after the wait, so it reaches the new cluster's pods.
        "$KUBECTL" -n "$NAMESPACE" port-forward "svc/$RAYSERVICE-serve-svc" "$SMOKE_PORT:8000" >&2 &
        PORT_FORWARD_PID=$!
        local tries=0
        until (exec 3<>"/dev/tcp/127.0.0.1/$SMOKE_PORT") 2>/dev/null; do
            tries=$((tries + 1))
            if ((tries >= 60)); then
                log "kubectl port-forward to svc/$RAYSERVICE-serve-svc did not open port $SMOKE_PORT"
                return 1
            fi
            sleep 0.5
        done
        url="http://127.0.0.1:$SMOKE_PORT"
    fi
    log "smoke test against $url"
    "$VIVIDLY" smoke --url "$url" --api-key "$SMOKE_API_KEY"
}

rollback() {
    local reason=$1
    cleanup
    PORT_FORWARD_PID=""
    if [[ -z $PREVIOUS || $PREVIOUS == *"@$PLACEHOLDER" ]]; then
        die "$reason; there is no previous release to roll back to: fix and deploy again"
    fi
    if ! [[ $PREVIOUS =~ ^${APP_IMAGE_RE}$ ]]; then
        die "$reason; the previous image '$PREVIOUS' is not pinned by digest: roll back by hand"
    fi
    log "$reason; rolling back to $PREVIOUS"
    pin_app_image "$MANIFEST" "$PREVIOUS"
    if [[ $RUN_MIGRATIONS == 1 ]]; then
        pin_app_image "$MIGRATION_JOB" "$PREVIOUS"
    fi
    "$KUBECTL" apply -f "$MANIFEST"
    if wait_for "$PREVIOUS"; then
        log "rolled back: $PREVIOUS serves again (schema migrations are not undone)"
    else
        log "the rollback to $PREVIOUS did not become ready either: see deploy/README.md#troubleshooting"
    fi
    exit 1
}

main() {
    check_settings
    if [[ -n ${GKE_CLUSTER:-} ]]; then
        "$GCLOUD" container clusters get-credentials "$GKE_CLUSTER" \
            --location "${GKE_LOCATION:?GKE_LOCATION is needed with GKE_CLUSTER}" \
            ${PROJECT_ID:+--project "$PROJECT_ID"}
    fi

    PREVIOUS=$(live_image)
    if [[ -z $PREVIOUS ]]; then
        PREVIOUS=$(manifest_image)
    fi
    log "previous image: ${PREVIOUS:-none}"

    local digest
    if [[ -n ${IMAGE_DIGEST:-} ]]; then
        digest=$IMAGE_DIGEST
    else
        digest=$(build_and_push)
    fi
    local image="$IMAGE_REPO@$digest"
    PROXY_REF="$SQL_PROXY_IMAGE@$(resolve_digest "$SQL_PROXY_IMAGE")"
    log "release: $image (proxy $PROXY_REF)"

    if [[ $RUN_MIGRATIONS == 1 ]]; then
        migrate "$image"
    fi
    pin_app_image "$MANIFEST" "$image"
    pin_proxy_image "$MANIFEST" "$PROXY_REF"
    "$KUBECTL" apply -f "$MANIFEST"

    wait_for "$image" || rollback "the new cluster did not become ready"
    smoke || rollback "the smoke test failed"
    log "released $image (previous: ${PREVIOUS:-none})"
}

main "$@"
