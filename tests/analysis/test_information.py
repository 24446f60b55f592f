"""aeviz.analysis.information against scipy on random distributions, edges p = 0 and p = 1 included."""

import math

import numpy as np
import pytest
import torch
from scipy.special import rel_entr
from scipy.stats import entropy as scipy_entropy

from aeviz.analysis import information
from aeviz.errors import AevizError, InvalidConfig


def random_distributions(rng, n=6, zeros=True):
    """Rows of random distributions over 2..8 outcomes, some with exact zeros and one-hot rows."""
    rows = []
    for _ in range(n):
        size = rng.integers(2, 9)
        p = rng.random(size)
        if zeros:
            p[rng.random(size) < 0.3] = 0.0
            if p.sum() == 0:
                p[0] = 1.0
        rows.append(p / p.sum())
    rows.append(np.eye(4)[1])  # p = 1 on one outcome, 0 elsewhere
    return rows


def test_surprise_matches_minus_log():
    p = np.array([1.0, 0.5, 0.25, 1e-9])
    assert np.allclose(information.surprise(p), -np.log(p))
    assert information.surprise(0.0) == math.inf
    assert information.surprise(1.0) == 0.0


def test_entropy_cross_entropy_kl_match_scipy():
    rng = np.random.default_rng(0)
    for p in random_distributions(rng, 20):
        q = rng.random(len(p)) + 0.01
        q = q / q.sum()
        h = information.entropy(p)
        assert h == pytest.approx(scipy_entropy(p), abs=1e-12)
        kl = information.kl_divergence(p, q)
        assert kl == pytest.approx(rel_entr(p, q).sum(), abs=1e-12)
        assert kl == pytest.approx(scipy_entropy(p, q), abs=1e-12)
        ce = information.cross_entropy(p, q)
        assert ce == pytest.approx(scipy_entropy(p) + rel_entr(p, q).sum(), abs=1e-12)
        # The identity the information page shows adding up.
        assert ce == pytest.approx(h + kl, abs=1e-12)
        assert kl >= 0


def test_kl_edges_zero_where_p_zero_infinite_where_q_zero():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.5, 0.0, 0.5])
    assert information.kl_divergence(p, q) == math.inf == rel_entr(p, q).sum()
    assert information.cross_entropy(p, q) == math.inf
    # q = 0 where p = 0 costs nothing.
    q2 = np.array([0.25, 0.75, 0.0])
    assert information.kl_divergence(p, q2) == pytest.approx(rel_entr(p, q2).sum())
    assert information.kl_divergence(p, p) == 0.0


def test_one_hot_cross_entropy_is_negative_log_likelihood():
    q = np.array([0.1, 0.7, 0.2])
    assert information.cross_entropy(np.eye(3)[1], q) == pytest.approx(-math.log(0.7))
    assert information.entropy(np.eye(3)[1]) == 0.0


def test_batched_along_axis():
    rng = np.random.default_rng(1)
    p = information.normalize(rng.random((5, 4)))
    q = information.normalize(rng.random((5, 4)))
    assert np.allclose(information.entropy(p), scipy_entropy(p, axis=1))
    assert np.allclose(information.kl_divergence(p, q), rel_entr(p, q).sum(axis=1))


def test_bernoulli_entropy_and_kl_against_scipy_including_edges():
    rng = np.random.default_rng(2)
    ps = np.concatenate([[0.0, 1.0, 0.5], rng.random(30)])
    expected_h = np.array([scipy_entropy([p, 1 - p]) for p in ps])
    assert np.allclose(information.bernoulli_entropy(ps), expected_h, atol=1e-12)
    assert information.bernoulli_entropy(0.5) == pytest.approx(math.log(2))
    for rho in [0.0, 0.05, 0.5, 1.0]:
        rho_hats = np.concatenate([[0.0, 1.0, rho], rng.random(20)])
        expected = rel_entr(rho, rho_hats) + rel_entr(1 - rho, 1 - rho_hats)
        got = information.bernoulli_kl(rho, rho_hats)
        assert np.array_equal(np.isinf(got), np.isinf(expected))
        finite = np.isfinite(expected)
        assert np.allclose(got[finite], expected[finite], atol=1e-12)
        assert information.bernoulli_kl(rho, rho) == pytest.approx(0.0, abs=1e-15)
        # BCE = H + KL, the Bernoulli form of the same identity.
        ce = information.bernoulli_cross_entropy(rho, rho_hats[finite])
        assert np.allclose(ce, information.bernoulli_entropy(rho) + got[finite])


def test_bad_inputs_are_refused():
    with pytest.raises(InvalidConfig):
        information.entropy([0.5, 0.6])
    with pytest.raises(InvalidConfig):
        information.surprise(-0.1)
    with pytest.raises(InvalidConfig):
        information.normalize([0.0, 0.0])
    with pytest.raises(AevizError):
        information.unit_kl(0.05, [0.2, 1.5])


