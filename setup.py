"""Which packages the distribution holds; everything else is in pyproject.toml.

The library is `aeviz` with every subpackage, found as they are added. The app that `aeviz serve` runs is
not part of it (the library never imports Streamlit) and stays where it is in the clone (app.py, app_pages/,
ui/); it is installed beside the library as the folder `aeviz_app`, with the app's settings and pictures
(.streamlit/config.toml, assets/*.svg: package data in pyproject.toml). In a clone, or after
`pip install -e .`, `aeviz serve` runs the clone's own app.py (aeviz.serving.server.app_folder).
"""

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

APP = {"aeviz_app": ".", "aeviz_app.ui": "ui", "aeviz_app.app_pages": "app_pages", "aeviz_app.assets": "assets"}
APP_SCRIPTS = {"app"}  # the one module of the clone's top folder that belongs to the app


class BuildPy(build_py):
    """Builds as usual, but takes only app.py from the clone's top folder (not setup.py)."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [entry for entry in modules if package != "aeviz_app" or entry[1] in APP_SCRIPTS]


# Namespace packages too: a folder of data only (aeviz/lessons/catalog/) is a package of the distribution.
LIBRARY = find_namespace_packages(include=["aeviz", "aeviz.*"], exclude=["*.__pycache__"])

setup(packages=LIBRARY + list(APP), package_dir=APP,
      cmdclass={"build_py": BuildPy})
