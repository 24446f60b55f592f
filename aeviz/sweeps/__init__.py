"""Sweeps: grids over k and declared hyperparameters, each point an ordinary saved run.

`SweepSpec` (what to sweep) -> `Sweep` (its points, saved by `SweepStore`) -> `run_sweep` /
`iter_sweep` / `SweepRunner` (the engine, on the `local` or `ray` executor) -> `sweep_table`
(one row per point) and `aeviz.figures.sweeps` (figures chosen by the number of swept parameters).
"""

from aeviz.sweeps.engine import (EXECUTORS, LocalExecutor, PointFinished, PointProgress, PointStarted,
                                 SweepFinished, SweepRunner, SweepStarted, iter_sweep, make_executor, run_sweep)
from aeviz.sweeps.results import sweep_table
from aeviz.sweeps.spec import SweepPoint, SweepSpec, parse_grid_arg, parse_grid_args, parse_seeds, suggest_values
from aeviz.sweeps.store import Sweep, SweepStore, sweeps_dir

__all__ = ["EXECUTORS", "LocalExecutor", "PointFinished", "PointProgress", "PointStarted", "Sweep", "SweepFinished",
           "SweepPoint", "SweepRunner", "SweepSpec", "SweepStarted", "SweepStore", "iter_sweep", "make_executor",
           "parse_grid_arg", "parse_grid_args", "parse_seeds", "run_sweep", "suggest_values", "sweep_table",
           "sweeps_dir"]
