"""The probes of ``vividly doctor``: each checks one backend for real and says what it found.

A probe raises on failure (the report shows the reason); Google calls are made without the
client libraries' long default retries, so an unreachable backend fails within seconds.
"""

from __future__ import annotations

import uuid

from vividly_ray.settings import Settings

_TIMEOUT_S = 10.0


def database(settings: Settings) -> str:
    from vividly_ray.persistence.database import Database
    from vividly_ray.persistence.migrate import current_revision, head_revision

    url = settings.effective_database_url
    db = Database.from_url(url)
    try:
        db.ping()
    finally:
        db.dispose()
    current, head = current_revision(url), head_revision()
    if current != head:
        if settings.auto_migrate:
            found = f"at revision {current}" if current else "not created yet"
            return f"reachable; schema {found}, upgraded to {head} at start-up"
        raise RuntimeError(
            f"schema at revision {current}, the code needs {head}: run `vividly db upgrade`"
        )
    return f"reachable; schema at revision {head}"


def ffmpeg() -> str:
    from vividly_ray.doctor import ffmpeg_version
    from vividly_ray.media.ffmpeg import ffmpeg_exe

    return ffmpeg_version(ffmpeg_exe())


def local_storage(settings: Settings) -> str:
    folder = settings.blob_dir
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".doctor-{uuid.uuid4().hex}"
    probe.write_bytes(b"ok")
    probe.unlink()
    return f"writable local folder {folder}"


def bucket_writable(settings: Settings, bucket_name: str) -> str:
    from vividly_ray.bootstrap import build_storage_client

    bucket = build_storage_client(settings).bucket(bucket_name)
    if not bucket.exists(timeout=_TIMEOUT_S, retry=None):
        raise RuntimeError(f"bucket {bucket_name!r} does not exist or is not visible")
    blob = bucket.blob(f"doctor/{uuid.uuid4().hex}.txt")
    blob.upload_from_string(b"ok", content_type="text/plain", timeout=_TIMEOUT_S, retry=None)
    if blob.download_as_bytes(timeout=_TIMEOUT_S, retry=None) != b"ok":
        raise RuntimeError("a test object read back different bytes")
    blob.delete(timeout=_TIMEOUT_S, retry=None)
    return "exists; write, read and delete work"


def bucket_readable(settings: Settings, bucket_name: str) -> str:
    from vividly_ray.bootstrap import build_storage_client

    client = build_storage_client(settings)
    blobs = list(
        client.list_blobs(
            bucket_name,
            prefix=settings.gcs_oer_prefix or None,
            max_results=50,
            timeout=_TIMEOUT_S,
            retry=None,
        )
    )
    return f"readable; {len(blobs)}{'+' if len(blobs) == 50 else ''} objects under the prefix"


def subscription(settings: Settings) -> str:
    import google.cloud.pubsub_v1 as pubsub_v1

    from vividly_ray.messaging.pubsub import subscription_path

    path = subscription_path(settings.google_cloud_project, settings.pubsub_subscription)
    with pubsub_v1.SubscriberClient() as client:
        found = client.get_subscription(
            request={"subscription": path}, timeout=_TIMEOUT_S, retry=None
        )
    dead_letter = found.dead_letter_policy.dead_letter_topic
    policy = (
        f"dead-letter topic {dead_letter} after {found.dead_letter_policy.max_delivery_attempts}"
        " attempts"
        if dead_letter
        else "no dead-letter topic (rejected messages are recorded and dropped)"
    )
    return f"exists on {found.topic}; {policy}"


def results_topic(settings: Settings) -> str:
    import google.cloud.pubsub_v1 as pubsub_v1

    from vividly_ray.messaging.pubsub import topic_path

    path = topic_path(settings.google_cloud_project, settings.pubsub_results_topic)
    client = pubsub_v1.PublisherClient()
    client.get_topic(request={"topic": path}, timeout=_TIMEOUT_S, retry=None)
    return f"{path} exists"


def script_writer(settings: Settings) -> str:
    if settings.script_writer == "offline":
        from vividly_ray.bootstrap import build_library

        library = build_library(settings)
        return f"offline writer; the library holds {len(library.documents())} documents"
    from vividly_ray.bootstrap import check_script_model

    return check_script_model(settings)


def narrator(settings: Settings) -> str:
    if settings.narrator == "silent":
        return "silent: videos get no voice (load tests and benchmarks only)"
    if settings.narrator == "piper":
        from vividly_ray.bootstrap import build_narrator, warm_up

        warm_up(build_narrator(settings))
        return "the bundled Piper voice loads"
    from vividly_ray.bootstrap import check_google_voice

    return check_google_voice(settings)
