"""Home: what an autoencoder is, in a few lines and one diagram, and where to go next."""

from pathlib import Path

import streamlit as st

from ui.page_registry import available_pages
from ui.runs import page_link

ROOT = Path(__file__).resolve().parent.parent

st.title("aeviz: the autoencoder lab")
st.markdown(
    "An **autoencoder** is a network trained to copy its input to its output through a narrow "
    "middle. The **encoder** *f* squeezes an image *x* into a **code** *h = f(x)* of only **k** "
    "numbers (the **bottleneck**); the **decoder** *g* rebuilds an image *r = g(h)* from the code. "
    "Training needs no labels: it lowers a **reconstruction loss** *L(x, r)*, such as the mean "
    "squared error per pixel, over many images. With k much smaller than the number of pixels, the "
    "network cannot copy everything, so it has to keep what the images have in common and drop the rest."
)
st.image(str(ROOT / "assets" / "autoencoder.svg"), width="stretch")
st.markdown(
    "A **linear** autoencoder can do no better than **PCA** (it learns the same subspace as the top k "
    "principal components); a nonlinear one can follow curved structure in the data and beat PCA "
    "at the same k. This lab shows you whether it does, live."
)

st.subheader("Where to go")
for entry in available_pages():
    if not entry.is_home:
        left, right = st.columns([1, 4])
        with left:
            page_link(entry.file, entry.title, entry.icon)
        right.write(entry.line)

st.caption("Start on the bundled 8x8 **digits** (always available, trains in seconds); choose "
           "MNIST or Fashion-MNIST in the sidebar when their files are available.")
