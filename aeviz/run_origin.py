"""Where a saved run came from, in the words the class view and the Lessons page show: a browser session
(its short tag, never its id), a lesson's preparation, a sweep, an import or the command line. Read
from the run's config tags, which whoever trains it sets."""

from __future__ import annotations

from typing import Any, Mapping

SESSION = "session"              # tags["session"]: the Train page's short session tag (aeviz.lessons.record)
PREPARED = "lesson_prepared"     # tags["lesson_prepared"]: the lesson id, on runs `lessons prepare` or Prepare trained
ROLE = "lesson_role"             # tags["lesson_role"]: "reference" on a lesson's comparison run
SWEEP = "sweep"                  # tags["sweep"]: the sweep id (aeviz.sweeps)
IMPORTED = "imported"            # tags["imported"]: the file a run was imported from (aeviz.runs.archive)


def prepared_tags(lesson_id: str, reference: bool = False) -> dict[str, Any]:
    """The tags of a run trained to prepare a lesson (its own run, or with `reference` the one it compares
    with)."""
    return {PREPARED: lesson_id, **({ROLE: "reference"} if reference else {})}


def is_prepared(tags: Mapping[str, Any] | None) -> bool:
    """Whether a run was trained by a lesson's preparation, not by a student."""
    return bool((tags or {}).get(PREPARED))


def origin_label(tags: Mapping[str, Any] | None) -> str:
    """A session's short tag ('3fa2b9'), 'lesson vae-kl (prepared)', 'sweep 1a2b3c4d', 'imported' or
    'command line'."""
    tags = tags or {}
    if tags.get(PREPARED):
        role = "reference, prepared" if tags.get(ROLE) == "reference" else "prepared"
        return f"lesson {tags[PREPARED]} ({role})"
    if tags.get(SESSION):
        return str(tags[SESSION])
    if tags.get(SWEEP):
        return f"sweep {str(tags[SWEEP])[:8]}"
    if tags.get(IMPORTED):
        return "imported"
    return "command line"
