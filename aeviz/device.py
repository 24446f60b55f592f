"""Choosing the torch device: `auto` takes CUDA where there is a GPU; CUDA asked for without one
falls back to the CPU, saying so."""

from __future__ import annotations

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
