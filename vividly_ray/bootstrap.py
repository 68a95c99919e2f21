"""The composition root: the one place that picks adapters from settings.

Every edge (the CLI, the Serve deployments, the benchmark) builds what it needs here. Nothing is
created at import time; each builder is called once by the edge that then holds what it built.
The Ray adapters (the scene executor over the pools, the tracker client) are handed in by the
Ray layer, which is the only part that knows about Ray.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.costs import PriceTable
from vividly_ray.domain.errors import ConfigurationError
from vividly_ray.domain.models import RenderSpec
from vividly_ray.resilience import BreakerPolicy, CircuitBreaker
from vividly_ray.script.visuals import with_visuals
from vividly_ray.settings import Settings
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

if TYPE_CHECKING:
    # A replica imports only what it builds: a Narrator replica never loads SQLAlchemy, the
    # writer or the validator, which each cost a share of a core at start-up.
    from vividly_ray.library.index import LibraryIndex
    from vividly_ray.media.encoder import FfmpegSegmentEncoder
    from vividly_ray.messaging.bridge import PubSubBridge
    from vividly_ray.persistence.accounts import SqlAccounts
    from vividly_ray.persistence.database import Database
    from vividly_ray.persistence.dispatch_queue import SqlDispatchQueue
    from vividly_ray.persistence.outbox import SqlWebhookOutbox
    from vividly_ray.persistence.repository import SqlRequestRepository
    from vividly_ray.pipeline.orchestrator import VideoPipeline
    from vividly_ray.pipeline.ports import (
        Narrator,
        PipelineListener,
        QuestionAssessor,
        SceneExecutor,
        ScriptWriter,
        StatusTracker,
    )
    from vividly_ray.script.llm.runner import SceneRunner
    from vividly_ray.script.offline_writer import OfflineScriptWriter
    from vividly_ray.service.erasure import Eraser
    from vividly_ray.service.intake import Doorbell, Intake
    from vividly_ray.validation.assess import QuestionValidator


def prepare_home(settings: Settings) -> None:
    for folder in (settings.home, settings.blob_dir, settings.library_dir, settings.work_dir):
        folder.mkdir(parents=True, exist_ok=True)


def scratch_dir(settings: Settings) -> Path:
    """This process's scratch folder in the work folder (``storage.scratch``). The first call
    in a process also removes what processes that are gone left in the work folder."""
    from vividly_ray.storage.scratch import process_scratch

    return process_scratch(settings.work_dir)


@dataclass(frozen=True)
class Stores:
    """Everything that persists: the database's repositories and the BlobStore."""

    db: Database
    requests: SqlRequestRepository
    queue: SqlDispatchQueue
    accounts: SqlAccounts
    outbox: SqlWebhookOutbox
    blobs: BlobStore


def build_database(settings: Settings) -> Database:
    """The database, migrated to the current schema when ``auto_migrate`` is on."""
    from vividly_ray.persistence.database import Database

    prepare_home(settings)
    url = settings.effective_database_url
    if settings.auto_migrate:
        from vividly_ray.persistence.migrate import upgrade

        upgrade(url)
    return Database.from_url(url)


def build_blobs(settings: Settings) -> BlobStore:
    """Where delivered files and scene artifacts live: a local folder, or the platform's
    buckets (``cache/`` keys in the temp-files bucket when one is set)."""
    prepare_home(settings)
    if not settings.uses_gcs:
        return LocalBlobStore(settings.blob_dir)
    from vividly_ray.storage.gcs_blobs import GcsBlobStore
    from vividly_ray.storage.routed import RoutedBlobStore

    client = build_storage_client(settings)
    signer = settings.gcs_signer_email or None
    content = GcsBlobStore(client, settings.gcs_generated_content_bucket, signer_email=signer)
    temp = settings.gcs_temp_files_bucket
    if not temp or temp == settings.gcs_generated_content_bucket:
        return content
    return RoutedBlobStore(content, {"cache/": GcsBlobStore(client, temp, signer_email=signer)})


