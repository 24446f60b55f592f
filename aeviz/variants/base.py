"""The base autoencoder every variant inherits: declared parameters, encode/decode, named loss terms.

A variant is one file in this folder (the registry in __init__.py finds it): a subclass that sets
`slug`, `title`, `summary`, `menu_order`, its own `extra_params` and, where it differs from a plain
MLP autoencoder, `code_activation`, `loss_parts` or `training_stages`. It also states the facts the
pages ask (whether it has a prior, its sparsity knob, its training noise...), so that no code
outside this folder tests a slug. The trainer, CLI and app only use what is defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from aeviz.errors import InvalidConfig
from aeviz.variants.nets import Flatten, FlattenCentered, Unflatten, first_linear, last_linear, mlp
from aeviz.params import Param, ParamSet
from aeviz.variants.trainer_settings import trainer_settings
from aeviz.facts import code_sparsity as by_the_rule

COMMON_PARAMS: tuple[Param, ...] = (
    Param("hidden", "widths", (1024,), "Widths of the hidden layers between the input and the code "
          "(the decoder mirrors them), e.g. 1024 or 512,256; empty for a single layer."),
    Param("activation", "choice", "relu", "Nonlinearity of the hidden layers.",
          choices=("relu", "gelu", "elu", "leaky_relu", "tanh", "sigmoid")),
    Param("output", "choice", "sigmoid", "Output activation: sigmoid keeps pixels in [0, 1].",
          choices=("sigmoid", "identity")),
    Param("loss", "choice", "mse", "Reconstruction loss: mean squared error, or binary cross-entropy "
          "(pixels read as probabilities; needs the sigmoid output).", choices=("mse", "bce")),
)


class LossParts(dict):
    """Named loss terms (scalar tensors) whose sum is the loss; 'reconstruction' is always one."""

    def total(self) -> torch.Tensor:
        return sum(self.values())


@dataclass
class Stage:
    """One phase of training: its loss, the parameters it updates, and its share of the budget."""

    name: str
    loss_parts: Callable[[torch.Tensor], LossParts]
    parameters: list[nn.Parameter]
    share: float = 1.0


def reconstruction_loss(logits: torch.Tensor, target: torch.Tensor, kind: str, output: str) -> torch.Tensor:
    """Mean per pixel. `logits` are the decoder's pre-activation outputs."""
    if kind == "bce":
        # With logits, BCE is numerically stable where sigmoid(logits) would saturate.
        return F.binary_cross_entropy_with_logits(logits, target)
    recon = torch.sigmoid(logits) if output == "sigmoid" else logits
    return F.mse_loss(recon, target)


