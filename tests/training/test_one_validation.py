"""A configuration is checked in one place (TrainConfig.validate): the Train page, the CLI and the job queue
(here one whose jobs go to a Ray cluster) refuse the same bad setting with the same words, and a validated
configuration is carried to the trainer without being checked again."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from aeviz.cli import main
from aeviz.errors import InvalidConfig
from aeviz.jobs.manager import JobManager
from aeviz.training.config import TrainConfig, ValidConfig
from aeviz.training.trainer import Trainer
from tests.conftest import ROOT

# (variant, k, the page's widget values, the CLI's --set values)
BAD_SETTINGS = {
    "over the parameter budget": ("plain", 8, {"hidden": "100000,100000"}, ["hidden=100000,100000"]),
    "layer widths that are not numbers": ("plain", 8, {"hidden": "wide"}, ["hidden=wide"]),
    "more active units than code units": ("ksparse", 4, {"active_units": 12}, ["active_units=12"]),
}


def the_words(variant: str, k: int, settings: dict) -> str:
    with pytest.raises(InvalidConfig) as caught:
        TrainConfig(dataset="digits", variant=variant, k=k, params=settings).validate((1, 8, 8))
    return str(caught.value)


def page_error(variant: str, k: int, widgets: dict) -> str:
    at = AppTest.from_file(str(ROOT / "app_pages" / "train.py"), default_timeout=60)
    at.session_state["dataset"] = "digits"
    at.run()
    at.selectbox(key="train_variant").set_value(variant).run()
    at.slider(key=f"train_k.{variant}.digits").set_value(k).run()
    for name, value in widgets.items():
        widget = next(w for w in (*at.text_input, *at.slider, *at.number_input) if w.key == f"train.{variant}.{name}")
        widget.set_value(value).run()
    assert not at.exception
    assert at.button(key="train_start").disabled
    return " | ".join(e.value for e in at.error)


def cli_error(variant: str, k: int, sets: list[str], capsys) -> str:
    argv = ["train", "--dataset", "digits", "--variant", variant, "--k", str(k), "--epochs", "1", "--no-save"]
    for value in sets:
        argv += ["--set", value]
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    return errors[-1].removeprefix("error: ")


@pytest.mark.parametrize("case", BAD_SETTINGS)
def test_page_cli_and_a_ray_job_refuse_a_bad_setting_in_the_same_words(case, capsys):
    variant, k, widgets, sets = BAD_SETTINGS[case]
    words = the_words(variant, k, {name: value for name, value in widgets.items()})
    assert page_error(variant, k, widgets) == words
    assert cli_error(variant, k, sets, capsys) == words
    on_ray = JobManager(max_running=1, ray_address="local")  # the cluster is joined by the first job, never here
    with pytest.raises(InvalidConfig) as caught:
        on_ray.submit(TrainConfig(dataset="digits", variant=variant, k=k, params=dict(widgets)), owner="s")
    assert str(caught.value) == words and not on_ray.jobs()


def test_a_validated_configuration_is_not_checked_again(digits, monkeypatch):
    valid = TrainConfig(dataset="digits", variant="plain", k=4, epochs=1.0).validate(digits.image_shape)
    assert isinstance(valid, ValidConfig) and valid.size.parameters > 0
    monkeypatch.setattr(TrainConfig, "validate", lambda *a, **k: pytest.fail("validated twice"))
    trainer = Trainer(valid, digits)
    assert trainer.params == valid.params and trainer.config is valid.config