def build_store_urls(blobs: BlobStore) -> Callable[[str, str, int], str] | None:
    """Signed URLs of the bucket itself when files live in GCS (None: the API serves them)."""
    from vividly_ray.storage.gcs_blobs import GcsBlobStore
    from vividly_ray.storage.routed import RoutedBlobStore

    def store_of(key: str) -> BlobStore:
        return blobs.store_for(key) if isinstance(blobs, RoutedBlobStore) else blobs

    if not isinstance(blobs, GcsBlobStore | RoutedBlobStore):
        return None
    delivered = store_of("videos/")
    if not isinstance(delivered, GcsBlobStore) or not delivered.can_sign():
        # An emulator's anonymous client cannot sign: the API serves the files itself.
        return None

    def signed(key: str, name: str, ttl_s: int) -> str:
        store = store_of(key)
        if not isinstance(store, GcsBlobStore):
            raise ConfigurationError([f"files under {key!r} are not in a bucket"])
        # Players stream the video and captions inline; the rest downloads under its name.
        inline = name.endswith((".mp4", ".vtt", ".jpg"))
        return store.signed_url(key, ttl_s, download_name=None if inline else name)

    return signed


def build_stores(settings: Settings) -> Stores:
    from vividly_ray.persistence.accounts import SqlAccounts
    from vividly_ray.persistence.dispatch_queue import SqlDispatchQueue
    from vividly_ray.persistence.outbox import SqlWebhookOutbox

    db = build_database(settings)
    requests = _repository(settings, db)
    return Stores(
        db=db,
        requests=requests,
        queue=SqlDispatchQueue(db, requests),
        accounts=SqlAccounts(db),
        outbox=SqlWebhookOutbox(db),
        blobs=build_blobs(settings),
    )


def _repository(settings: Settings, db: Database) -> SqlRequestRepository:
    from vividly_ray.persistence.repository import SqlRequestRepository

    # Terminal events go to the results outbox only when a results topic will publish them.
    return SqlRequestRepository(db, publish_results=bool(settings.pubsub_results_topic))


def build_repository(settings: Settings) -> SqlRequestRepository:
    return _repository(settings, build_database(settings))


def build_storage_client(settings: Settings) -> Any:
    """A Cloud Storage client (``STORAGE_EMULATOR_HOST`` points it at an emulator)."""
    import google.cloud.storage as storage

    return storage.Client(project=settings.google_cloud_project or None)


def build_intake(settings: Settings, stores: Stores, doorbell: Doorbell | None = None) -> Intake:
    """Intake for every edge (API, CLI, Pub/Sub): records requests, refuses past the depth, and
    rings ``doorbell`` (the Ray layer's wakes a Dispatcher) once a new one is committed."""
    from vividly_ray.service.intake import Intake, IntakePolicy

    return Intake(
        stores.requests,
        IntakePolicy(
            max_queue_depth=settings.max_queue_depth,
            allow_private_callbacks=settings.webhook_allow_private,
        ),
        doorbell,
    )


def build_pubsub_bridge(
    settings: Settings, stores: Stores, doorbell: Doorbell | None = None
) -> PubSubBridge | None:
    """The Pub/Sub intake loop and results relay that the settings ask for (None: neither);
    the intake rings ``doorbell`` for each request it records."""
    if not (settings.pubsub_subscription or settings.pubsub_results_topic):
        return None
    import google.cloud.pubsub_v1 as pubsub_v1

    from vividly_ray.messaging.bridge import PubSubBridge
    from vividly_ray.messaging.pubsub import (
        FlowSettings,
        PubSubIntakeLoop,
        PubSubResultsPublisher,
        subscription_path,
        topic_path,
    )
    from vividly_ray.persistence.results_outbox import SqlRejections, SqlResultOutbox
    from vividly_ray.service.message_intake import MessageIntake
    from vividly_ray.service.results_relay import ResultsRelay

    project = settings.google_cloud_project
    loop = None
    if settings.pubsub_subscription:
        path = subscription_path(project, settings.pubsub_subscription)
        intake = build_intake(settings, stores, doorbell)
        loop = PubSubIntakeLoop(
            pubsub_v1.SubscriberClient(),
            path,
            MessageIntake(
                intake,
                SqlRejections(stores.db),
                source=path,
                default_organization=settings.pubsub_organization,
                allow_private_callbacks=settings.webhook_allow_private,
            ),
            FlowSettings(
                max_messages=settings.pubsub_max_messages,
                max_extension_s=settings.pubsub_max_lease_extension_s,
            ),
        )
    relay = None
    if settings.pubsub_results_topic:
        publisher = PubSubResultsPublisher(
            pubsub_v1.PublisherClient(), topic_path(project, settings.pubsub_results_topic)
        )
        relay = ResultsRelay(SqlResultOutbox(stores.db), publisher)
    return PubSubBridge(loop, relay, poll_seconds=settings.poll_seconds)


