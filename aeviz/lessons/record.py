"""What a class did: every lesson check made in the app, kept in the run store's folder
(`<runs>/.lessons/checks.jsonl`, one JSON line per check), so a teacher's class view can count passes.

A browser session appears only as a short tag, a hash of its id: the id itself lets its holder stop
that session's training, so it is never written down or shown.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

from aeviz.runs.store import runs_dir

RECORD_FILE = Path(".lessons") / "checks.jsonl"
MAX_RECORD_BYTES = 20_000_000  # a class of 200 checking every minute for a day stays far below this
_write_lock = threading.Lock()


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
            if path.exists() and path.stat().st_size > MAX_RECORD_BYTES:
                return
            with path.open("a") as handle:
                handle.write(line + "\n")
    except OSError:
        pass


def read_checks(since: float = 0.0, root: Path | None = None) -> list[dict[str, Any]]:
    """Checks made at or after `since` (epoch seconds); unreadable lines are skipped."""
    path = (root or runs_dir()) / RECORD_FILE
    try:
        if path.stat().st_size > MAX_RECORD_BYTES * 2:
            return []
        lines = path.read_text().splitlines()
    except OSError:
        return []
    checks = []
    for line in lines:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and float(item.get("time", 0)) >= since:
            checks.append(item)
    return checks


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
