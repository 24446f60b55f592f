"""`python -m aeviz bench`: rows of measurements, each against a baseline run in the same bench.

Every module in this package that defines ``ROW = Row(...)`` is a row (found by name, like the
CLI's commands), so a new measurement is one new file. A row's ``run(context)`` returns one or
more `Result`s: what was measured, the baseline, their ratio, the target and whether it holds.

    from aeviz.bench import run_rows
    results = run_rows(BenchContext(quick=True), only=["trainer_overhead"])
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable
from aeviz.data.datasets import dataset_status
from aeviz.errors import InvalidConfig

FASHION = "fashion-mnist"
PASS, MISS, SKIPPED, INFO = "pass", "miss", "skipped", "info"


@dataclass
class Result:
    """One line of the bench table. `ratio` is value / baseline_value unless the row says otherwise."""

    row: str
    what: str
    unit: str = ""
    value: float | None = None
    baseline: str = ""
    baseline_value: float | None = None
    ratio: float | None = None
    target: str = ""
    status: str = INFO       # pass, miss, skipped (with the reason in note) or info (no target)
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BenchContext:
    quick: bool = False
    progress: Callable[[str], None] = lambda message: None
    dataset: str | None = None   # override the dataset rows use (default: Fashion-MNIST, digits in --quick)
    repeats: int | None = None   # override the number of interleaved repeats

    def say(self, message: str) -> None:
        self.progress(message)

    def bench_dataset(self) -> str:
        return self.dataset or ("digits" if self.quick else FASHION)


@dataclass(frozen=True)
class Row:
    name: str                                        # what --only selects
    title: str
    run: Callable[[BenchContext], list[Result]]
    order: int = 100                                 # position in the table


def discover_rows() -> dict[str, Row]:
    """name -> Row for every module of this package that defines ROW, in table order."""
    rows = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        row = getattr(module, "ROW", None)
        if isinstance(row, Row):
            rows.append(row)
    rows.sort(key=lambda r: (r.order, r.name))
    return {row.name: row for row in rows}


def run_rows(context: BenchContext, only: list[str] | None = None) -> list[Result]:
    """Run the chosen rows (all by default); a row that raises becomes a 'miss' with the error."""
    rows = discover_rows()
    chosen = list(rows) if not only else only
    unknown = [name for name in chosen if name not in rows]
    if unknown:
        raise InvalidConfig(f"unknown bench row {', '.join(unknown)}; choose from: {', '.join(rows)}")
    results: list[Result] = []
    for name in chosen:
        context.say(f"[{name}] {rows[name].title}")
        started = time.perf_counter()
        try:
            results.extend(rows[name].run(context))
        except Exception as exc:  # keep the other rows; say what broke
            results.append(Result(name, rows[name].title, status=MISS, note=f"error: {type(exc).__name__}: {exc}"))
        context.say(f"[{name}] done in {time.perf_counter() - started:.1f} s")
    return results


# ---------------------------------------------------------------------- helpers rows share
def fashion_missing(context: BenchContext) -> str:
    """Why the dataset a row needs cannot be used ('' when it can)."""

    name = context.bench_dataset()
    status = dataset_status(name)
    if getattr(status, "available", False):
        return ""
    return f"{name} is not available here (set AEVIZ_DATA_DIR to a folder holding it)"


def skipped(row: str, what: str, reason: str, target: str = "") -> Result:
    return Result(row, what, target=target, status=SKIPPED, note=reason)


def verdict(holds: bool) -> str:
    return PASS if holds else MISS


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": _cpu_model(),
    }
    try:
        info["load_average_1min"] = os.getloadavg()[0]
    except OSError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except Exception:
        pass
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def python_executable() -> str:
    return sys.executable


def format_table(results: list[Result]) -> str:
    """A markdown table of the results (what the README's performance section shows)."""
    header = "| row | what | value | baseline | ratio | target | status |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for r in results:
        value = "" if r.value is None else f"{_number(r.value)} {r.unit}".strip()
        base = r.baseline + ("" if r.baseline_value is None else f": {_number(r.baseline_value)}")
        ratio = "" if r.ratio is None else f"{r.ratio:.2f}"
        status = r.status + (f" ({r.note})" if r.note else "")
        lines.append(f"| {r.row} | {r.what} | {value} | {base} | {ratio} | {r.target} | {status} |")
    return "\n".join(lines)


def _number(x: float) -> str:
    if x != x:  # NaN
        return "nan"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 0.1:
        return f"{x:.2f}"
    return f"{x:.4f}"