def build_eraser(settings: Settings, stores: Stores) -> Eraser:
    """Erasure on demand and the retention sweep, over the request rows and the BlobStore."""
    from vividly_ray.persistence.results_outbox import SqlRejections
    from vividly_ray.service.erasure import Eraser

    return Eraser(
        stores.requests,
        stores.blobs,
        SqlRejections(stores.db),
        retention_days=settings.retention_days,
        # A cancelled holder notices within a heartbeat (a third of the lease); wait a whole one.
        grace=timedelta(seconds=settings.lease_seconds),
    )


def build_library(settings: Settings) -> LibraryIndex:
    """The starter articles, the documents added locally and, with ``GCS_OER_CONTENT_BUCKET``,
    the bucket's documents (synced to a local copy that only re-downloads what changed)."""
    from vividly_ray.library.store import load_index

    prepare_home(settings)
    index = load_index(settings.library_dir)
    if settings.gcs_oer_content_bucket:
        from vividly_ray.library.gcs_source import load_bucket_documents

        index.add(
            load_bucket_documents(
                build_storage_client(settings),
                settings.gcs_oer_content_bucket,
                settings.gcs_oer_prefix,
                settings.library_dir / "bucket",
            )
        )
    return index


def build_validator(library: LibraryIndex) -> QuestionValidator:
    from vividly_ray.validation.assess import QuestionValidator

    return QuestionValidator(extra_terms=library.vocabulary())


def build_offline_writer(library: LibraryIndex) -> OfflineScriptWriter:
    from vividly_ray.script.offline_writer import OfflineScriptWriter

    return OfflineScriptWriter(keywords=library.keywords)


@with_visuals
def build_writer(
    settings: Settings, library: LibraryIndex, runner: SceneRunner | None = None
) -> ScriptWriter:
    """The configured script writer. A model-backed writer plans with its model and writes the
    scenes in parallel through ``runner`` (the ScriptWriter pool's replicas in the Serve app);
    the offline writer is its fallback, per scene and, while the provider's breaker is open,
    for whole scripts."""
    offline = build_offline_writer(library)
    if settings.script_writer == "offline":
        return offline
    if settings.script_writer == "gemini":
        from vividly_ray.script.llm.gemini import GeminiScriptWriter, make_gemini_client

        return GeminiScriptWriter(
            make_gemini_client(
                settings.google_cloud_project,
                settings.vertex_location,
                base_url=settings.vertex_base_url or None,
                credentials=google_credentials(settings),
            ),
            settings.vertex_model,
            fallback=offline,
            runner=runner,
            breaker=breaker(settings, "gemini"),
        )
    from vividly_ray.script.llm.openai_compatible import OpenAICompatibleScriptWriter

    return OpenAICompatibleScriptWriter(
        settings.openai_base_url,
        settings.openai_model,
        fallback=offline,
        api_key=settings.openai_api_key.get_secret_value(),
        runner=runner,
        breaker=breaker(settings, "openai"),
    )


def check_script_model(settings: Settings) -> str:
    """For ``vividly doctor``: the configured model answers a one-line structured request."""
    from vividly_ray.script.llm.client import LlmClient

    client: LlmClient
    if settings.script_writer == "gemini":
        from vividly_ray.script.llm.gemini import GeminiClient, make_gemini_client

        client = GeminiClient(
            make_gemini_client(
                settings.google_cloud_project,
                settings.vertex_location,
                base_url=settings.vertex_base_url or None,
                credentials=google_credentials(settings),
                timeout_s=15.0,
            ),
            settings.vertex_model,
        )
        model = f"gemini:{settings.vertex_model}"
    else:
        from vividly_ray.script.llm.openai_compatible import OpenAICompatibleClient

        client = OpenAICompatibleClient(
            settings.openai_base_url,
            settings.openai_model,
            settings.openai_api_key.get_secret_value(),
            timeout_s=15.0,
        )
        model = f"openai:{settings.openai_model}"
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}},
        "required": ["ok"],
        "additionalProperties": False,
    }
    reply = client.generate_json(
        "Answer with the JSON object the schema describes.", 'Reply {"ok": true}.', schema
    )
    if reply.blocked:
        raise RuntimeError(f"{model} blocked a health-check request: {reply.blocked}")
    return f"{model} answers structured requests ({reply.tokens_in}+{reply.tokens_out} tokens)"


def build_cache(settings: Settings, blobs: BlobStore | None = None) -> ContentCache:
    return ContentCache(blobs or build_blobs(settings), scratch_dir(settings) / "cache-writes")


