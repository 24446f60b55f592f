"""The app's pages, listed once: app.py builds the navigation from this list, Home links to each page
with its line, and the tests open each one. Plain data (no Streamlit calls), so importing it is free."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent / "app_pages"


@dataclass(frozen=True)
class PageEntry:
    file: str      # the script in app_pages/
    title: str
    icon: str      # a Material icon, as st.Page and st.page_link take it
    line: str      # what the page is for, in one line (Home lists it beside the link)

    @property
    def path(self) -> Path:
        return PAGES_DIR / self.file

    @property
    def url_path(self) -> str:
        """Where the page is served: "" for Home (the default page), else the file name without .py."""
        return "" if self.is_home else self.file.removesuffix(".py")

    @property
    def is_home(self) -> bool:
        return self is PAGES[0]


PAGES: tuple[PageEntry, ...] = (
    PageEntry("home.py", "Home", ":material/home:", "what an autoencoder is, and where to go next."),
    PageEntry("train.py", "Train", ":material/model_training:",
              "pick a dataset, a variant and k; watch the loss fall and the reconstructions sharpen against PCA."),
    PageEntry("reconstructions.py", "Reconstructions", ":material/compare:",
              "put up to four runs side by side on the same test images, with PCA at the same k."),
    PageEntry("latent_space.py", "Latent space", ":material/scatter_plot:",
              "see the codes coloured by digit or garment, the error-versus-k frontier, and interpolations."),
    PageEntry("explore.py", "Explore", ":material/explore:", "look inside a trained model."),
    PageEntry("sparsity.py", "Sparsity", ":material/grain:", "sparse autoencoders and their dormant units."),
    PageEntry("denoising.py", "Denoising", ":material/blur_on:", "learn to remove noise by adding it."),
    PageEntry("information.py", "Information", ":material/functions:", "surprise, entropy, cross-entropy and KL."),
    PageEntry("sweeps.py", "Sweeps", ":material/grid_on:", "train many settings and compare."),
    PageEntry("applications.py", "Applications", ":material/apps:", "anomaly detection, retrieval and more."),
    PageEntry("recommender.py", "Recommender", ":material/movie:", "collaborative filtering with an autoencoder."),
    PageEntry("lessons.py", "Lessons", ":material/school:",
              "a question, a goal checked on your own run, one-click setup, hints and the answer."),
    PageEntry("class_view.py", "Class view", ":material/co_present:",
              "for the projector: every run of the class against PCA's curve, and the lessons' pass counts."),
)


def available_pages() -> list[PageEntry]:
    """The pages whose script exists, in navigation order."""
    return [entry for entry in PAGES if entry.path.is_file()]


def page_entry(file: str) -> PageEntry:
    """The entry of app_pages/<file>; KeyError names the file when it is not a page of the app."""
    for entry in PAGES:
        if entry.file == file:
            return entry
    raise KeyError(f"{file} is not in ui/page_registry.PAGES")
