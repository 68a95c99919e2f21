"""Script writers backed by a language model, behind the ScriptWriter port.

The provider adapters live in ``gemini`` and ``openai_compatible`` and are imported from
there, so that using the core never loads a provider SDK.
"""

from vividly_ray.script.llm.client import (
    LlmClient,
    LlmReply,
    MalformedReply,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    RetryPolicy,
)
from vividly_ray.script.llm.runner import SceneRunner, ThreadSceneRunner
from vividly_ray.script.llm.tasks import Outline, PlannedScene, SceneDraft, SceneTask
from vividly_ray.script.llm.verifier import SceneVerifier, Verdict
from vividly_ray.script.llm.writer import LlmScriptWriter

__all__ = [
    "LlmClient",
    "LlmReply",
    "LlmScriptWriter",
    "MalformedReply",
    "Outline",
    "PlannedScene",
    "ProviderError",
    "ProviderRejected",
    "ProviderUnavailable",
    "RetryPolicy",
    "SceneDraft",
    "SceneRunner",
    "SceneTask",
    "SceneVerifier",
    "ThreadSceneRunner",
    "Verdict",
]
