"""Every autoencoder variant trains, and each loss term matches an independent computation."""

import math

import numpy as np
import pytest
import torch
from scipy.special import rel_entr

from aeviz.training.config import TrainConfig
from aeviz.errors import InvalidConfig
from aeviz.data.noise import corrupt
from aeviz.training.trainer import Trainer
from aeviz.variants import VARIANTS, build_model, get_variant

# The slugs of the CLI contract, in menu order; a variant added later joins the registry (and every test
# parametrised from it) without being listed here.
SLUGS = ("plain", "linear", "sparse_l1", "sparse_kl", "ksparse", "overcomplete", "denoising", "contractive",
         "vae", "stacked", "conv")
DIGITS_SHAPE = (1, 8, 8)
# float() of a loss that still carries its graph is what these tests mean to do.
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


def batch(n=32, seed=0):
    return torch.rand((n, *DIGITS_SHAPE), generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------- the registry
def test_registry_has_every_slug_with_declared_params():
    assert tuple(slug for slug in VARIANTS if slug in SLUGS) == SLUGS
    for slug, cls in VARIANTS.items():
        assert cls.slug == slug and cls.title and cls.summary
        for param in cls.declared_params():
            assert param.help, (slug, param.name)
            assert param.parse(param.default) is not None or param.kind == "widths"
            if param.log_scale:  # a positive log axis, from low or, where 0 ("off") is allowed, log_low
                assert 0 < param.log_axis()[0] < param.log_axis()[1], (slug, param.name)
        low, high = cls.k_range(64)
        assert low <= cls.training_defaults()["batch_size"] and low == 1 and high >= 8


def test_cli_lists_every_variant(capsys):
    import json

    from aeviz.cli import main

    assert main(["variants", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [v["slug"] for v in listed] == list(VARIANTS) and set(SLUGS) <= set(VARIANTS)
    assert all(v["summary"] and v["params"] is not None for v in listed)


# --------------------------------------------------------------------- training
TRAIN_SETTINGS = {
    "plain": dict(k=8),
    "linear": dict(k=8),
    "sparse_l1": dict(k=16),
    "sparse_kl": dict(k=16),
    "ksparse": dict(k=16, params={"active_units": 4}),
    "overcomplete": dict(k=128),
    "denoising": dict(k=8),
    "contractive": dict(k=16),
    "vae": dict(k=4),
    "stacked": dict(k=8, params={"hidden": (64, 32)}),
    "conv": dict(k=8, params={"channels": (8, 16)}),
}


def train_settings(slug: str) -> dict:
    """TRAIN_SETTINGS, or for a variant added later its default k (within what it allows on 8x8 digits)."""
    low, high = get_variant(slug).k_range(64)
    return TRAIN_SETTINGS.get(slug, dict(k=min(max(get_variant(slug).default_k, low), high)))


@pytest.mark.parametrize("slug", list(VARIANTS))
def test_variant_trains_on_digits_and_lowers_its_test_error(slug, digits):
    settings = train_settings(slug)
    defaults = get_variant(slug).training_defaults()
    config = TrainConfig(dataset="digits", variant=slug, k=settings["k"], epochs=8, batch_size=128,
                         lr=max(defaults["lr"], 2e-3), params=settings.get("params", {}), snapshot_seconds=60)
    torch.manual_seed(0)
    model = build_model(slug, DIGITS_SHAPE, settings["k"], settings.get("params"))

    def train_loss():
        torch.manual_seed(1)  # the same noise for the stochastic variants
        with torch.no_grad():
            return float(model.loss_parts(digits.train_images).total())

    before = train_loss()
    trainer = Trainer(config, digits, model=model)
    list(trainer.run())
    result = trainer.finished.result
    assert trainer.finished.status == "completed"
    first, last = result.test_history[0]["test_mse"], result.metrics["test_mse"]
    assert last < 0.8 * first, (slug, first, last)
    assert train_loss() < before
    names = set(model.loss_parts(batch()))
    assert "reconstruction" in names and names == set(result.history[-1]) - {"step", "epoch", "elapsed", "loss"}


# --------------------------------------------------------------------- sparse
def test_l1_term_is_lambda_times_summed_absolute_code():
    model = build_model("sparse_l1", DIGITS_SHAPE, 12, {"l1_weight": 0.01})
    x = batch()
    model.center_code_units_once(x)  # what the first training step does
    codes = model.encode(x).detach().numpy()
    assert (codes >= 0).all()  # ReLU code
    parts = model.loss_parts(x)
    assert float(parts["l1"]) == pytest.approx(0.01 * np.abs(codes).sum(axis=1).mean(), rel=1e-5)
    features = model.feature_images()
    assert features[0].shape == (12, *DIGITS_SHAPE) and features[1].shape == (12, *DIGITS_SHAPE)


def test_relu_code_units_start_active_on_half_the_images(digits):
    model = build_model("sparse_l1", DIGITS_SHAPE, 40)
    x = digits.train_images[:200]
    dead_before = int((model.encode(x) == 0).all(dim=0).sum())
    model.loss_parts(x)  # the first training batch centres the code units ...
    active = (model.encode(x) > 0).float().mean(dim=0).detach().numpy()
    np.testing.assert_allclose(active, 0.5, atol=0.01)
    assert dead_before > 5  # (without it, many units never fire on these non-negative images)
    bias = model.encoder[1][0].bias.detach().clone()
    model.loss_parts(digits.train_images[200:400])  # ... once: later batches leave the biases alone
    assert torch.equal(bias, model.encoder[1][0].bias) and bool(model.state_dict()["code_units_centered"])
    fresh = build_model("sparse_l1", DIGITS_SHAPE, 40)
    fresh.load_state_dict(model.state_dict())
    assert bool(fresh.code_units_centered)


def test_bernoulli_kl_matches_scipy_rel_entr():
    from aeviz.analysis.information import bernoulli_kl

    rho, rho_hat = 0.05, np.array([0.01, 0.05, 0.2, 0.5, 0.93])
    expected = rel_entr(rho, rho_hat) + rel_entr(1 - rho, 1 - rho_hat)
    got = bernoulli_kl(rho, torch.tensor(rho_hat, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert got[1] == pytest.approx(0.0, abs=1e-12)


def test_sparse_kl_penalty_uses_the_batch_mean_activation():
    model = build_model("sparse_kl", DIGITS_SHAPE, 10, {"sparsity_target": 0.1, "sparsity_weight": 0.3})
    x = batch(64)
    codes = model.encode(x).detach().double().numpy()
    assert ((codes > 0) & (codes < 1)).all()  # sigmoid code
    rho_hat = codes.mean(axis=0)
    expected = 0.3 * (rel_entr(0.1, rho_hat) + rel_entr(0.9, 1 - rho_hat)).sum()
    assert float(model.loss_parts(x)["sparsity"]) == pytest.approx(expected, rel=1e-5)


def test_ksparse_keeps_exactly_the_top_units():
    model = build_model("ksparse", DIGITS_SHAPE, 20, {"active_units": 5})
    x = batch(50)
    model.center_code_units_once(x)
    pre = model.encoder(x).detach().numpy()
    codes = model.encode(x).detach().numpy()
    assert ((codes != 0).sum(axis=1) == 5).all()
    for row_pre, row in zip(pre, codes):
        top = np.argsort(row_pre)[-5:]
        assert set(np.nonzero(row)[0]) == set(top)
        np.testing.assert_allclose(row[top], row_pre[top])
    # Only the kept units get gradient.
    model.loss_parts(x[:1]).total().backward()
    code_weight = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear)][-1].weight
    rows_with_grad = set(np.nonzero(code_weight.grad.abs().sum(dim=1).numpy())[0])
    assert rows_with_grad == set(np.nonzero(codes[0])[0])
    with pytest.raises(InvalidConfig, match="active_units"):
        build_model("ksparse", DIGITS_SHAPE, 4, {"active_units": 5})


def test_ksparse_warm_up_keeps_more_units_first():
    model = build_model("ksparse", DIGITS_SHAPE, 20, {"active_units": 4, "warmup_share": 0.2})
    stages = model.training_stages()
    assert [s.name for s in stages] == ["warm-up: 20 active", "warm-up: 16 active", "warm-up: 12 active",
                                        "warm-up: 8 active", "4 active"]
    assert sum(s.share for s in stages[:-1]) == pytest.approx(0.2)
    x = batch()
    model.center_code_units_once(x)
    torch.manual_seed(0)
    full = stages[0].loss_parts(x)["reconstruction"]
    expected = ((model.decode(model.encoder(x)) - x) ** 2).mean()  # all 20 units kept: no top-k at all
    assert float(full) == pytest.approx(float(expected), rel=1e-5)
    assert len(build_model("ksparse", DIGITS_SHAPE, 20, {"warmup_share": 0}).training_stages()) == 1


def test_overcomplete_allows_wide_codes_and_warns_about_the_identity():
    cls = get_variant("overcomplete")
    with pytest.raises(InvalidConfig):
        build_model("plain", DIGITS_SHAPE, 128)
    none = cls.parse_params({"regularizer": "none"})
    assert any("identity" in w for w in cls.warnings(128, 64, none))
    assert not any("identity" in w for w in cls.warnings(128, 64, cls.parse_params({})))
    assert not any("identity" in w for w in cls.warnings(128, 64, cls.parse_params({"regularizer": "noise"})))
    assert any("undercomplete" in w for w in cls.warnings(32, 64, cls.parse_params({})))
    x = batch()
    assert set(build_model("overcomplete", DIGITS_SHAPE, 128, {"regularizer": "l1"}).loss_parts(x)) == {
        "reconstruction", "l1"}
    noisy = build_model("overcomplete", DIGITS_SHAPE, 128, {"regularizer": "noise", "noise_level": 0.5})
    torch.manual_seed(3)
    got = float(noisy.loss_parts(x).total())
    torch.manual_seed(3)
    expected = float(((noisy(corrupt(x, "masking", 0.5)) - x) ** 2).mean())
    assert got == pytest.approx(expected, rel=1e-5)


# --------------------------------------------------------------------- denoising and noise
def test_denoising_loss_rebuilds_the_clean_image_from_the_corrupted_one():
    model = build_model("denoising", DIGITS_SHAPE, 8, {"noise": "gaussian", "noise_level": 0.2})
    x = batch()
    torch.manual_seed(7)
    got = float(model.loss_parts(x)["reconstruction"])
    torch.manual_seed(7)
    expected = float(((model(corrupt(x, "gaussian", 0.2)) - x) ** 2).mean())
    assert got == pytest.approx(expected, rel=1e-5)
    metrics = model.extra_metrics(x)
    noisy = corrupt(x, "gaussian", 0.2, torch.Generator().manual_seed(1234))
    assert metrics["noisy_input_mse"] == pytest.approx(float(((noisy - x) ** 2).mean()), rel=1e-5)
    assert metrics["noisy_test_mse"] == pytest.approx(float(((model(noisy) - x) ** 2).mean()), rel=1e-5)


def test_noise_statistics():
    ones = torch.ones(200_000)
    grey = torch.full((200_000,), 0.5)
    generator = torch.Generator().manual_seed(0)
    masked = corrupt(ones, "masking", 0.3, generator)
    assert float((masked == 0).float().mean()) == pytest.approx(0.3, abs=0.005)
    assert set(masked.unique().tolist()) == {0.0, 1.0}
    salted = corrupt(grey, "salt_and_pepper", 0.2, generator)
    assert float((salted != 0.5).float().mean()) == pytest.approx(0.2, abs=0.005)
    assert float((salted == 1).float().mean()) == pytest.approx(0.1, abs=0.005)
    assert float((salted == 0).float().mean()) == pytest.approx(0.1, abs=0.005)
    noisy = corrupt(grey, "gaussian", 0.1, generator)  # 5 sigma from the clipping bounds
    assert float((noisy - grey).std()) == pytest.approx(0.1, rel=0.02)
    assert float((noisy - grey).mean()) == pytest.approx(0.0, abs=0.002)
    wide = corrupt(grey, "gaussian", 1.0, generator)
    assert float(wide.min()) >= 0 and float(wide.max()) <= 1
    assert float((corrupt(grey, "gaussian", 1.0, generator, clip=False) - grey).std()) == pytest.approx(1, rel=0.02)
    images = batch()
    same = [corrupt(images, "masking", 0.5, torch.Generator().manual_seed(5)) for _ in range(2)]
    assert torch.equal(same[0], same[1]) and not torch.equal(same[0], images)
    assert torch.equal(images, batch())  # the input is left alone
    with pytest.raises(InvalidConfig):
        corrupt(images, "blur", 0.1)
    with pytest.raises(InvalidConfig):
        corrupt(images, "masking", 1.5)


# --------------------------------------------------------------------- contractive
def reference_jacobian_norm(encoder, x):
    values = []
    for image in x:
        jac = torch.autograd.functional.jacobian(lambda v: encoder(v.unsqueeze(0)).squeeze(0), image)
        values.append(float(jac.pow(2).sum()))
    return float(np.mean(values))


@pytest.mark.parametrize("params,closed_form", [({}, True), ({"hidden": (16,), "code_activation": "tanh"}, False)])
def test_contractive_penalty_matches_autograd_jacobian(params, closed_form):
    model = build_model("contractive", DIGITS_SHAPE, 10, {"contraction_weight": 0.5, **params})
    assert model.closed_form is closed_form
    x = batch(6)
    expected = reference_jacobian_norm(model.encoder, x)
    assert float(model.contraction_penalty(x)) == pytest.approx(expected, rel=1e-4)
    parts = model.loss_parts(x)
    assert float(parts["contraction"]) == pytest.approx(0.5 * expected, rel=1e-4)
    parts.total().backward()
    first = next(m for m in model.encoder.modules() if isinstance(m, torch.nn.Linear))
    assert torch.isfinite(first.weight.grad).all() and first.weight.grad.abs().sum() > 0


# --------------------------------------------------------------------- VAE
def test_vae_kl_closed_form_matches_monte_carlo():
    from aeviz.variants.vae import gaussian_kl

    mu = torch.tensor([0.0, 1.5, -0.7, 0.3], dtype=torch.float64)
    logvar = torch.tensor([0.0, -1.0, 0.8, -3.0], dtype=torch.float64)
    closed = gaussian_kl(mu, logvar)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64))
    torch.manual_seed(0)
    z = q.sample((400_000,))
    samples = q.log_prob(z) - p.log_prob(z)
    estimate, stderr = samples.mean(0), samples.std(0) / math.sqrt(len(z))
    assert (closed - estimate).abs().le(4 * stderr + 1e-9).all(), (closed, estimate, stderr)
    assert float(closed[0]) == 0.0


def test_vae_loss_terms_encode_and_sample():
    from aeviz.variants.vae import gaussian_kl

    model = build_model("vae", DIGITS_SHAPE, 3, {"beta": 4.0})
    x = batch()
    mu, logvar = model.encode_distribution(x)
    assert torch.equal(model.encode(x), mu) and torch.equal(model(x), model(x))  # deterministic at test time
    kl_per_image = gaussian_kl(mu, logvar).sum(1).mean()
    parts = model.loss_parts(x)
    assert set(parts) == {"reconstruction", "kl"}
    assert float(parts["kl"]) == pytest.approx(4.0 * float(kl_per_image) / 64, rel=1e-5)
    torch.manual_seed(0)
    first = float(model.loss_parts(x)["reconstruction"])
    torch.manual_seed(1)
    assert first != float(model.loss_parts(x)["reconstruction"])  # z is sampled
    samples = model.sample(5, torch.Generator().manual_seed(0))
    assert samples.shape == (5, *DIGITS_SHAPE) and float(samples.min()) >= 0 and float(samples.max()) <= 1
    metrics = model.extra_metrics(x)
    assert len(metrics["kl_per_dim"]) == 3
    assert metrics["kl"] == pytest.approx(float(kl_per_image), rel=1e-4)
    assert metrics["elbo"] == pytest.approx(-(metrics["reconstruction_nll"] + metrics["kl"]))
    assert metrics["reconstruction_nll"] > 0  # Bernoulli pixels: a positive number of nats


# --------------------------------------------------------------------- stacked and conv
def test_stacked_pretrains_each_layer_alone_then_fine_tunes(digits):
    config = TrainConfig(dataset="digits", variant="stacked", k=8, epochs=20, batch_size=128, lr=2e-3,
                         params={"hidden": (32, 16), "pretrain_share": 0.6}, snapshot_seconds=60)
    trainer = Trainer(config, digits)
    names = [stage.name for stage in trainer.stages]
    assert len(names) == 4 and names[-1] == "fine-tune"
    order = []
    for stage in trainer.stages:  # record which stage computes each step's loss
        stage.loss_parts = (lambda f, name: lambda x: order.append(name) or f(x))(stage.loss_parts, stage.name)
    list(trainer.run())
    assert [name for i, name in enumerate(order) if i == 0 or order[i - 1] != name] == names
    pretrain_steps = sum(name != "fine-tune" for name in order)
    assert pretrain_steps == pytest.approx(0.6 * len(order), abs=3)
    assert trainer.finished.result.metrics["test_mse"] < 0.8 * trainer.finished.result.test_history[0]["test_mse"]

    # Each pre-training loss reaches only its own layer and the decoder layer that inverts it.
    model, x = trainer.model, digits.train_images[:16]
    for stage in model.training_stages():
        model.zero_grad(set_to_none=True)
        stage.loss_parts(x).total().backward()
        with_grad = {id(p) for p in model.parameters() if p.grad is not None and p.grad.abs().sum() > 0}
        assert with_grad == {id(p) for p in stage.parameters}, stage.name


def test_conv_keeps_the_image_shape_at_8x8_and_28x28():
    for shape in [(1, 8, 8), (1, 28, 28)]:
        model = build_model("conv", shape, 6)
        x = torch.rand(3, *shape)
        assert model.encode(x).shape == (3, 6)
        assert model(x).shape == x.shape
    assert "hidden" not in {p.name for p in get_variant("conv").declared_params()}
