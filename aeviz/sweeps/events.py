"""What a sweep's engine yields (the CLI, the app and other pages consume them alike), and what an
executor hands back to the engine. Executors only report; the engine changes the sweep's state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aeviz.sweeps.spec import SweepPoint
from aeviz.sweeps.store import Sweep


@dataclass
class SweepStarted:
    sweep: Sweep


@dataclass
class PointQueued:
    point: SweepPoint        # handed to a worker that starts it when free (Ray)


@dataclass
class PointStarted:
    point: SweepPoint


@dataclass
class PointProgress:
    point: SweepPoint
    fraction: float          # of this point's budget, 0..1
    loss: float
    elapsed: float           # seconds of training of this point


@dataclass
class PointFinished:
    point: SweepPoint        # status completed, diverged, failed or stopped; run_id when saved


@dataclass
class SweepFinished:
    sweep: Sweep


@dataclass
class PointOutcome:
    """What an executor hands back for one point (the engine saves it and yields PointFinished)."""

    point: SweepPoint
    status: str              # completed, diverged, stopped, failed
    message: str = ""
    result: Any = None       # TrainResult, when training ran to an end


SweepEvent = SweepStarted | PointQueued | PointStarted | PointProgress | PointFinished | SweepFinished
