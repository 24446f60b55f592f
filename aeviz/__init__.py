"""aeviz: train autoencoders live and see what they learned.

The library never imports Streamlit; the app in ``app.py`` and ``app_pages/`` is one of its users.
Heavy modules (torch, umap) are imported by the submodules that need them, so
``import aeviz`` stays fast.
"""

__version__ = "0.1.0"
