"""The Latent space page's export download: pick a format, prepare, and the zip holds the run's codes."""

import io
import zipfile

import numpy as np
import pytest
import torch


from tests.apptest import open_page
from tests.conftest import save_short_runs


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, digits):
    return save_short_runs(tmp_path_factory.mktemp("export-page-runs"), "digits", [3], digits)


def test_latent_page_prepares_an_export_zip_of_the_codes(store_env, digits):
    at = open_page("latent_space.py", 90).run()
    assert not at.exception
    assert not at.get("download_button")  # nothing is built until asked
    at.selectbox(key="latent_export_format").set_value("npy").run()
    at.button(key="latent_export_prepare").click().run()
    assert not at.exception and not at.error
    assert len(at.get("download_button")) == 1
    _, payload, result = at.session_state["export_download_built"]
    assert result.format == "npy"
    run = store_env.load(store_env.list()[0].run_id)
    with torch.no_grad():
        expected = run.model.encode(digits.test_images).numpy()
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        np.testing.assert_array_equal(np.load(io.BytesIO(archive.read("codes.npy"))), expected)
    at.run()  # a rerun keeps the prepared file without rebuilding it
    assert len(at.get("download_button")) == 1
