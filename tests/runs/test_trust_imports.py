"""Issue 34, item 1: an imported run is marked imported, its figures and status come from what this server
measures and what its archive holds (never from what the archive claims), it is labelled imported in every
list, and it never serves as an already-trained run (`train --reuse`, the Train page's offer, `lessons
prepare`) nor as a lesson's reference. The forgery tried: a 0.02-epoch run whose archive claims the full
budget, "completed" and a tiny test error."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from aeviz.runs.archive import export_run, import_run
from aeviz.cli import main
from aeviz.training.config import TrainConfig
from aeviz.lessons import get_lesson
from aeviz.lessons.check import check_run, prepare_lesson
from aeviz.errors import AevizError
from aeviz.jobs.reuse import config_fingerprint, find_reusable
from aeviz.runs.store import RunStore
from aeviz.training.trainer import Trainer
from aeviz.variants import get_variant
from tests.apptest import open_page

TIMEOUT = 120


def train_saved(store: RunStore, config: TrainConfig, digits) -> str:
    trainer = Trainer(config, digits, store=store)
    for _ in trainer.run():
        pass
    return trainer.finished.saved_run_id


def rewrite(archive: bytes, **members) -> bytes:
    """The archive with some members' JSON replaced (a function of the old JSON)."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            data = source.read(name)
            key = name.replace(".", "_")
            if key in members:
                data = json.dumps(members[key](json.loads(data))).encode()
            out.writestr(name, data)
    return buffer.getvalue()


def forged(store: RunStore, config: TrainConfig, digits, forge_history: bool = False) -> bytes:
    """An archive of `config` trained for 0.02 epochs that claims `config`'s whole budget, done."""
    short = TrainConfig.from_json({**config.to_json(), "epochs": 0.02})
    run_id = train_saved(store, short, digits)
    budget = config.epochs

    def history(data):
        if not forge_history:
            return data
        last = data["history"][-1]
        steps = 10_000  # far past any budget of these configurations
        return {"history": [{**last, "step": steps, "epoch": budget, "elapsed": 99.0}], "test_history": []}

    return rewrite(export_run(store, run_id),
                   config_json=lambda c: {**c, "epochs": budget, "fingerprint": config_fingerprint(config),
                                          "tags": {"session": "abcdef", "sweep": "s1"}},
                   metrics_json=lambda m: {**m, "status": "completed", "epochs": budget, "test_mse": 1e-9,
                                           "warnings": ["[click](http://evil.example)"]},
                   history_json=history)


@pytest.fixture
def contractive(digits, tmp_path):
    lesson = get_lesson("contractive")
    return lesson, lesson.reference_config("digits")


def test_a_forged_archive_is_measured_and_marked_imported(tmp_path, digits, contractive):
    _, reference = contractive
    source, target = RunStore(tmp_path / "a"), RunStore(tmp_path / "b")
    new_id = import_run(forged(source, reference, digits), target, "forged.zip")
    info = target.info(new_id)
    assert info.imported and info.label.endswith(" · imported")
    assert info.metrics["status"] == "stopped" and info.metrics["archive_status"] == "completed"
    assert info.metrics["epochs"] < 0.1 and info.metrics["test_mse"] > 1e-4  # measured here, not claimed
    assert "warnings" not in info.metrics
    assert info.config["tags"] == {"imported": "forged.zip"}  # no claimed session or sweep
    assert find_reusable(target, reference) is None


def test_a_forged_history_makes_it_completed_but_never_reused(tmp_path, digits, contractive):
    _, reference = contractive
    source, target = RunStore(tmp_path / "a"), RunStore(tmp_path / "b")
    new_id = import_run(forged(source, reference, digits, forge_history=True), target, "forged.zip")
    info = target.info(new_id)
    assert info.metrics["status"] == "completed"  # the history it holds reaches the budget ...
    assert info.imported and find_reusable(target, reference) is None  # ... but it was trained elsewhere


