"""StreamPartCache: the progressive stream's parts in the content cache.

A part is the same bytes whenever the same scene (segment and narration) is published at the
same place on the timeline, so it is kept under a key of those and a format version::

    cache/stream/ab/<key>.mp4        the init section
    cache/stream/ab/<key>.m4s        the media, placed on the timeline
    cache/stream-meta/ab/<key>.json  its picture length and link; written last (marks it whole)
    cache/streamed-by/<segment stem>/<key>   an empty link to the scene's segment

Evicting the segment (as erasing a request that used it does) evicts the part through its link,
the way assembled videos go (``storage.cache.evict``).
"""

from __future__ import annotations

import json
import logging

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.errors import BlobNotFound, VividlyError
from vividly_ray.domain.models import SceneAudio, SceneSegment
from vividly_ray.storage.cache import METADATA_KINDS, ContentCache, content_key, link_key

log = logging.getLogger("vividly.stream")

CACHE_KIND = "stream"
CACHE_META_KIND = METADATA_KINDS[CACHE_KIND]
# Part of every key: raise it when the mux or the part layout changes.
STREAM_FORMAT_VERSION = 1
_CONTENT_TYPE = "video/mp4"


def part_cache_key(start: float, audio: SceneAudio, segment: SceneSegment) -> str:
    """The content key of a stream part: its scene's segment and narration, its place on the
    timeline (decode times and the fitted narration depend on it) and the part format."""
    return content_key(
        "stream", STREAM_FORMAT_VERSION, segment.content_key, audio.content_key, f"{start:.6f}"
    )


class StreamPartCache:
    """Cached stream parts as (init section, media, picture length)."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def get(self, key: str) -> tuple[bytes, bytes, float] | None:
        try:
            # The metadata first: it is written last, so it is there only for a whole entry.
            found = self.blobs.get_bytes(ContentCache.blob_key(CACHE_META_KIND, key, ".json"))
            init = self.blobs.get_bytes(ContentCache.blob_key(CACHE_KIND, key, ".mp4"))
            media = self.blobs.get_bytes(ContentCache.blob_key(CACHE_KIND, key, ".m4s"))
        except BlobNotFound:
            return None  # never made, or evicted meanwhile: the caller muxes
        return init, media, float(json.loads(found.decode("utf-8"))["duration"])

    def put_quietly(
        self, key: str, init: bytes, media: bytes, duration: float, segment: SceneSegment
    ) -> None:
        """The part, then its link to the scene's segment, then the metadata. The part is
        published either way, so a failed store only costs a later identical scene its reuse."""
        try:
            self.blobs.put_bytes(
                ContentCache.blob_key(CACHE_KIND, key, ".mp4"), init, _CONTENT_TYPE
            )
            self.blobs.put_bytes(
                ContentCache.blob_key(CACHE_KIND, key, ".m4s"), media, _CONTENT_TYPE
            )
            link = link_key(segment.video_key, key, CACHE_KIND)
            self.blobs.put_bytes(link, b"", "application/octet-stream")
            meta = json.dumps({"duration": duration, "links": [link]}).encode("utf-8")
            self.blobs.put_bytes(
                ContentCache.blob_key(CACHE_META_KIND, key, ".json"), meta, "application/json"
            )
        except (OSError, VividlyError) as exc:
            log.warning("the stream part was not cached: %s", exc)
