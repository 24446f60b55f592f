"""docs/library.md: its example runs as written (in a fresh interpreter, from another folder), beats PCA as it
says, and writes the figure; the page stays under 40 lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import ROOT

DOC = ROOT / "docs" / "library.md"


def example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1, "docs/library.md has one Python example"
    return blocks[0]


def test_the_page_is_short():
    assert len(DOC.read_text().splitlines()) < 40


def test_the_example_runs(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(example())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AEVIZ_OFFLINE": "1"}
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    found = re.search(r"test MSE ([\d.]+), PCA at k=16: ([\d.]+)", out.stdout)
    assert found, out.stdout
    assert float(found.group(1)) < float(found.group(2))  # the example's run beats PCA at the same k
    assert (tmp_path / "reconstructions.html").stat().st_size > 10_000


def test_the_example_uses_public_names_only():
    imported = re.findall(r"^from (\S+) import (.+)$", example(), re.M)
    assert imported and all(module.startswith("aeviz") for module, _ in imported)
    assert not [name for _, names in imported for name in names.split(", ") if name.startswith("_")]
