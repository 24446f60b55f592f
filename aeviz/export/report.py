"""A run as one self-contained HTML file, viewable offline: plotly's JavaScript inlined once, images
embedded as data URIs, no external script or stylesheet. `python -m aeviz report RUN_ID`.

Sections: configuration, metrics against PCA, loss curves per term, reconstructions, the latent
scatter, the latent manifold (k = 2 or a VAE) and the "watch it form" animation where codes were recorded.
"""

from __future__ import annotations

import html
import json
import time
from typing import Any

import numpy as np

from aeviz.errors import AevizError
from aeviz.data.datasets import load_dataset
from aeviz.errors import DatasetUnavailable
from aeviz.figures.training import loss_curves_figure
from aeviz.runs.store import RunStore
from aeviz.analysis.comparison import pca_comparison_k, pca_comparison_words
from aeviz.facts import beats_pca

RECONSTRUCTIONS = 10
SCATTER_POINTS = 2000
MANIFOLD_SIDE = 15

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
table { border-collapse: collapse; font-size: 0.92em; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
img.pixels { image-rendering: pixelated; image-rendering: crisp-edges; border: 1px solid #ccc; }
.note { color: #666; font-size: 0.9em; }
"""


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _figure_html(fig, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, auto_play=False,
                       config={"displaylogo": False, "responsive": True})


def report_sections(run, dataset=None) -> dict[str, str]:
    """The report's sections as HTML fragments keyed by name (in order); `dataset` None skips the
    sections that need the test images."""
    sections = summary_sections(run)
    if dataset is None:
        sections["reconstructions"] = ("<h2>Reconstructions</h2><p class='note'>The dataset was not available when "
                                       "this report was made, so images are left out.</p>")
    else:
        sections.update(image_sections(run, dataset))
    return sections


def summary_sections(run) -> dict[str, str]:
    """Configuration, metrics against PCA and the loss curves: what the run's files alone tell."""

    config, metrics = run.config, run.metrics
    sections: dict[str, str] = {}
    rows = [("run", run.run_id), ("dataset", config.dataset), ("variant", config.variant), ("k", config.k),
            ("epochs", config.epochs), ("max seconds", config.max_seconds), ("batch size", config.batch_size),
            ("learning rate", config.lr), ("seed", config.seed)]
    rows += [(f"variant: {name}", value) for name, value in run.settings.items()]
    rows += [(f"trainer: {name}", value) for name, value in (config.trainer or {}).items()]
    sections["configuration"] = "<h2>Configuration</h2>" + _table(rows)

    test_mse, pca_mse = metrics.get("test_mse"), metrics.get("pca_test_mse")
    metric_rows = [("test MSE per pixel", test_mse), ("PCA test MSE at the same k", pca_mse)]
    compared, words = _pca_baseline(config, pca_mse)
    if compared is not None:  # a k-sparse run: compared with PCA at its active units (aeviz.facts)
        pca_mse = compared
        metric_rows.append((f"{words[:1].upper()}{words[1:]}: test MSE", pca_mse))
    if isinstance(test_mse, (int, float)) and isinstance(pca_mse, (int, float)) and pca_mse > 0:
        verdict = "better than" if beats_pca(test_mse, pca_mse) else "no better than"
        metric_rows.append(("autoencoder / PCA", f"{test_mse / pca_mse:.3f} ({verdict} {words})"))
    skip = {"test_mse", "pca_test_mse", "warnings", "created"}
    metric_rows += [(name, value) for name, value in metrics.items() if name not in skip and not isinstance(value, (dict, list))]
    sections["metrics"] = "<h2>Metrics against PCA</h2>" + _table(metric_rows)

    sections["loss_curves"] = "<h2>Loss curves</h2>" + _figure_html(
        loss_curves_figure(run.history, x="step", title="Loss during training (per term)", test_history=run.test_history,
                           pca_mse=pca_mse if isinstance(pca_mse, (int, float)) else None), "loss-curves")
    return sections


def _pca_baseline(config, pca_at_k) -> tuple[float | None, str]:
    """(PCA's test MSE with the components the run is compared with, when that is not its k; the words)."""

    try:
        compared = pca_comparison_k(config.variant, config.k, config.params)
        words = pca_comparison_words(config.variant, config.k, config.params)
        if compared == config.k or pca_at_k is None:
            return None, words
        # lazy: torch only when called (this module imports without it)
        from aeviz.analysis.pca import pca_test_mse

        return float(pca_test_mse(load_dataset(config.dataset), compared)), words
    except (AevizError, KeyError, ValueError, OSError):  # the report is still written; the row at k stays
        return None, "PCA at the same k"


def image_sections(run, dataset) -> dict[str, str]:
    """Reconstructions, the latent scatter, the manifold (k = 2 or a VAE) and the codes forming."""
    # lazy: scipy, torch only when called (this module imports without it)
    from aeviz.analysis.explore import formation_frames, plane_dimensions
    # lazy: plotly only when called (this module imports without it)
    from aeviz.figures.explore import formation_animation, latent_scatter, png_data_uri, tile
    # lazy: scipy, torch only when called (this module imports without it)
    from aeviz.analysis.latent import codes_2d, encode_images, grid_description, manifold, reconstruct_images

    config, model = run.config, run.model
    sections: dict[str, str] = {}
    labels = dataset.test_labels.numpy()
    shown = [int(np.nonzero(labels == c)[0][0]) for c in np.unique(labels)][:RECONSTRUCTIONS]
    originals = dataset.test_images[shown]
    recon = reconstruct_images(model, originals)[:, 0]
    grid = tile(np.stack([originals.numpy()[:, 0], recon]), pad=1)
    scale = max(1, 224 // originals.shape[-1] // 2)
    sections["reconstructions"] = (
        "<h2>Reconstructions</h2><p class='note'>Top: test images (one per class). Bottom: the model's "
        f"reconstructions.</p><img class='pixels' alt='reconstructions' src='{png_data_uri(grid, scale)}'>")

    snapshots = run.code_snapshots or {}
    indices = (np.asarray(snapshots["indices"]) if "indices" in snapshots
               else np.arange(min(SCATTER_POINTS, len(labels))))
    codes = encode_images(model, dataset.test_images[indices])
    points = codes_2d(codes)
    axes = ("z1", "z2") if config.k <= 2 else ("PC 1 of the codes", "PC 2 of the codes")
    sections["latent_scatter"] = "<h2>Latent space</h2>" + _figure_html(
        latent_scatter(points, labels[indices], dataset.class_names,
                       f"Test codes (k = {config.k}{'' if config.k <= 2 else ', 2-D PCA projection'})",
                       axis_titles=axes), "latent-scatter")
    if config.k == 2 or (model.has_prior and config.k > 2):
        dims = plane_dimensions(codes)
        grid_images = manifold(model, MANIFOLD_SIDE, model.has_prior, codes, dims).images
        sections["manifold"] = (
            "<h2>Latent manifold</h2><p class='note'>Images decoded from a regular grid over the plane of code "
            f"dimensions {dims[0] + 1} and {dims[1] + 1}"
            f" ({grid_description(model.has_prior)}).</p>"
            f"<img class='pixels' alt='latent manifold' src='{png_data_uri(tile(grid_images, pad=1), max(1, 480 // (MANIFOLD_SIDE * grid_images.shape[-1])))}'>")

    if run.code_snapshots:
        formation = formation_frames(run.code_snapshots)
        sections["animation"] = "<h2>Watch it form</h2>" + _figure_html(
            formation_animation(formation, dataset.test_labels.numpy()[formation.indices], dataset.class_names),
            "formation")
    return sections


def build_report(run, dataset=None) -> str:
    """The whole report for a LoadedRun as one HTML string."""
    from plotly.offline import get_plotlyjs

    sections = report_sections(run, dataset)
    title = f"aeviz run {run.run_id}"
    created = run.metrics.get("created")
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(created)) if isinstance(created, (int, float)) else ""
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
            f"<h1>{html.escape(title)}</h1><p class='note'>{html.escape(run.info.label)}"
            f"{' · trained ' + when if when else ''} · made with aeviz, the autoencoder lab</p>"
            + "\n".join(sections.values()) + "</body></html>")


def write_report(run_id: str, output, store=None) -> int:
    """Write the report of a saved run to `output`; returns the number of bytes written."""
    from pathlib import Path


    run = (store or RunStore()).load(run_id)
    try:
        dataset = load_dataset(run.config.dataset)
    except DatasetUnavailable:
        dataset = None
    text = build_report(run, dataset).encode("utf-8")
    try:
        Path(output).write_bytes(text)
    except OSError as exc:
        raise AevizError(f"cannot write the report to {output} ({exc.strerror or exc})") from None
    return len(text)
