"""The shareable report: one self-contained HTML file holding every figure, nothing fetched from the web."""

import json
import re
import pytest

from aeviz.cli import main
from aeviz.training.config import TrainConfig
from aeviz.export.report import build_report, report_sections, write_report
from aeviz.runs.store import RunStore
from aeviz.training.trainer import train

EXTERNAL = re.compile(r"<script\b[^>]*\bsrc\s*=|<link\b[^>]*\bhref\s*=\s*['\"]?(https?:)?//|@import\s+url\(\s*['\"]?(https?:)?//",
                      re.IGNORECASE)


@pytest.fixture(scope="module")
def k2_result(digits):
    return train(TrainConfig(dataset="digits", variant="plain", k=2, epochs=2, snapshot_seconds=0.01,
                             params={"hidden": [32]}), digits)


@pytest.fixture()
def saved_run(k2_result):
    store = RunStore()
    return store, store.save(k2_result)


def test_report_holds_every_figure_and_nothing_external(saved_run, digits):
    from plotly.offline import get_plotlyjs

    store, run_id = saved_run
    run = store.load(run_id)
    sections = report_sections(run, digits)
    assert list(sections) == ["configuration", "metrics", "loss_curves", "reconstructions", "latent_scatter",
                              "manifold", "animation"]
    text = build_report(run, digits)
    for div_id in ("loss-curves", "latent-scatter", "formation"):
        assert f'id="{div_id}"' in text
    assert text.count("Plotly.newPlot") == 3
    assert text.count("src='data:image/png;base64,") == 2         # reconstructions and the manifold
    assert text.count(get_plotlyjs()[:2000]) == 1             # plotly's JavaScript inlined exactly once
    assert not EXTERNAL.search(text), EXTERNAL.search(text)
    assert "Plotly.animate('formation'" not in text   # the animation waits for its play button
    assert run_id in text and f"{run.metrics['test_mse']:.6g}" in text and f"{run.metrics['pca_test_mse']:.6g}" in text
    # the animation's frames carry the losses of the recorded snapshots
    assert text.count("Watch it form: step") >= len(run.code_snapshots["steps"])


def test_the_external_pattern_would_catch_a_cdn_script():
    assert EXTERNAL.search('<script src="https://cdn.plot.ly/plotly-2.js"></script>')
    assert EXTERNAL.search("<link rel='stylesheet' href='https://example.org/a.css'>")
    assert not EXTERNAL.search("<script type='text/javascript'>var a = 'https://plotly.com';</script>")


def test_report_without_recorded_codes_or_dataset_still_renders(saved_run):
    store, run_id = saved_run
    run = store.load(run_id)
    run.code_snapshots = {}
    sections = report_sections(run, None)
    assert "animation" not in sections and "latent_scatter" not in sections
    assert "not available" in sections["reconstructions"]


def test_cli_report_writes_the_file_and_a_json_line(saved_run, tmp_path, capsys):
    _, run_id = saved_run
    output = tmp_path / "run.html"
    assert main(["report", run_id, "--output", str(output)]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["output"] == str(output) and line["bytes"] == output.stat().st_size
    assert output.read_text().startswith("<!DOCTYPE html>")


def test_cli_report_of_an_unknown_run_is_one_line_error(tmp_path, capsys):
    assert main(["report", "no-such-run", "--output", str(tmp_path / "x.html")]) == 2
    stderr = capsys.readouterr().err.strip()
    assert stderr.startswith("error: no run named") and len(stderr.splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


def test_write_report_to_an_unwritable_place_says_so(saved_run, tmp_path):
    from aeviz.errors import AevizError

    _, run_id = saved_run
    with pytest.raises(AevizError, match="cannot write the report"):
        write_report(run_id, tmp_path / "missing-folder" / "run.html")


@pytest.mark.parametrize("variant, k, has_manifold", [("vae", 3, True), ("vae", 1, False), ("plain", 5, False)])
def test_report_shows_the_manifold_for_k2_and_vaes_only(variant, k, has_manifold, digits):
    config = TrainConfig(dataset="digits", variant=variant, k=k, epochs=1, params={"hidden": [16]})
    store = RunStore()
    run = store.load(store.save(train(config, digits)))
    sections = report_sections(run, digits)
    assert ("manifold" in sections) == has_manifold
    assert "animation" in sections and "latent_scatter" in sections
