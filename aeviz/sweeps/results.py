"""A sweep's results as a table: one row per point (its swept settings, seed, status, test MSE,
PCA's test MSE at its k, the variant's own metrics such as mean activation or KL, train seconds)."""

from __future__ import annotations

from typing import Any

from aeviz.sweeps.spec import format_value
from aeviz.sweeps.store import Sweep

# Metrics every run reports; anything else numeric in a point's metrics is the variant's own.
COMMON_METRICS = {"status", "test_mse", "pca_test_mse", "epochs", "steps", "train_seconds", "samples_per_second",
                  "device", "device_name", "train_size", "test_size", "warnings", "created"}


def variant_metric_names(sweep: Sweep) -> list[str]:
    names: list[str] = []
    for point in sweep.points:
        for name, value in point.metrics.items():
            if name not in COMMON_METRICS and name not in names and isinstance(value, (int, float)) \
                    and not isinstance(value, bool):
                names.append(name)
    return names


def sweep_table(sweep: Sweep) -> list[dict[str, Any]]:
    """One dict per point, in point order; MSEs are per pixel. Unfinished points have None metrics."""
    grid_names = list(sweep.spec.grid)
    extra = variant_metric_names(sweep)
    rows = []
    for point in sweep.points:
        row: dict[str, Any] = {"point": point.index, "variant": point.variant}
        for name in grid_names:
            value = point.values.get(name)
            row[name] = format_value(value) if isinstance(value, (list, tuple)) else value
        row.update({"seed": point.seed, "status": point.status,
                    "test_mse": point.metrics.get("test_mse"), "pca_test_mse": point.metrics.get("pca_test_mse")})
        for name in extra:
            row[name] = point.metrics.get(name)
        row.update({"train_seconds": point.metrics.get("train_seconds"), "run_id": point.run_id,
                    "error": point.error})
        rows.append(row)
    return rows
