"""`.streamlit/config.toml`: the production defaults docs/serving.md promises for serving a class, each a real
Streamlit option (a misspelt one is ignored by Streamlit with only a log line)."""

from __future__ import annotations

import tomllib

from tests.conftest import ROOT


def _options() -> dict[str, object]:
    with open(ROOT / ".streamlit" / "config.toml", "rb") as handle:
        table = tomllib.load(handle)
    return {f"{section}.{name}": value for section, values in table.items() for name, value in values.items()}


def test_every_option_is_one_streamlit_knows():
    from streamlit import config

    config.get_option("server.headless")  # loads the option table
    unknown = sorted(set(_options()) - set(config._config_options))
    assert not unknown, f"options Streamlit does not know: {unknown}"


def test_production_defaults():
    options = _options()
    assert options["server.headless"] is True
    assert options["browser.gatherUsageStats"] is False
    assert options["server.enableXsrfProtection"] is True
    assert 0 < options["server.maxUploadSize"] <= 10  # MB: drawings and checkpoints only
    assert options["client.showErrorDetails"] == "none"  # no tracebacks on screen
    assert options["server.fileWatcherType"] == "none" and options["server.runOnSave"] is False


def test_no_full_garbage_collection_after_every_script_run():
    # Streamlit's default runs gc.collect(2) after each run: ~0.25 s holding the GIL with torch loaded, for
    # every live-page refresh of every session. Under 8 watched runs it was the largest cost in a profile.
    assert _options()["runner.postScriptGC"] is False
