"""Sweeps: grids over k and declared hyperparameters, each point an ordinary saved run.

`SweepSpec` (what to sweep) -> `Sweep` (its points, saved by `SweepStore`) -> `run_sweep` / `iter_sweep`
(the engine, on a local or Ray executor; `SweepRunner` runs it as a background task) -> `sweep_table`
(one row per point) and `aeviz.figures.sweeps` (figures chosen by the number of swept parameters).
"""

from aeviz.sweeps.engine import LocalExecutor, iter_sweep, run_sweep
from aeviz.sweeps.events import (PointFinished, PointProgress, PointQueued, PointStarted, SweepFinished,
                                 SweepStarted)
from aeviz.sweeps.results import sweep_table
from aeviz.sweeps.runner import SweepRunner
from aeviz.sweeps.spec import SweepPoint, SweepSpec, suggest_values
from aeviz.sweeps.grid_args import parse_grid_arg, parse_grid_args, parse_seeds
from aeviz.sweeps.store import Sweep, SweepStore, sweeps_dir

__all__ = ["LocalExecutor", "PointFinished", "PointProgress", "PointQueued", "PointStarted",
           "Sweep", "SweepFinished", "SweepPoint", "SweepRunner", "SweepSpec", "SweepStarted", "SweepStore",
           "iter_sweep", "parse_grid_arg", "parse_grid_args", "parse_seeds", "run_sweep",
           "suggest_values", "sweep_table", "sweeps_dir"]