class Autoencoder(nn.Module):
    slug: ClassVar[str] = ""
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    extra_params: ClassVar[tuple[Param, ...]] = ()
    common_defaults: ClassVar[dict[str, Any]] = {}  # its own defaults of the common parameters (hidden...)
    code_activation: ClassVar[str] = "identity"  # a variant may also declare a "code_activation" Param
    default_k: ClassVar[int] = 32
    k_note: ClassVar[str] = ""  # why the Bottleneck size starts at default_k, where that needs saying (Train page)
    default_lr: ClassVar[float] = 2e-3
    default_batch_size: ClassVar[int] = 256
    trainer_defaults: ClassVar[dict[str, Any]] = {}  # its own defaults of trainer_settings.TRAINER_PARAMS
    # On CUDA a step on 256 small images is bound by kernel launches, not arithmetic: larger batches
    # keep the GPU busy (samples/s grows almost with the batch until the GPU is full).
    default_gpu_batch_size: ClassVar[int] = 1024
    uses_common_params: ClassVar[bool] = True
    centers_code_units: ClassVar[bool] = False  # see center_code_units (ReLU and top-k codes)
    centers_input: ClassVar[bool] = False  # the default MLP subtracts the mean training image (nets.FlattenCentered)
    # False where bf16 autocast measurably raises the test error (bench row `precision`, every variant):
    # precision=auto then trains the variant in fp32 even where bf16 is fast.
    trains_well_in_bf16: ClassVar[bool] = True
    pca_baseline: ClassVar[bool] = True  # False where PCA at the same k means nothing (AutoRec's ratings)

    # ---- facts the pages ask ----------------------------------------------------------
    menu_order: ClassVar[int] = 1000  # place in menus, `variants` listings and the README's table
    has_prior: ClassVar[bool] = False  # codes are fitted to a prior N(0, I), so samples of it decode
    spans_pca_subspace: ClassVar[bool] = False  # one linear decoder map, comparable with PCA's top-k span
    denoises: ClassVar[bool] = False  # trained to rebuild clean images from corrupted ones
    sparsity_knob: ClassVar[str] = ""  # the declared setting that sets how sparse the code is
    activation_target_param: ClassVar[str] = ""  # the declared target mean activation ρ of a code unit
    # Values to start a sweep of a declared setting from (a sparsity knob, a noise level).
    sweep_suggestions: ClassVar[dict[str, tuple]] = {}

    @classmethod
    def setting(cls, settings: dict[str, Any] | None, name: str) -> Any:
        """A run's value of a declared setting, or its declared default when the run does not record it."""
        settings = settings or {}
        if name in settings:
            return settings[name]
        for param in cls.declared_params():
            if param.name == name:
                return param.default
        raise KeyError(f"{cls.slug} declares no setting {name!r}")

    @classmethod
    def activation_target(cls, settings: dict[str, Any] | None) -> float | None:
        """ρ, the mean activation each code unit is pushed towards, or None for a variant without one."""
        return float(cls.setting(settings, cls.activation_target_param)) if cls.activation_target_param else None

    @classmethod
    def training_noise(cls, settings: dict[str, Any] | None) -> tuple[str, float] | None:
        """(kind, level) of the noise added to the inputs in training, or None when it trains on clean images."""
        return None

    @classmethod
    def check_settings(cls, k: int, settings: dict[str, Any]) -> None:
        """Raise InvalidConfig when settings that are each in range do not fit together or with k."""

    # ---- declarations -------------------------------------------------------------
    @classmethod
    def declared_params(cls) -> tuple[Param, ...]:
        common = ()
        if cls.uses_common_params:
            common = tuple(
                Param(**{**p.__dict__, "default": cls.common_defaults.get(p.name, p.default)})
                for p in COMMON_PARAMS
            )
        return common + cls.extra_params

    @classmethod
    def training_defaults(cls, device: str = "cpu") -> dict[str, Any]:
        """Learning rate, batch size and optimiser settings (trainer_settings.TRAINER_PARAMS) the CLI and
        app start from for this variant on `device` (cpu or cuda)."""
        batch_size = cls.default_batch_size
        if device == "cuda":
            batch_size = max(batch_size, cls.default_gpu_batch_size)
        return {"lr": cls.default_lr, "batch_size": batch_size, **trainer_settings(cls, {})}

    @classmethod
    def k_range(cls, input_size: int) -> tuple[int, int]:
        """Allowed bottleneck sizes; undercomplete by default."""
        return 1, input_size - 1

    @classmethod
    def check_k(cls, k: int, input_size: int) -> None:
        low, high = cls.k_range(input_size)
        if not isinstance(k, int) or isinstance(k, bool):
            raise InvalidConfig(f"k must be a whole number (got {k!r})")
        if k < low or k > high:
            raise InvalidConfig(f"k={k} is outside what {cls.slug} allows for inputs of size {input_size}: "
                                f"{low} <= k <= {high}")

    @classmethod
    def parse_params(cls, overrides: dict[str, Any] | None, k: int | None = None) -> dict[str, Any]:
        """Every declared setting, parsed and checked; with `k`, defaults that depend on k are fitted to it
        and settings that cannot fit k are refused (InvalidConfig), before anything trains."""
        values = ParamSet.from_overrides(cls.declared_params(), overrides).values
        if values.get("loss") == "bce" and values.get("output") == "identity":
            raise InvalidConfig("loss=bce needs output=sigmoid (cross-entropy reads pixels as probabilities)")
        if k is not None:
            values = cls.fit_params_to_k(values, int(k), set(overrides or {}))
            cls.check_settings(int(k), values)
        return values

    @classmethod
    def fit_params_to_k(cls, values: dict[str, Any], k: int, chosen: set[str]) -> dict[str, Any]:
        """`values` with the defaults that depend on k adapted to it (`chosen`: names the user set, kept as
        they are; check_settings refuses them if they cannot fit k). Nothing depends on k by default."""
        return values

    @classmethod
    def params_for_k(cls, k: int) -> tuple[Param, ...]:
        """The declared parameters with their defaults fitted to k (what a page's controls start from)."""
        fitted = cls.fit_params_to_k({p.name: p.default for p in cls.declared_params()}, int(k), set())
        return tuple(replace(p, default=fitted[p.name]) for p in cls.declared_params())

    @classmethod
    def warnings(cls, k: int, input_size: int, params: dict[str, Any]) -> list[str]:
        """Things worth telling the user before training (e.g. a setup that can learn the identity)."""
        return []

    # ---- construction -------------------------------------------------------------
    def __init__(self, input_shape: tuple[int, int, int], k: int, params: dict[str, Any] | None = None):
        super().__init__()
        self.input_shape = tuple(int(s) for s in input_shape)
        self.input_size = self.input_shape[0] * self.input_shape[1] * self.input_shape[2]
        self.check_k(int(k), self.input_size)
        self.k = int(k)
        self.params = self.parse_params(params, self.k)
        self.encoder, self.decoder = self.build()
        if self.centers_code_units:
            self.register_buffer("code_units_centered", torch.tensor(False))

    def build(self) -> tuple[nn.Module, nn.Module]:
        """Default: an MLP encoder to `k` code units and a mirrored MLP decoder (pre-activation output)."""
        hidden = list(self.params["hidden"])
        act = self.params["activation"]
        code_act = self.params.get("code_activation", self.code_activation)
        flatten = FlattenCentered(self.input_size) if self.centers_input else Flatten()
        encoder = nn.Sequential(flatten, mlp([self.input_size, *hidden, self.k], act, code_act))
        decoder = nn.Sequential(mlp([self.k, *reversed(hidden), self.input_size], act), Unflatten(self.input_shape))
        return encoder, decoder

    # ---- the model ----------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code (B, k) of images x (B, C, H, W); deterministic (a VAE returns its mean)."""
        return self.encoder(x)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def output_activation(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits) if self.params.get("output", "sigmoid") == "sigmoid" else logits

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) decoded from codes (B, k)."""
        return self.output_activation(self.decode_logits(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction of x, as the model would output it at test time."""
        return self.decode(self.encode(x))

    def hidden_activations(self, x: torch.Tensor) -> torch.Tensor:
        """The activations a sparsity penalty acts on (the code units by default)."""
        return self.encode(x)

    def loss_parts(self, x: torch.Tensor) -> LossParts:
        """Named terms of the training loss on a batch; their sum is minimised."""
        logits = self.decode_logits(self.encode(x))
        return LossParts(reconstruction=self.reconstruction_term(logits, x))

    def reconstruction_term(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return reconstruction_loss(logits, target, self.params.get("loss", "mse"), self.params.get("output", "sigmoid"))

    def reconstruction_error_sums(self, x: torch.Tensor, reconstruction: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(sum of squared errors, entries counted) of `reconstruction` = self(x) against x; the trainer's
        test MSE is their ratio. A model whose targets are partly unobserved (AutoRec) counts only those observed."""
        return ((reconstruction - x) ** 2).sum(), x.numel()

    def training_stages(self) -> list[Stage]:
        """Phases of training; one by default (stacked autoencoders pre-train layer by layer)."""
        return [Stage("train", self.loss_parts, list(self.parameters()), 1.0)]

    @torch.no_grad()
    def center_code_units(self, x: torch.Tensor) -> None:
        """Shift the code layer's biases so each unit's pre-activation has median 0 over the images x.

        Images are all non-negative, so a randomly initialised layer gives most units the same sign
        for every image: with ReLU about half the code units start off for all of them, dead before
        training begins. Centred, every unit starts active on half the images (a data-dependent
        initialisation; sparse variants call it once, on their first training batch).
        """
        layer = last_linear(self.encoder.modules())
        if layer is None or layer.bias is None:
            return
        captured: list[torch.Tensor] = []
        handle = layer.register_forward_hook(lambda module, inputs, output: captured.append(output))
        try:
            self.encoder(x)
        finally:
            handle.remove()
        layer.bias -= captured[0].median(dim=0).values

    def center_code_units_once(self, x: torch.Tensor) -> None:
        """center_code_units on the first training batch; remembered in the weights (buffer)."""
        if self.centers_code_units and self.training and not bool(self.code_units_centered):
            self.center_code_units(x)
            self.code_units_centered.fill_(True)

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict[str, Any]:
        """Variant-specific figures reported at the end of training (JSON-able)."""
        return {}

    def feature_images(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Encoder weights of the first layer and decoder weights of the last, each (units, C, H, W).

        Only meaningful when those layers are linear maps from / to the image.
        """
        first = first_linear(self.encoder.modules())
        last = last_linear(self.decoder.modules())
        if first is None or last is None or first.in_features != self.input_size or last.out_features != self.input_size:
            return None
        enc = first.weight.detach().reshape(first.out_features, *self.input_shape)
        dec = last.weight.detach().t().reshape(last.in_features, *self.input_shape)
        return enc, dec


def code_sparsity(codes: torch.Tensor) -> dict[str, Any]:
    """How sparse codes (N, k) are, by the one rule of aeviz.facts (the Sparsity page's default): the
    mean fraction of units active per image, the mean number of active units per image, and how many
    units are dormant (active on no image)."""

    return by_the_rule(codes)
