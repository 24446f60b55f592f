"""aeviz as a package: pyproject.toml agrees with the requirement files `make` installs from, the version is
written once, and the wheel holds the library (every subpackage, the lesson catalog) and the app that
`aeviz serve` runs, which works from the unpacked wheel outside the clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

BUILD_LIMIT = 300  # seconds: a wheel builds in a few seconds, far longer on a loaded 2-core machine


def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)


def requirements(lines) -> dict[str, str]:
    """{normalised name: specifier} of requirement lines (comments and blank lines skipped)."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name not in found, f"{requirement.name} is listed twice"
            found[name] = str(requirement.specifier)
    return found


def requirements_file(name: str) -> dict[str, str]:
    return requirements((ROOT / name).read_text().splitlines())


@pytest.mark.parametrize("extra, file", [(None, "requirements.txt"), ("ray", "requirements-ray.txt"),
                                         ("dev", "requirements-dev.txt")])
def test_pyproject_agrees_with_the_requirement_files(extra, file):
    project = pyproject()["project"]
    declared = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    assert requirements(declared) == requirements_file(file), f"pyproject.toml and {file} differ"


def test_torch_ranges_admit_the_versions_on_the_build_machines():
    from packaging.specifiers import SpecifierSet

    runtime = requirements_file("requirements.txt")
    assert "2.14.1" in SpecifierSet(runtime["torch"]) and "0.29.1" in SpecifierSet(runtime["torchvision"])


def test_the_version_is_written_once():
    import aeviz

    config = pyproject()
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "aeviz.__version__"}
    assert aeviz.__version__


def test_the_aeviz_command_is_what_python_m_aeviz_runs():
    assert pyproject()["project"]["scripts"] == {"aeviz": "aeviz.cli:main"}
    assert "from aeviz.cli import main" in (ROOT / "aeviz" / "__main__.py").read_text()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` would install, built from a copy of the clone's sources (nothing downloaded,
    nothing written into the clone)."""
    pytest.importorskip("setuptools", reason="the dev requirements install setuptools to build the wheel")
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("aeviz", "ui", "app_pages", "assets", ".streamlit"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("app.py", "pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "--no-index", "--quiet", "-w", str(out)], check=True, timeout=BUILD_LIMIT, capture_output=True)
    (built,) = out.glob("aeviz-*.whl")
    return built


def test_the_wheel_holds_the_library_and_the_app(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    library = {path.relative_to(ROOT).as_posix() for path in (ROOT / "aeviz").rglob("*")
               if path.is_file() and path.suffix in (".py", ".toml") and "__pycache__" not in path.parts}
    assert library - names == set(), "library files missing from the wheel"
    app = {f"aeviz_app/{path.relative_to(ROOT).as_posix()}" for folder in ("ui", "app_pages")
           for path in (ROOT / folder).glob("*.py")}
    app |= {"aeviz_app/app.py", "aeviz_app/.streamlit/config.toml", "aeviz_app/assets/autoencoder.svg"}
    assert app - names == set(), "app files missing from the wheel"
    assert not {name for name in names if name.startswith(("tests/", "aeviz_app/setup.py", "aeviz_app/tests"))}
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "aeviz = aeviz.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_unpacked_wheel_works_outside_the_clone(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    away = tmp_path / "elsewhere"
    away.mkdir()
    code = ("import aeviz, aeviz.serving.server as s, aeviz.lessons as l; print(aeviz.__file__); print(s.app_folder()); "
            "print(len(l.load_lessons()))")
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", code], cwd=away, env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout.splitlines()
    assert out[0].startswith(str(site)) and out[1] == str(site / "aeviz_app") and int(out[2]) > 0
    helped = subprocess.run([sys.executable, "-m", "aeviz", "--help"], cwd=away, env=env, capture_output=True,
                            text=True, timeout=120)
    assert helped.returncode == 0 and "serve" in helped.stdout
