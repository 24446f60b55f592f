"""Session ids are minted and signed by the server: invented, foreign-browser and expired ids are
refused (the app then mints a fresh one); the secret is created once, 0600, and survives a restart."""

from __future__ import annotations

import stat
import time

from streamlit.testing.v1 import AppTest

from aeviz.jobs import sessions
from tests.conftest import ROOT


def restart(monkeypatch):
    """Forget the in-process state, as a new server process would."""
    sessions.forget()


def test_minted_ids_verify_and_invented_ones_do_not(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    restart(monkeypatch)
    token = sessions.mint("browser-a")
    assert sessions.accept(token, "browser-a")
    assert not sessions.accept(token, "browser-b")          # the same id from another browser
    assert not sessions.accept(token[:-1] + ("0" if token[-1] != "0" else "1"), "browser-a")
    for invented in ["abc123", "x" * 50_000, "", None, 42, "." * len(token)]:
        assert not sessions.accept(invented, "browser-a")
    secret = tmp_path / sessions.SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    restart(monkeypatch)  # a restarted server reads the same secret: the id still verifies
    assert sessions.accept(token, "browser-a")
    secret.write_bytes(b"another server's secret, 32 bytes long")
    restart(monkeypatch)
    assert not sessions.accept(token, "browser-a")


def test_idle_ids_expire(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    restart(monkeypatch)
    token = sessions.mint()
    monkeypatch.setenv(sessions.IDLE_ENV, "0.2")
    assert sessions.accept(token)
    time.sleep(0.3)
    assert not sessions.accept(token)


def test_the_app_replaces_an_invented_session_id_with_a_minted_one(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path))
    restart(monkeypatch)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["session"] = "i-made-this-up"
    at.run()
    assert not at.exception
    owner = at.query_params["session"]
    owner = owner[0] if isinstance(owner, list) else owner
    assert owner != "i-made-this-up" and sessions.signed(owner)
    minted = sessions.mint()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["session"] = minted  # a reload with this server's id keeps it
    at.run()
    kept = at.query_params["session"]
    assert (kept[0] if isinstance(kept, list) else kept) == minted
