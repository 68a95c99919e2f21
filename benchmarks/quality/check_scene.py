"""Is there a "pause and think" scene whose three questions the lesson's narration answers?

A lesson passes when it has exactly one CHECK scene, placed before the recap, with three
questions; each question's answer (``Script.checks``) is, word for word, a narration sentence of
an earlier CONCEPT scene (the one ``scene_index`` names) and is spoken in the check scene; and the
scene's visual lists the questions. A lesson of under two requested minutes may have none (a check
would take too much of it); it is reported, not counted as a miss.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from vividly_ray.domain.models import SceneKind, Script, VisualKind

QUESTIONS = 3
SHORTEST_CHECKED_MINUTES = 2.0


@dataclass
class CheckResult:
    present: bool = False
    questions: int = 0
    answers_in_narration: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.present and self.questions == QUESTIONS and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "complete": self.complete}


def check_scene_result(script: Script) -> CheckResult:
    result = CheckResult()
    kinds = [scene.kind for scene in script.scenes]
    checks = [scene for scene in script.scenes if scene.kind is SceneKind.CHECK]
    if not checks:
        return result
    result.present = True
    scene = checks[0]
    if len(checks) > 1:
        result.problems.append("more than one check scene")
    if SceneKind.RECAP in kinds and kinds.index(SceneKind.CHECK) > kinds.index(SceneKind.RECAP):
        result.problems.append("the check scene comes after the recap")
    result.questions = len(script.checks)
    narrated = {s.index: s.narration for s in script.scenes if s.kind is SceneKind.CONCEPT}
    for check in script.checks:
        earlier = check.scene_index < scene.index and check.answer in narrated.get(
            check.scene_index, ()
        )
        if earlier:
            result.answers_in_narration += 1
        else:
            result.problems.append(f"answer not narrated earlier: {check.answer}")
        if check.question not in scene.narration or check.answer not in scene.narration:
            result.problems.append(f"not spoken in the check scene: {check.question}")
    visual = scene.visual
    if visual is None or visual.kind is not VisualKind.QUESTIONS:
        result.problems.append("the check scene has no questions visual")
    elif [item.label for item in visual.items] != [c.question for c in script.checks]:
        result.problems.append("the visual's questions differ from the script's")
    return result
