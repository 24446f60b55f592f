"""Streamlit-side helpers shared by the pages (the library in aeviz/ never imports Streamlit)."""
