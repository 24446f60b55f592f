"""aeviz, the autoencoder lab: `streamlit run app.py`. Navigation and the shared sidebar."""

import streamlit as st

from ui.page_registry import available_pages

st.set_page_config(page_title="aeviz: the autoencoder lab", page_icon="🧬", layout="wide")

pages = [st.Page(str(entry.path), title=entry.title, icon=entry.icon, default=entry.is_home)
         for entry in available_pages()]
page = st.navigation(pages)

from ui.shell import sidebar  # noqa: E402  (after set_page_config)

sidebar(page)
page.run()
