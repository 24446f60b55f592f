"""Issue 34, item 8: the lesson check log is bounded per session, so one session flooding it with checks
trims only its own history: every other session's pass stays in the class view, and the file stays small."""

from __future__ import annotations

import json

import pytest

from aeviz.lessons import record
from aeviz.lessons.check import CheckResult
from aeviz.lessons.record import pass_counts, read_checks, record_check, session_tag
from tests.apptest import open_page


def check(lesson: str, passed: bool) -> CheckResult:
    return CheckResult(lesson, "run", passed, "m", 0.5, "<", 1.0, "goal")


@pytest.fixture
def small_log(monkeypatch):
    """The log's bounds made small, so a flood is a few thousand lines."""
    monkeypatch.setattr(record, "COMPACT_EVERY_BYTES", 20_000)


def flood(who: str, root, lesson: str = "bottleneck", n: int = 3000) -> None:
    for _ in range(n):
        record_check(check(lesson, False), who, root=root)


def test_a_flood_from_one_session_keeps_every_other_sessions_pass(tmp_path, small_log):
    alice, bob, carol, mallory = (session_tag(name) for name in ("alice", "bob", "carol", "mallory"))
    record_check(check("bottleneck", True), alice, root=tmp_path)   # before the flood
    flood(mallory, tmp_path)
    record_check(check("bottleneck", True), bob, root=tmp_path)     # after it
    record_check(check("bottleneck", False), carol, root=tmp_path)
    flood(mallory, tmp_path, lesson="denoise")
    counts = pass_counts(read_checks(root=tmp_path))
    assert counts["bottleneck"] == {"sessions_tried": 4, "sessions_passed": 2}
    assert counts["denoise"] == {"sessions_tried": 1, "sessions_passed": 0}
    lines = (tmp_path / record.RECORD_FILE).read_text().splitlines()
    assert len(lines) * 200 < 2 * record.COMPACT_EVERY_BYTES + 4 * 200 * (record.MAX_CHECKS_PER_LESSON + 1)
    kept = [item for item in read_checks(root=tmp_path) if item["session"] == mallory]
    assert len(kept) == 2 * record.MAX_CHECKS_PER_LESSON  # its latest per lesson, nothing more


def test_a_session_that_passed_and_then_floods_keeps_its_own_pass(tmp_path, small_log):
    alice = session_tag("alice")
    record_check(check("bottleneck", True), alice, root=tmp_path)
    flood(alice, tmp_path)
    assert pass_counts(read_checks(root=tmp_path))["bottleneck"] == {"sessions_tried": 1, "sessions_passed": 1}


def test_reading_keeps_the_same_per_session_bound_before_compaction(tmp_path):
    who = session_tag("one")
    path = tmp_path / record.RECORD_FILE
    path.parent.mkdir(parents=True)
    lines = [json.dumps({"time": i, "session": who, "lesson": "a", "run_id": "r", "passed": i == 5, "value": 1.0})
             for i in range(100)]
    path.write_text("\n".join(lines + ["not json", "{" + "x" * 5000 + "}"]) + "\n")
    kept = read_checks(root=tmp_path)
    assert [item["time"] for item in kept] == [5, *range(100 - record.MAX_CHECKS_PER_LESSON, 100)]


def test_the_class_view_counts_a_pass_made_after_a_flood(tmp_path, small_log, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    flood(session_tag("mallory"), tmp_path)
    record_check(check("bottleneck", True), session_tag("alice"), root=tmp_path)
    at = open_page("class_view.py", 120)
    at.run()
    assert not at.exception
    table = next(frame.value for frame in at.dataframe if "sessions passed" in frame.value.columns)
    from aeviz.lessons import get_lesson

    row = table[table["lesson"] == get_lesson("bottleneck").title].iloc[0]
    assert (row["sessions passed"], row["sessions that checked"]) == (1, 2)
