"""aeviz, the autoencoder lab: `streamlit run app.py`. Navigation and the shared sidebar."""

from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent

st.set_page_config(page_title="aeviz: the autoencoder lab", page_icon="🧬", layout="wide")

# (file in app_pages/, title, icon); a page appears once its file exists.
PAGES = [
    ("home.py", "Home", ":material/home:"),
    ("train.py", "Train", ":material/model_training:"),
    ("reconstructions.py", "Reconstructions", ":material/compare:"),
    ("latent_space.py", "Latent space", ":material/scatter_plot:"),
    ("explore.py", "Explore", ":material/explore:"),
    ("sparsity.py", "Sparsity", ":material/grain:"),
    ("denoising.py", "Denoising", ":material/blur_on:"),
    ("information.py", "Information", ":material/functions:"),
    ("sweeps.py", "Sweeps", ":material/grid_on:"),
    ("applications.py", "Applications", ":material/apps:"),
    ("recommender.py", "Recommender", ":material/movie:"),
    ("lessons.py", "Lessons", ":material/school:"),
    ("class_view.py", "Class view", ":material/co_present:"),
]

pages = [st.Page(str(ROOT / "app_pages" / file), title=title, icon=icon, default=(file == "home.py"))
         for file, title, icon in PAGES if (ROOT / "app_pages" / file).exists()]
page = st.navigation(pages)

from ui.shell import sidebar  # noqa: E402  (after set_page_config)

sidebar()
page.run()
