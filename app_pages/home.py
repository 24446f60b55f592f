"""Home: what an autoencoder is, in a few lines and one diagram, and where to go next."""

from pathlib import Path

import streamlit as st

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
LINKS = [
    ("train.py", "Train", ":material/model_training:",
     "pick a dataset, a variant and k; watch the loss fall and the reconstructions sharpen against PCA."),
    ("reconstructions.py", "Reconstructions", ":material/compare:",
     "put up to four runs side by side on the same test images, with PCA at the same k."),
    ("latent_space.py", "Latent space", ":material/scatter_plot:",
     "see the codes coloured by digit or garment, the error-versus-k frontier, and interpolations."),
    ("explore.py", "Explore", ":material/explore:", "look inside a trained model."),
    ("sparsity.py", "Sparsity", ":material/grain:", "sparse autoencoders and their dormant units."),
    ("denoising.py", "Denoising", ":material/blur_on:", "learn to remove noise by adding it."),
    ("information.py", "Information", ":material/functions:", "surprise, entropy, cross-entropy and KL."),
    ("sweeps.py", "Sweeps", ":material/grid_on:", "train many settings and compare."),
    ("applications.py", "Applications", ":material/apps:", "anomaly detection, retrieval and more."),
    ("recommender.py", "Recommender", ":material/movie:", "collaborative filtering with an autoencoder."),
]
for page_file, title, icon, blurb in LINKS:
    if (ROOT / "app_pages" / page_file).exists():
        left, right = st.columns([1, 4])
        with left:
            page_link(page_file, title, icon)
        right.write(blurb)

st.caption("Start on the bundled 8x8 **digits** (always available, trains in seconds); choose "
           "MNIST or Fashion-MNIST in the sidebar when their files are available.")
