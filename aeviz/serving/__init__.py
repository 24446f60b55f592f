"""Serving the app to a class (`aeviz serve`, the Class view): the Streamlit server and where the app's files
are (`server`), the addresses students can open (`addresses`), the QR codes of them (`qr`) and the memory allocator's
settings that keep a long-running server's memory bounded (`allocator`).

Owns: getting a class onto the app. Uses: `aeviz.errors` and nothing else of aeviz; never Streamlit (it
starts Streamlit as a separate program).
"""