def google_credentials(settings: Settings) -> Any:
    """Credentials for the Google AI APIs: a static token when one is configured, else None
    (the client libraries then use Application Default Credentials: Workload Identity on GKE)."""
    token = settings.google_access_token.get_secret_value()
    if not token:
        return None
    from google.oauth2.credentials import Credentials

    return Credentials(token=token)  # type: ignore[no-untyped-call]


def breaker(settings: Settings, name: str) -> CircuitBreaker:
    return CircuitBreaker(
        name, BreakerPolicy(settings.breaker_failures, settings.breaker_open_seconds)
    )


def build_narrator(settings: Settings, threads: int | None = None) -> Narrator:
    """The configured narrator (the Narrator pool's replicas each hold one): the embedded Piper
    voice, Cloud Text-to-Speech with Piper as the fallback when it fails, or silence paced
    like speech (``silent``: load tests and benchmarks, which measure the service, not a voice)."""
    from vividly_ray.speech.piper_narrator import PiperNarrator

    cache = build_cache(settings)
    if settings.narrator == "silent":
        from vividly_ray.speech.silent_narrator import SilentNarrator

        return SilentNarrator(cache)
    piper = PiperNarrator(cache, threads=threads or settings.narrator_threads)
    if settings.narrator == "piper":
        return piper
    from vividly_ray.speech.fallback_narrator import FallbackNarrator
    from vividly_ray.speech.google_narrator import GoogleNarrator, make_tts_client

    google = GoogleNarrator(
        make_tts_client(settings.tts_endpoint or None, google_credentials(settings)),
        cache,
        voice=settings.tts_voice,
        language_code=settings.tts_language,
    )
    return FallbackNarrator(google, piper, breaker(settings, "google-tts"))


def warm_up(adapter: object) -> None:
    """Load an adapter's models now (if it has any) rather than on its first call."""
    warm = getattr(adapter, "warm_up", None)
    if callable(warm):
        warm()


def check_google_voice(settings: Settings) -> str:
    """For ``vividly doctor``: the TTS endpoint answers and offers the configured voice."""
    from vividly_ray.speech.google_narrator import make_tts_client

    client = make_tts_client(settings.tts_endpoint or None, google_credentials(settings))
    voices = client.list_voices(
        request={"language_code": settings.tts_language}, timeout=10.0, retry=None
    ).voices
    names = {voice.name for voice in voices}
    if settings.tts_voice not in names:
        raise RuntimeError(
            f"voice {settings.tts_voice!r} is not offered for {settings.tts_language} "
            f"({len(names)} voices are)"
        )
    return f"Cloud Text-to-Speech offers {settings.tts_voice}; Piper is the fallback"


def build_encoder(
    settings: Settings, spec: RenderSpec, threads: int | None = None
) -> FfmpegSegmentEncoder:
    from vividly_ray.media.encoder import FfmpegSegmentEncoder

    return FfmpegSegmentEncoder(
        spec, build_cache(settings), scratch_dir(settings), threads or settings.encoder_threads
    )


def build_pipeline(
    settings: Settings,
    *,
    executor: SceneExecutor,
    tracker: StatusTracker,
    library: LibraryIndex | None = None,
    writer: ScriptWriter | None = None,
    assessor: QuestionAssessor | None = None,
    blobs: BlobStore | None = None,
    listener: PipelineListener | None = None,
) -> VideoPipeline:
    """The pipeline with the configured adapters; the edge supplies executor and tracker (and
    may hand in adapters it keeps for many requests, so they are built once)."""
    from vividly_ray.media.assemble import VideoAssembler
    from vividly_ray.media.hls import BlobHlsPublisher
    from vividly_ray.media.narration_track import ProgressiveNarration
    from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline
    from vividly_ray.script.pacing import EstimatedPacing

    library = library or build_library(settings)
    blobs = blobs or build_blobs(settings)
    scratch = scratch_dir(settings)
    ports = PipelinePorts(
        assessor=assessor or build_validator(library),
        retriever=library,
        writer=writer or build_writer(settings, library),
        executor=executor,
        assembler=VideoAssembler(blobs, scratch),
        tracker=tracker,
        blobs=blobs,
        scratch=scratch / "requests",
        pacing=EstimatedPacing(),
        prices=PriceTable.from_json(settings.prices),
        stream=BlobHlsPublisher(blobs, scratch / "stream"),
        narration=ProgressiveNarration(blobs, scratch / "narration"),
    )
    return VideoPipeline(ports, listener)
