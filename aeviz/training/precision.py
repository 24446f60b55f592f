"""Mixed precision: bf16 autocast around the forward pass and loss, where the hardware runs bf16 fast.

Autocast runs matrix products (and convolutions) in bfloat16 and keeps the ops it lists as
precision-sensitive (losses, reductions like softmax) in fp32; the weights, the optimiser state and
the summed loss that is back-propagated stay fp32 (Micikevicius et al. 2018, "Mixed precision
training"; bf16 keeps fp32's exponent range, so no loss scaling is needed).

`auto` picks bf16 only where it is fast: on a CPU with AVX512-BF16 or AMX a bf16 matrix product runs
about twice as fast as fp32, while a CPU without them emulates bf16 and runs it several times slower
(0.27x on an AVX-512 Xeon without AVX512-BF16, measured with a 256x784 @ 784x1024 product). On CUDA,
`auto` picks bf16 where the GPU supports it, and TF32 for the products that stay in fp32.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from pathlib import Path

from aeviz.errors import InvalidConfig

PRECISION_CHOICES = ("auto", "bf16", "fp32")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of CPUs with native bf16 arithmetic


@dataclass(frozen=True)
class PrecisionChoice:
    name: str          # what training uses: "bf16" or "fp32"
    reason: str        # why, in a few words (shown with the run's metrics)
    warning: str = ""  # set when an explicit request will be slow here

    @property
    def bf16(self) -> bool:
        return self.name == "bf16"


def cpu_bf16_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """Which of BF16_CPU_FLAGS the CPU reports (empty where /proc/cpuinfo is not readable)."""
    try:
        with open(cpuinfo) as handle:
            for line in handle:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split()) & set(BF16_CPU_FLAGS)
    except OSError:
        pass
    return set()


@functools.cache  # the CPU does not change while the process runs
def cpu_has_fast_bf16() -> bool:
    """Whether the CPU has native bf16 arithmetic (AVX512-BF16 or AMX)."""
    if cpu_bf16_flags():
        return True
    import torch

    # torch's own probe (private, so guarded) covers systems without /proc/cpuinfo
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    try:
        return any(probe() for probe in probes if probe is not None)
    except Exception:
        return False


def cuda_has_bf16() -> bool:
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def resolve_precision(requested: str, device_type: str, variant=None) -> PrecisionChoice:
    """The precision training on `device_type` ("cpu" or "cuda") uses for `requested`; `variant` (its
    class) may declare that it trains worse in bf16 (trains_well_in_bf16), and then `auto` means fp32."""
    if requested not in PRECISION_CHOICES:
        raise InvalidConfig(f"precision must be one of {', '.join(PRECISION_CHOICES)} (got {requested!r})")
    if requested == "fp32":
        return PrecisionChoice("fp32", "asked for fp32")
    fast = cuda_has_bf16() if device_type == "cuda" else cpu_has_fast_bf16()
    lacking = "this GPU has no bf16 support" if device_type == "cuda" else "this CPU has no AVX512-BF16 or AMX"
    hurts = variant is not None and not getattr(variant, "trains_well_in_bf16", True)
    hurt = f"bf16 raises the {getattr(variant, 'title', 'chosen')} variant's test error (bench row precision)"
    if requested == "auto":
        if fast and hurts:
            return PrecisionChoice("fp32", f"auto: {hurt}")
        return PrecisionChoice("bf16", "auto: bf16 is fast here") if fast else \
            PrecisionChoice("fp32", f"auto: {lacking}")
    if fast:
        return PrecisionChoice("bf16", "asked for bf16", f"bf16 was asked for, but {hurt}" if hurts else "")
    return PrecisionChoice("bf16", "asked for bf16",
                           f"bf16 was asked for, but {lacking}: it is emulated, so training is slower than in fp32")


def autocast(device_type: str, choice: PrecisionChoice):
    """The context to run a forward pass and loss in: bf16 autocast, or nothing for fp32."""
    if not choice.bf16:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type, dtype=torch.bfloat16)


def enable_tf32() -> None:
    """Let fp32 matrix products on CUDA use TF32 tensor cores (10-bit mantissa, fp32 range)."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
