"""One module per CLI command; see aeviz/cli/__init__.py."""
