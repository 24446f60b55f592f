"""Sweep executors by name, as the CLI's --executor and the Sweeps page offer them: `local` trains in this
process, `ray` on the Ray cluster (aeviz.cluster). The sweep engine (aeviz.sweeps) takes the object and never
knows Ray.
"""

from __future__ import annotations

from typing import Any

from aeviz.errors import AevizError
from aeviz.sweeps.engine import LocalExecutor

EXECUTORS = ("local", "ray")


def make_executor(executor: Any = "local", ray_address: str | None = None, num_workers: int | None = None):
    """'local', 'ray' or an executor object (returned as it is). 'ray' raises AevizError saying how to
    install Ray, or why its cluster cannot be reached."""
    if not isinstance(executor, str):
        return executor
    if executor == "local":
        return LocalExecutor()
    if executor == "ray":
        # lazy: Ray is optional (this module imports without it)
        from aeviz.cluster.sweep_executor import RayExecutor  # Ray is optional and slow to import

        return RayExecutor(address=ray_address, num_workers=num_workers)
    raise AevizError(f"unknown executor {executor!r}; choose one of: {', '.join(EXECUTORS)}")