def test_an_imported_run_is_never_a_lessons_reference(tmp_path, digits, contractive, monkeypatch):
    lesson, reference = contractive
    store = RunStore(tmp_path / "runs")
    import_run(forged(RunStore(tmp_path / "a"), reference, digits), store, "forged.zip")
    student = TrainConfig.from_json({**lesson.config("digits").to_json(), "epochs": 0.05})
    student_id = train_saved(store, student, digits)
    with pytest.raises(AevizError, match="not trained on this server yet"):
        check_run(lesson, student_id, store, dataset_loader=lambda name: digits)
    # `lessons prepare` trains the reference instead of taking the imported one (stopped at once here)
    trained = []

    def stop_at_once(trainer, role):
        trained.append(role)
        trainer.stop()
        for _ in trainer.run():
            pass

    prepared = prepare_lesson(lesson, "digits", store, reuse=True, on_trainer=stop_at_once,
                              dataset_loader=lambda name: digits)
    assert trained == ["lesson", "reference"] and not any(p.reused for p in prepared)


def test_cli_reuse_and_listing(tmp_path, digits, monkeypatch, capsys):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path / "runs"))
    defaults = get_variant("plain").training_defaults()
    config = TrainConfig(dataset="digits", variant="plain", k=3, epochs=1, seed=4, params={"hidden": "16"},
                         lr=defaults["lr"], batch_size=defaults["batch_size"])
    new_id = import_run(forged(RunStore(tmp_path / "a"), config, digits), RunStore(), "forged.zip")
    assert main(["runs", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["run_id"] == new_id and listed["imported"] is True and listed["status"] == "stopped"
    assert main(["runs"]) == 0
    assert "· imported" in capsys.readouterr().out
    assert main(["train", "--dataset", "digits", "--variant", "plain", "--k", "3", "--epochs", "1", "--seed", "4",
                 "--set", "hidden=16", "--reuse"]) == 0
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert out["run_id"] != new_id and not out.get("reused")


def test_the_train_page_does_not_offer_an_imported_run(tmp_path, digits, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path / "runs"))
    defaults = get_variant("plain").training_defaults()
    config = TrainConfig(dataset="digits", variant="plain", k=3, epochs=1, seed=4, params={"hidden": "16"},
                         lr=defaults["lr"], batch_size=defaults["batch_size"])
    import_run(forged(RunStore(tmp_path / "a"), config, digits, forge_history=True), RunStore(), "forged.zip")
    at = open_page("train.py", TIMEOUT)
    at.query_params.update({"dataset": "digits", "variant": "plain", "k": "3", "epochs": "1", "seed": "4",
                            "set": ["hidden=16"]})
    at.run()
    assert not at.exception
    assert not any("already trained" in i.value for i in at.info)


def test_the_reconstructions_page_imports_a_forged_archive_as_imported(tmp_path, digits, monkeypatch):
    monkeypatch.setenv("AEVIZ_RUNS_DIR", str(tmp_path / "runs"))
    defaults = get_variant("plain").training_defaults()
    config = TrainConfig(dataset="digits", variant="plain", k=3, epochs=1, seed=4, params={"hidden": "16"},
                         lr=defaults["lr"], batch_size=defaults["batch_size"])
    train_saved(RunStore(), TrainConfig(dataset="digits", variant="plain", k=2, epochs=0.2,
                                        params={"hidden": "16"}), digits)  # a run of this server, to compare
    archive = forged(RunStore(tmp_path / "a"), config, digits)
    at = open_page("reconstructions.py", TIMEOUT)
    at.run()
    at.get("file_uploader")[0].set_value(("forged.zip", archive, "application/zip")).run()
    at.button(key="checkpoint_import").click().run()
    assert not at.exception
    [message] = [s.value for s in at.success]
    assert "imported" in message and "stopped after 0.0" in message and "never offered" in message
    [imported] = [info for info in RunStore().list() if info.imported]
    labels = at.multiselect(key="recon_runs").options  # as the picker shows them
    assert any(imported.run_id.rsplit("-", 1)[-1] in label and "· imported" in label for label in labels)
    assert sum("· imported" in label for label in labels) == 1
