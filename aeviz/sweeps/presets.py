"""Sweeps that pages start with one click: the sparsity sweep (error against sparsity), Makhzani & Frey's
filter figure (k-sparse runs at one wide code, fewer active units each), and the denoising heatmap (one run
per training noise level). Each returns a validated SweepSpec; the sweep engine trains it like any other.
"""

from __future__ import annotations

from aeviz.analysis.noise_robustness import noise_heatmap_variant
from aeviz.analysis.sparsity import sparsity_knob
from aeviz.errors import AevizError, InvalidConfig
from aeviz.sweeps.spec import SweepSpec
from aeviz.variants import get_variant


# ---------------------------------------------------------------- the sparsity sweep
def sparsity_sweep_spec(dataset: str, variant: str, values, k: int, epochs: float | None = None,
                        max_seconds: float | None = None, seed: int = 0, fixed: dict | None = None):
    """A sweep (aeviz.sweeps) of short runs of `variant` at bottleneck k, one per sparsity knob value."""
    knob = sparsity_knob(variant)
    values = list(values)
    if not values:
        raise AevizError(f"give at least one value of {knob} to sweep")
    spec = SweepSpec(dataset=dataset, variants=[variant], grid={knob: values}, seeds=[seed], epochs=epochs,
                     max_seconds=max_seconds, fixed={"k": k, **(fixed or {})}).validated()
    for value in spec.grid[knob]:  # settings that must fit k (active_units), checked before any training
        get_variant(variant).check_settings(k, {**spec.fixed, knob: value})
    return spec


# ---------------------------------------------------------------- Makhzani & Frey's filter figure
# The paper's filter figure (MNIST, 1000 hidden units): 70, 40, 25 and 10 active units. Here the code is
# 512 wide on 28x28 images (a k-sparse autoencoder here is undercomplete), with the paper's counts; on the
# 8x8 digits (63 units) the counts keep the paper's proportions to one another, the largest 18.
PAPER_ACTIVE_UNITS = (70, 40, 25, 10)
PAPER_CODE_UNITS = 1000


def ksparse_filters_spec(dataset: str, input_size: int, epochs: float, seed: int = 0):
    """A sweep of k-sparse runs at one wide k, one per number of active units (most first), for the
    side-by-side filter grids of Makhzani & Frey's figure."""
    k = min(512, input_size - 1)
    if k >= 256:
        counts = list(PAPER_ACTIVE_UNITS)
    else:  # the same shares of a narrower code
        counts = sorted({max(1, round(k * c / PAPER_CODE_UNITS * 4)) for c in PAPER_ACTIVE_UNITS}, reverse=True)
    return sparsity_sweep_spec(dataset, "ksparse", counts, k, epochs=epochs, seed=seed)


# ---------------------------------------------------------------- the denoising heatmap
def noise_heatmap_spec(dataset: str, kind: str, train_levels, k: int, epochs: float | None = None,
                       max_seconds: float | None = None, seed: int = 0, fixed: dict | None = None):
    """A sweep (aeviz.sweeps) of short runs of the denoising variant, one per training noise level."""
    train_levels = sorted({float(v) for v in train_levels})
    if not train_levels:
        raise InvalidConfig("give at least one training noise level")
    return SweepSpec(dataset=dataset, variants=[noise_heatmap_variant().slug], grid={"noise_level": train_levels}, seeds=[seed],
                     epochs=epochs, max_seconds=max_seconds,
                     fixed={"k": k, "noise": kind, **(fixed or {})}).validated()
