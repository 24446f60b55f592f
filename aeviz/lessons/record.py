"""What a class did: every lesson check made in the app, kept in the run store's folder
(`<runs>/.lessons/checks.jsonl`, one JSON line per check), so a teacher's class view can count passes.

A browser session appears only as a short tag, a hash of its id: the id itself lets its holder stop
that session's training, so it is never written down or shown.

The log is bounded per session, never overall: every `COMPACT_EVERY_BYTES` appended, it is rewritten
keeping, for each (session, lesson), its latest `MAX_CHECKS_PER_LESSON` checks and its first pass. A
session that checks a thousand times a minute only trims its own history; another session's pass stays.
The file holds at most sessions x lessons x (MAX_CHECKS_PER_LESSON + 1) lines, plus one compaction step.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from aeviz.runs.store import runs_dir

RECORD_FILE = Path(".lessons") / "checks.jsonl"
MAX_CHECKS_PER_LESSON = 20  # per session: its latest checks of one lesson (its first pass is kept besides)
COMPACT_EVERY_BYTES = 1_000_000  # the log is trimmed per session after this much has been appended
MAX_LINE_BYTES = 1_000  # a check's line is ~150 bytes; a longer one (not written by aeviz) is skipped
_write_lock = threading.Lock()
_compacted_size: dict[Path, int] = {}  # the log's size after its last compaction, by path (this process)


def session_tag(session_id: str) -> str:
    """A short, stable name for a session that does not reveal its id."""
    return hashlib.sha256(f"aeviz-session:{session_id}".encode()).hexdigest()[:6]


def record_check(result, session: str, root: Path | None = None) -> None:
    """Append one check (a CheckResult) made by `session` (a session tag). Errors writing are ignored:
    a full disk must not stop a student from seeing their result."""
    path = (root or runs_dir()) / RECORD_FILE
    line = json.dumps({"time": time.time(), "session": session, "lesson": result.lesson_id, "run_id": result.run_id,
                       "passed": bool(result.passed), "value": result.value})
    try:
        with _write_lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as handle:
                handle.write(line + "\n")
                size = handle.tell()
            if size > _compacted_size.get(path, 0) + COMPACT_EVERY_BYTES:
                _compacted_size[path] = compact(path)
    except OSError:
        pass


def _parse(lines) -> list[dict[str, Any]]:
    checks = []
    for line in lines:
        if len(line) > MAX_LINE_BYTES:
            continue
        try:
            item = json.loads(line)
            if isinstance(item, dict):
                float(item.get("time", 0))
                checks.append(item)
        except (ValueError, TypeError):
            continue
    return checks


def keep_per_session(checks: list[dict[str, Any]], per_lesson: int = MAX_CHECKS_PER_LESSON) -> list[dict[str, Any]]:
    """For each (session, lesson): its first passing check and its latest `per_lesson` checks, in the
    log's order. What one session does never changes what is kept of another."""
    latest: dict[tuple[str, str], list[int]] = {}
    first_pass: dict[tuple[str, str], int] = {}
    for index, item in enumerate(checks):
        key = (str(item.get("session")), str(item.get("lesson")))
        latest.setdefault(key, []).append(index)
        if item.get("passed") and key not in first_pass:
            first_pass[key] = index
    kept = set(first_pass.values())
    for indices in latest.values():
        kept.update(indices[-per_lesson:])
    return [checks[i] for i in sorted(kept)]


def compact(path: Path) -> int:
    """Rewrite the log at `path` (atomically) with what `keep_per_session` keeps; returns its new size."""
    with path.open("rb") as handle:
        lines = handle.read().decode("utf-8", errors="replace").splitlines()
    kept = keep_per_session(_parse(lines))
    staging = path.with_name(path.name + ".compacting")
    with staging.open("w") as handle:
        for item in kept:
            handle.write(json.dumps(item) + "\n")
    os.replace(staging, path)
    return path.stat().st_size


def read_checks(since: float = 0.0, root: Path | None = None) -> list[dict[str, Any]]:
    """Checks made at or after `since` (epoch seconds), as `keep_per_session` keeps them (the same
    whether or not the log was compacted lately); unreadable lines are skipped."""
    path = (root or runs_dir()) / RECORD_FILE
    try:
        with path.open("rb") as handle:
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [item for item in keep_per_session(_parse(lines)) if float(item.get("time", 0)) >= since]


def pass_counts(checks: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per lesson: how many sessions tried it and how many passed it (at least once)."""
    tried: dict[str, set] = {}
    passed: dict[str, set] = {}
    for item in checks:
        lesson, session = str(item.get("lesson")), str(item.get("session"))
        tried.setdefault(lesson, set()).add(session)
        if item.get("passed"):
            passed.setdefault(lesson, set()).add(session)
    return {lesson: {"sessions_tried": len(sessions), "sessions_passed": len(passed.get(lesson, ()))}
            for lesson, sessions in tried.items()}


def beat_pca_table(points, sessions: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Rows per (variant, k) of frontier points (aeviz.analysis.comparison.FrontierPoint): how many runs, how many
    beat PCA at that k, the best test MSE and PCA's, and which sessions' runs beat it (`sessions` maps a
    run id to its session tag). Keyed by the column headings the class view shows."""
    sessions = sessions or {}
    groups: dict[tuple[str, int], list] = {}
    for point in points:
        groups.setdefault((point.variant, point.k), []).append(point)
    rows = []
    for (variant, k), group in sorted(groups.items()):
        winners = [p for p in group if p.beats_pca]
        rows.append({"variant": variant, "k": k, "runs": len(group), "beat PCA": len(winners),
                     "best test MSE": min(p.test_mse for p in group), "PCA test MSE": group[0].pca_test_mse,
                     "who beat PCA": ", ".join(sorted({sessions.get(p.run_id, "cli") for p in winners}))})
    return rows
