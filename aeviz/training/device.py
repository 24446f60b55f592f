"""Choosing the torch device: `auto` takes CUDA where there is a GPU; CUDA asked for without one
falls back to the CPU, saying so. Also how background training threads share the CPU's cores."""

from __future__ import annotations

import os
from dataclasses import dataclass

from aeviz.errors import InvalidConfig

DEVICE_CHOICES = ("auto", "cpu", "cuda")


@dataclass
class DeviceChoice:
    device: str        # "cpu" or "cuda"
    name: str          # "CPU" or the GPU's name
    warning: str = ""  # set when the request could not be honoured


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_device(requested: str = "auto") -> DeviceChoice:
    if requested not in DEVICE_CHOICES:
        raise InvalidConfig(f"device must be one of {', '.join(DEVICE_CHOICES)} (got {requested!r})")
    has_cuda = cuda_available()
    if requested == "cuda" and not has_cuda:
        return DeviceChoice("cpu", "CPU", "CUDA was requested but no GPU is available here; training on the CPU")
    if requested in ("auto", "cuda") and has_cuda:
        import torch

        return DeviceChoice("cuda", torch.cuda.get_device_name(0))
    return DeviceChoice("cpu", "CPU")


def share_cpu_threads(max_running: int) -> int:
    """Give this training thread its share of the cores when several may train at once; returns it.

    Each torch training thread otherwise starts a pool as large as the machine, so eight runs on two
    cores run sixteen busy threads: every run slows many times over and the server's own thread
    starves. Set in the calling thread, since torch's intra-op thread count is per thread.
    """
    import torch

    threads = max(1, (os.cpu_count() or 1) // max(1, max_running))
    if max_running > 1:
        torch.set_num_threads(threads)
    return threads


def warm_up_optimizers() -> None:
    """Build one optimizer now, in the background: torch's first optimizer imports torch._dynamo (seconds
    of GIL-heavy imports) and every training thread would otherwise queue on that import at its first
    step, with the server unresponsive meanwhile (seen with 8 sessions pressing Train at once)."""
    try:
        import torch

        torch.optim.Adam(torch.nn.Linear(1, 1).parameters())
    except Exception:  # only a head start: the process may be shutting down mid-import (jobs import it again)
        pass
