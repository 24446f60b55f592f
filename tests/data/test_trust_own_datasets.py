"""Issue 34, item 2 (ownership): a dataset uploaded in the app belongs to the session that uploaded it. Only
it lists it (under its own file name), within a count and byte quota per session and per server, and it can
delete it; a dataset added on the command line is the teacher's, shared with every session."""

from __future__ import annotations

import io

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from aeviz.errors import AevizError
from aeviz.data.user import import_file
from aeviz.data.user.store import folder_of
from tests.conftest import ROOT
from ui.user_dataset import CONVERSION_KEY

TIMEOUT = 90


def npz(seed: int = 0, n: int = 60) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=rng.integers(0, 256, (n, 8, 8), dtype=np.uint8),
                        labels=np.arange(n) % 3)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_UMAP_WARMUP", "0")
    for env in ("AEVIZ_USER_DATASETS_PER_SESSION", "AEVIZ_USER_DATA_MB_PER_SESSION", "AEVIZ_USER_DATASETS_MAX",
                "AEVIZ_USER_DATA_MB_MAX"):
        monkeypatch.delenv(env, raising=False)


def test_an_upload_is_its_sessions_and_a_command_line_one_is_shared():
    from aeviz.data.user.owners import claim, file_name_for, owner_key, owners, release, visible

    alice, bob = owner_key("alice-session"), owner_key("bob-session")
    info = import_file(npz(), "alice.npz", 8, owner=alice)
    assert set(owners(info.name)) == {alice}
    assert visible(info.name, alice) and not visible(info.name, bob)
    again = import_file(npz(), "bob's copy.npz", 8, owner=bob)  # the same content: one dataset, two owners
    claim(again.name, bob, "bob's copy.npz")
    assert again.name == info.name and visible(info.name, bob)
    assert file_name_for(info.name, alice) == "alice.npz" and file_name_for(info.name, bob) == "bob's copy.npz"
    assert not release(info.name, alice) and folder_of(info.name).is_dir()  # bob still has it
    assert not visible(info.name, alice)
    assert release(info.name, bob) and not folder_of(info.name).exists()

    shared = import_file(npz(1), "teacher.npz", 8)  # the command line: no owner
    assert owners(shared.name) is None and visible(shared.name, alice) and visible(shared.name, bob)
    claim(shared.name, alice, "mine.npz")
    assert owners(shared.name) is None  # uploading the teacher's file again does not make it private
    with pytest.raises(AevizError, match="not yours"):
        release(shared.name, alice)


def test_quotas_per_session_and_per_server(monkeypatch):
    from aeviz.data.user.owners import QuotaExceeded, check_bytes, check_room, owner_key

    alice, bob = owner_key("alice"), owner_key("bob")
    monkeypatch.setenv("AEVIZ_USER_DATASETS_PER_SESSION", "2")
    for seed in range(2):
        check_room(alice)
        import_file(npz(seed), f"{seed}.npz", 8, owner=alice)
    with pytest.raises(QuotaExceeded, match="you have 2 datasets"):
        check_room(alice)
    check_room(bob)  # another session's room is its own
    monkeypatch.setenv("AEVIZ_USER_DATASETS_MAX", "2")
    with pytest.raises(QuotaExceeded, match="this server holds"):
        check_room(bob)
    monkeypatch.setenv("AEVIZ_USER_DATASETS_MAX", "200")
    monkeypatch.setenv("AEVIZ_USER_DATA_MB_PER_SESSION", "1")
    big = import_file(npz(7, n=30_000), "big.npz", 8, owner=bob)  # ~1.9 MB of noise: over bob's 1 MB
    with pytest.raises(QuotaExceeded, match="was not kept"):
        check_bytes(big.name, bob)
    assert not folder_of(big.name).exists()


def labels(at: AppTest) -> list[str]:
    return list(at.sidebar.get("selectbox")[0].options)


def test_another_session_does_not_see_an_upload_and_its_owner_deletes_it():
    alice = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    alice.sidebar.selectbox(key="sidebar_dataset:digits").set_value("your own…").run()
    alice.sidebar.get("file_uploader")[0].set_value(("alice-digits.npz", npz(), "application/octet-stream")).run()
    alice.sidebar.number_input(key="sidebar_dataset_size").set_value(8).run()
    alice.sidebar.button(key="sidebar_dataset_use").click().run()
    assert alice.session_state[CONVERSION_KEY].wait(TIMEOUT)  # converted in the background
    alice.run()
    assert not alice.exception
    name = alice.session_state["dataset"]
    assert name.startswith("user:") and any("alice-digits.npz (8x8, yours)" == label for label in labels(alice))

    bob = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()  # another session
    assert not bob.exception
    assert not any("alice" in label for label in labels(bob))
    bob.session_state["dataset"] = name  # even asked for by name, it is not offered to bob
    bob.run()
    assert not bob.exception and bob.session_state["dataset"] == "digits"
    assert not any(b.key == "sidebar_dataset_delete" for b in bob.sidebar.button)

    alice.sidebar.button(key="sidebar_dataset_delete").click().run()
    assert not alice.exception
    assert alice.session_state["dataset"] == "digits" and not folder_of(name).exists()
    assert not any("alice" in label for label in labels(alice))
