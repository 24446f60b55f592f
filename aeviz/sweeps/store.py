"""A sweep as saved: its spec and every point's status, run id and metrics, one JSON file per sweep.

Sweeps live in a `.sweeps` folder inside the run store's root (``$AEVIZ_SWEEPS_DIR`` overrides),
so they travel with the runs they point to; the run store itself skips dot-folders. The file is
rewritten atomically after every point, so a sweep that was interrupted reopens with the points
that finished.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aeviz.errors import AevizError, RunNotFound
from aeviz.runs.format import _jsonable
from aeviz.runs.store import runs_dir
from aeviz.sweeps.spec import SweepPoint, SweepSpec


def sweeps_dir() -> Path:
    explicit = os.environ.get("AEVIZ_SWEEPS_DIR", "").strip()
    return Path(explicit).expanduser() if explicit else runs_dir() / ".sweeps"


def new_sweep_id(spec: SweepSpec) -> str:
    return f"sweep-{'+'.join(spec.variants)}-{spec.dataset}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


@dataclass
class Sweep:
    sweep_id: str
    spec: SweepSpec
    points: list[SweepPoint]
    executor: str = "local"
    status: str = "pending"          # pending, running, completed, stopped, failed
    message: str = ""
    created: float = field(default_factory=time.time)
    wall_seconds: float = 0.0
    startup_seconds: float = 0.0     # executor start-up (Ray's init), not counted in wall_seconds

    @classmethod
    def create(cls, spec: SweepSpec, executor: str = "local") -> "Sweep":
        """Validate `spec` and lay out its points (raises InvalidConfig before anything trains)."""
        spec = spec.validated()
        return cls(new_sweep_id(spec), spec, spec.points(), executor)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for point in self.points:
            out[point.status] = out.get(point.status, 0) + 1
        return out

    @property
    def fraction_done(self) -> float:
        return sum(p.done for p in self.points) / max(len(self.points), 1)

    @property
    def label(self) -> str:
        c = self.counts()
        grid = " × ".join(f"{name}({len(v)})" for name, v in self.spec.grid.items())
        return (f"{'+'.join(self.spec.variants)} · {self.spec.dataset} · {grid} · seeds {len(self.spec.seeds)} · "
                f"{c.get('completed', 0) + c.get('diverged', 0)}/{len(self.points)} done · {self.status}")

    def to_json(self) -> dict[str, Any]:
        return {"sweep_id": self.sweep_id, "spec": self.spec.to_json(), "executor": self.executor,
                "status": self.status, "message": self.message, "created": self.created,
                "wall_seconds": self.wall_seconds, "startup_seconds": self.startup_seconds,
                "points": [p.to_json() for p in self.points]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Sweep":
        known = set(SweepPoint.__dataclass_fields__)
        points = [SweepPoint(**{k: v for k, v in p.items() if k in known}) for p in data.get("points", [])]
        return cls(data["sweep_id"], SweepSpec.from_json(data["spec"]), points, data.get("executor", "local"),
                   data.get("status", "pending"), data.get("message", ""), data.get("created", 0.0),
                   data.get("wall_seconds", 0.0), data.get("startup_seconds", 0.0))


class SweepStore:
    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else sweeps_dir()

    def save(self, sweep: Sweep) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{sweep.sweep_id}-", dir=self.root)
            with os.fdopen(fd, "w") as handle:
                json.dump(_jsonable(sweep.to_json()), handle, indent=1)
            os.replace(tmp, self.root / f"{sweep.sweep_id}.json")
        except OSError as exc:
            raise AevizError(f"cannot save sweep {sweep.sweep_id} in {self.root} ({exc.strerror or exc}); set "
                             f"AEVIZ_RUNS_DIR or AEVIZ_SWEEPS_DIR to a writable folder") from None

    def list(self) -> list[Sweep]:
        """Every readable sweep, newest first (unreadable files are skipped)."""
        if not self.root.is_dir():
            return []
        sweeps = []
        for path in self.root.glob("*.json"):
            if path.name.startswith("."):
                continue
            try:
                sweeps.append(Sweep.from_json(json.loads(path.read_text())))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return sorted(sweeps, key=lambda s: s.created, reverse=True)

    def load(self, sweep_id: str) -> Sweep:
        if not sweep_id or "/" in sweep_id or "\\" in sweep_id or sweep_id.startswith("."):
            raise RunNotFound(f"no sweep named {sweep_id!r}")
        path = self.root / f"{sweep_id}.json"
        try:
            return Sweep.from_json(json.loads(path.read_text()))
        except FileNotFoundError:
            raise RunNotFound(f"no sweep named {sweep_id!r} in {self.root}") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AevizError(f"sweep {sweep_id} cannot be read ({exc})") from None

    def delete(self, sweep_id: str) -> None:
        (self.root / f"{sweep_id}.json").unlink(missing_ok=True)