class SigmoidPixels(torch.nn.Module):
    """A hand-built 'model' whose reconstruction is sigmoid(fixed logits) for every image."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.nn.Parameter(logits)
        self.params = {"output": "sigmoid"}

    def encode(self, x):
        return x.reshape(len(x), -1)[:, :1]

    def decode_logits(self, z):
        return self.logits.expand(len(z), *self.logits.shape)

    def output_activation(self, logits):
        return torch.sigmoid(logits)


def test_pixel_bce_split_adds_up_and_matches_torch_bce():
    torch.manual_seed(0)
    images = torch.rand(10, 1, 3, 3)
    images[0, 0, 0, 0] = 0.0
    images[1, 0, 0, 1] = 1.0
    logits = torch.randn(1, 3, 3) * 3
    model = SigmoidPixels(logits)
    split = information.pixel_bce_split(model, images)
    r = torch.sigmoid(logits.double()).expand_as(images)
    expected_bce = torch.nn.functional.binary_cross_entropy(r, images.double(), reduction="none").mean(0)
    assert np.allclose(split.bce, expected_bce.numpy(), atol=1e-6)
    x = images.double().numpy()
    expected_h = np.vectorize(lambda v: scipy_entropy([v, 1 - v]))(x).mean(0)
    assert np.allclose(split.data_entropy, expected_h, atol=1e-9)
    assert np.allclose(split.bce, split.data_entropy + split.kl, atol=1e-9)
    assert (split.kl >= 0).all()
    # Against rel_entr: KL of Bernoulli(x) from Bernoulli(r), per pixel.
    rr = r.numpy()
    expected_kl = (rel_entr(x, rr) + rel_entr(1 - x, 1 - rr)).mean(0)
    assert np.allclose(split.kl, expected_kl, atol=1e-6)
    assert split.mean_bce == pytest.approx(expected_bce.mean().item(), abs=1e-6)


def test_unit_kl_and_gaussian_kl():
    means = np.array([0.0, 0.05, 0.3, 1.0])
    got = information.unit_kl(0.05, means)
    expected = rel_entr(0.05, means) + rel_entr(0.95, 1 - means)
    assert np.array_equal(np.isinf(got), np.isinf(expected))
    assert np.allclose(got[1:3], expected[1:3])
    rng = np.random.default_rng(3)
    mu, logvar = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    mu[:, 0], logvar[:, 0] = 0.0, 0.0  # an unused dimension: posterior = prior
    kl = information.gaussian_kl_per_dimension(mu, logvar)
    assert kl[0] == 0.0
    # Against torch.distributions' closed form.
    normal = torch.distributions.Normal(torch.tensor(mu), torch.exp(0.5 * torch.tensor(logvar)))
    reference = torch.distributions.kl_divergence(normal, torch.distributions.Normal(0.0, 1.0)).mean(0).numpy()
    assert np.allclose(kl, reference)


def test_vae_kl_needs_a_latent_distribution():
    model = SigmoidPixels(torch.zeros(1, 3, 3))
    with pytest.raises(AevizError, match="VAE"):
        information.vae_kl_per_dimension(model, torch.rand(4, 1, 3, 3))


def test_cross_entropy_figure_bars_add_up():
    from aeviz.figures import information as figs

    p, q = np.array([0.5, 0.3, 0.2, 0.0]), np.array([0.1, 0.2, 0.3, 0.4])
    fig = figs.cross_entropy_figure(p, q)
    stacked = {trace.name: trace.y[0] for trace in fig.data[2:]}
    assert stacked["H(P)"] + stacked["KL(P‖Q)"] == pytest.approx(stacked["H(P, Q)"])
    assert stacked["H(P, Q)"] == pytest.approx(scipy_entropy(p) + rel_entr(p, q).sum())
    for fig in (figs.surprise_curve(0.2), figs.bernoulli_entropy_curve(0.0), figs.bernoulli_kl_curve(0.05, 1.0),
                figs.categorical_entropy_bars([1.0, 0.0]), figs.vae_kl_bars(np.array([0.0, 1.2]))):
        assert fig.to_dict()["data"]


def test_information_figures_show_the_normalised_probabilities_and_the_kl_value():
    from aeviz.figures import information as figs

    # Weights 0.5, 0.3, 0.15, 0 (a slider at 0.50) make P(A) = 0.5 / 0.95 = 0.526: the bar says so.
    p = information.normalize([0.5, 0.3, 0.15, 0.0])
    fig = figs.cross_entropy_figure(p, information.normalize([1, 1, 1, 1]), ["A", "B", "C", "D"])
    assert list(fig.data[0].text) == ["0.526", "0.316", "0.158", "0.000"]
    kl = figs.bernoulli_kl_curve(0.05, 0.2)
    expected = 0.05 * np.log(0.05 / 0.2) + 0.95 * np.log(0.95 / 0.8)
    assert f"KL = {expected:.3f} nats" in kl.layout.title.text
    assert kl.data[1].mode == "markers"  # no text on the curve
    assert "KL = ∞" in figs.bernoulli_kl_curve(0.05, 1.0).layout.title.text
