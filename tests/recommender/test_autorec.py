"""MovieLens reading, rating baselines, I-AutoRec's masked loss and training, the autorec CLI and
the recommender page, on a tiny synthetic ml-100k folder (real data only where marked)."""

from __future__ import annotations

import gc
import json
import math
import weakref
from pathlib import Path

import numpy as np
import pytest
import torch

from aeviz.recommender import autorec

from aeviz.recommender import movielens
from aeviz.errors import DatasetUnavailable
from tests.conftest import ROOT, real_data_dir

N_USERS, N_ITEMS = 24, 16


def write_tiny_movielens(root: Path, seed: int = 0) -> Path:
    """A ml-100k folder of N_USERS x N_ITEMS with two taste groups, split 80/20 like u1."""
    rng = np.random.default_rng(seed)
    folder = root / "ml-100k"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for user in range(N_USERS):
        for item in range(N_ITEMS):
            if rng.random() < 0.6 or item == 0:
                likes = (user % 2) == (item % 2)
                rating = int(np.clip(round((4.5 if likes else 2.0) + rng.normal(0, 0.5)), 1, 5))
                rows.append((user + 1, item + 1, rating, 880000000 + len(rows)))
    rows = [rows[i] for i in rng.permutation(len(rows))]
    cut = int(0.8 * len(rows))
    write = lambda name, part: (folder / name).write_text(  # noqa: E731
        "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in part))
    write("u.data", rows)
    write("u1.base", rows[:cut])
    write("u1.test", rows[cut:])
    lines = []
    for item in range(N_ITEMS):
        title = "Café Society (1996)" if item == 3 else f"Movie {item + 1} (1995)"
        flags = ["0"] * 19
        flags[1 + item % 3] = "1"
        lines.append("|".join([str(item + 1), title, "01-Jan-1995", "", "http://example"] + flags))
    (folder / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return root


@pytest.fixture
def tiny_root(tmp_path, monkeypatch):
    root = write_tiny_movielens(tmp_path / "data")
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(root))
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    movielens.clear_cache()
    yield root
    movielens.clear_cache()


# ---------------------------------------------------------------------------- reading

def test_reads_folder_with_latin1_titles_and_zero_based_ids(tiny_root):
    data = movielens.load_movielens()
    assert (data.n_users, data.n_items) == (N_USERS, N_ITEMS)
    assert data.titles[3] == "Café Society (1996)"
    assert data.train.users.min() == 0 and data.train.items.max() <= N_ITEMS - 1
    assert len(data.train) + len(data.test) == len((tiny_root / "ml-100k" / "u.data").read_text().splitlines())
    assert data.first_genre()[4] == 1 + 4 % 3
    first = (tiny_root / "ml-100k" / "u1.base").read_text().split("\n")[0].split("\t")
    assert data.train.matrix(N_ITEMS, N_USERS)[int(first[1]) - 1, int(first[0]) - 1] == float(first[2])


def test_ratings_are_read_once_and_a_folder_found_anew_replaces_them(tiny_root, tmp_path, monkeypatch):
    data = movielens.load_movielens()
    assert movielens.load_movielens() is data  # read once
    first = weakref.ref(data)
    del data
    other = write_tiny_movielens(tmp_path / "other", seed=1)
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(other))  # the teacher points the server elsewhere
    assert str(other) in movielens.load_movielens().source
    gc.collect()
    assert first() is None and len(movielens.READ) == 1  # one folder's ratings in memory, not one per folder


def test_missing_offline_names_what_was_tried_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_OFFLINE", "1")
    movielens.clear_cache()
    with pytest.raises(DatasetUnavailable) as info:
        movielens.load_movielens()
    message = str(info.value)
    assert "ml-100k" in message and "AEVIZ_DATA_DIR" in message and "offline" in message
    assert "u1.base" in message


# ---------------------------------------------------------------------------- baselines

def test_baselines_match_hand_computation():
    # 2 users x 3 items; user 0 rated items 0, 1; user 1 rated items 0, 2.
    train = movielens.Ratings(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 2]), np.array([4, 2, 5, 3], np.float32))
    test = movielens.Ratings(np.array([0, 1]), np.array([2, 1]), np.array([3, 1], np.float32))
    p = movielens.baseline_predictions(train, test, 2, 3, item_damping=1.0, user_damping=2.0, sweeps=1)
    mu = 14 / 4
    assert np.allclose(p["global_mean"], [mu, mu])
    assert np.allclose(p["item_mean"], [3.0, 2.0])          # item 2: (3); item 1: (2)
    assert np.allclose(p["user_mean"], [3.0, 4.0])          # user 0: (4+2)/2; user 1: (5+3)/2
    # one sweep from zero: b_u = sum(r - mu) / (n_u + 2); then b_i = sum(r - mu - b_u) / (n_i + 1)
    b_u = np.array([(4 - mu + 2 - mu) / 4, (5 - mu + 3 - mu) / 4])
    b_i1 = (2 - mu - b_u[0]) / 2
    b_i2 = (3 - mu - b_u[1]) / 2
    assert np.allclose(p["user_item_biases"], [mu + b_u[0] + b_i2, mu + b_u[1] + b_i1])
    assert movielens.rmse(np.array([1.0, 3.0]), np.array([2.0, 1.0])) == pytest.approx(math.sqrt(2.5))


def test_bias_sweeps_converge_to_the_ridge_regression_solution():
    # Alternating sweeps minimise sum (r - mu - b_u - b_i)^2 + 10 sum b_u^2 + 25 sum b_i^2; solve that
    # ridge problem directly (least squares on an augmented design matrix) and compare.
    rng = np.random.default_rng(1)
    n_users, n_items, n = 10, 8, 300
    train = movielens.Ratings(rng.integers(0, n_users, n), rng.integers(0, n_items, n),
                              rng.integers(1, 6, n).astype(np.float32))
    grid = movielens.Ratings(np.repeat(np.arange(n_users), n_items), np.tile(np.arange(n_items), n_users),
                             np.ones(n_users * n_items, np.float32))
    p = movielens.baseline_predictions(train, grid, n_users, n_items, 25.0, 10.0, sweeps=300)
    mu = train.ratings.mean()
    design = np.zeros((n, n_users + n_items))
    design[np.arange(n), train.users] = 1
    design[np.arange(n), n_users + train.items] = 1
    ridge = np.diag(np.sqrt(np.r_[np.full(n_users, 10.0), np.full(n_items, 25.0)]))
    solution = np.linalg.lstsq(np.vstack([design, ridge]), np.r_[train.ratings - mu, np.zeros(n_users + n_items)],
                               rcond=None)[0]
    expected = mu + solution[:n_users][:, None] + solution[n_users:][None, :]
    assert np.allclose(p["user_item_biases"].reshape(n_users, n_items), expected, atol=1e-5)


@pytest.mark.skipif(real_data_dir() is None or not (real_data_dir() / "ml-100k").is_dir(),
                    reason="ml-100k is not under AEVIZ_DATA_DIR")
def test_real_baselines_on_u1(monkeypatch):
    monkeypatch.setenv("AEVIZ_DATA_DIR", str(real_data_dir()))
    movielens.clear_cache()
    rmses = movielens.baseline_rmses(movielens.load_movielens(download_missing=False))
    assert rmses["global_mean"] == pytest.approx(1.154, abs=5e-4)
    assert rmses["item_mean"] == pytest.approx(1.033, abs=5e-4)
    assert rmses["user_mean"] == pytest.approx(1.063, abs=5e-4)
    assert rmses["user_item_biases"] == pytest.approx(0.969, abs=5e-4)


# ---------------------------------------------------------------------------- the masked loss

def test_masked_mse_ignores_unobserved_entries_in_value_and_gradient():
    torch.manual_seed(0)
    prediction = torch.randn(5, 7, requires_grad=True)
    target = torch.randint(1, 6, (5, 7)).float()
    mask = torch.rand(5, 7) < 0.4
    loss = autorec.masked_mse(prediction, target, mask)
    loss.backward()
    grad = prediction.grad.clone()
    expected = ((prediction.detach() - target)[mask] ** 2).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)

    # perturb both the prediction and the target where nothing was observed
    perturbed = (prediction.detach() + 100 * (~mask) * torch.randn(5, 7)).requires_grad_(True)
    loss2 = autorec.masked_mse(perturbed, target + 3 * (~mask), mask)
    loss2.backward()
    assert loss2.item() == pytest.approx(loss.item(), rel=1e-6)
    assert torch.allclose(perturbed.grad, grad)
    assert torch.all(grad[~mask] == 0)
    # and the gradient where observed is the analytic 2 (p - r) / n_observed
    assert torch.allclose(grad[mask], 2 * (prediction.detach() - target)[mask] / mask.sum())


def test_autorec_loss_gives_no_gradient_to_outputs_of_users_without_ratings_in_the_batch():
    model = autorec.IAutoRec((2, 1, 6), 4, {"l2": 0.0})
    ratings = torch.zeros(3, 6)
    ratings[0, 0], ratings[1, 2], ratings[2, 0] = 5, 3, 1   # users 1, 3, 4, 5 rated nothing here
    x = torch.stack([ratings, ratings], 1).unsqueeze(2)
    parts = model.loss_parts(x)
    parts.total().backward()
    decoder_grad = model.decoder.weight.grad
    unobserved_users = [1, 3, 4, 5]
    assert torch.all(decoder_grad[unobserved_users] == 0)
    assert torch.all(model.decoder.bias.grad[unobserved_users] == 0)
    assert decoder_grad[[0, 2]].abs().sum() > 0
    with torch.no_grad():
        prediction = model.decoder(model.encoder(ratings))
    mask = ratings > 0
    assert parts["reconstruction"].item() == pytest.approx(((prediction - ratings)[mask] ** 2).mean().item(), rel=1e-5)


def test_weight_penalty_is_half_lambda_times_squared_weights():
    model = autorec.IAutoRec((2, 1, 5), 3, {"l2": 0.3})
    x = torch.zeros(2, 2, 1, 5)
    x[:, :, 0, 1] = 4
    expected = 0.15 * (model.encoder[0].weight.pow(2).sum() + model.decoder.weight.pow(2).sum())
    assert model.loss_parts(x)["weight_penalty"].item() == pytest.approx(expected.item(), rel=1e-6)


# ---------------------------------------------------------------------------- training and using

def test_training_with_the_trainer_beats_the_global_mean_and_metrics_agree(tiny_root):
    from aeviz.training.events import Finished, Progress
    from aeviz.variants import VARIANTS

    assert "autorec" not in VARIANTS  # not offered among the image variants
    data = movielens.load_movielens()
    trainer = autorec.make_trainer(data, autorec.autorec_config(k=16, epochs=150, batch_size=8, lr=1e-2, l2=1e-4))
    events = list(trainer.run())
    assert any(isinstance(e, Progress) for e in events) and isinstance(events[-1], Finished)
    result = trainer.finished.result
    report = autorec.evaluation_report(result.model, data)
    # the trainer's metric (torch, masked) equals an independent numpy computation on u1.test
    assert result.metrics["test_rmse"] == pytest.approx(report["test_rmse"], rel=1e-5)
    assert result.metrics["pca_test_mse"] is None
    assert report["test_rmse"] < report["baselines"]["global_mean"]


def test_stop_ends_training_early(tiny_root):
    data = movielens.load_movielens()
    trainer = autorec.make_trainer(data, autorec.autorec_config(k=8, epochs=1000, batch_size=4))
    for event in trainer.run():
        if type(event).__name__ == "Progress" or trainer.step > 3:
            trainer.stop()
    assert trainer.finished.status == "stopped"
    assert trainer.step < trainer.total_steps


def test_recommendations_and_similar_movies_against_brute_force(tiny_root):
    data = movielens.load_movielens()
    rng = np.random.default_rng(0)
    predictions = rng.uniform(1, 5, (data.n_items, data.n_users))
    user = 5
    recs = autorec.recommendations(predictions, data, user, n=4, min_ratings=1)
    rated = set(data.train.items[data.train.users == user].tolist())
    counts = np.bincount(data.train.items, minlength=data.n_items)
    pool = [i for i in range(data.n_items) if i not in rated and counts[i] >= 1]
    assert [r["item"] for r in recs] == sorted(pool, key=lambda i: -predictions[i, user])[:4]

    codes = rng.normal(size=(data.n_items, 6))
    near = autorec.similar_movies(codes, data, 2, n=3, min_ratings=1)
    centred = codes - codes.mean(0)
    cosine = [float(centred[i] @ centred[2] / np.linalg.norm(centred[i]) / np.linalg.norm(centred[2]))
              for i in range(data.n_items)]
    expected = sorted([i for i in range(data.n_items) if i != 2 and counts[i] >= 1], key=lambda i: -cosine[i])[:3]
    assert [m["item"] for m in near] == expected
    assert near[0]["similarity"] == pytest.approx(cosine[expected[0]])


def test_cli_prints_test_rmse_and_each_baseline(tiny_root, tmp_path, monkeypatch, capsys):
    from aeviz.cli import main

    assert main(["autorec", "--json", "--epochs", "3", "--k", "8", "--batch-size", "8"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out.strip().splitlines()[-1])
    for key in ("test_rmse", "global_mean", "item_mean", "user_mean", "user_item_biases"):
        assert isinstance(report[key], float)
    assert report["baselines"]["global_mean"] == report["global_mean"]
    assert "autorec ml-100k" in captured.err  # progress on stderr

    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "nothing"))
    movielens.clear_cache()
    assert main(["autorec", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "ml-100k" in captured.err


# ---------------------------------------------------------------------------- the page

def test_recommender_page_trains_and_shows_recommendations(tiny_root):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "recommender.py"), default_timeout=60)
    at.run()
    assert not at.exception and not at.error
    at.slider[0].set_value(5)                 # epochs
    at.select_slider[0].set_value(50)         # k
    at.button[0].click()                      # the form's submit button
    at.run()
    live = at.session_state["recommender_trainer"]
    live.wait(60)
    at.run()
    at.run()
    assert not at.exception and not at.error
    assert any("I-AutoRec test RMSE" in m.label for m in at.metric)
    assert len(at.dataframe) >= 3              # rated, recommended, similar movies
    assert "What the loss counts" in [h.value for h in at.header]  # the masked loss, drawn
    at.slider[1].set_value(1).run()            # recommend any movie with a training rating (tiny data)
    assert not at.exception and not at.error
    titles = set(at.dataframe[1].value["title"])
    rated = set(at.dataframe[0].value["title"])
    assert titles and not titles & rated


def test_a_reload_of_the_recommender_page_finds_its_training(tiny_root):
    """A reload is a new Streamlit session with the same ?session= id: it finds the trained model, while
    another browser session does not."""
    from streamlit.testing.v1 import AppTest

    from aeviz.jobs import sessions

    minted = {"reloaded": sessions.mint(), "someone-else": sessions.mint()}  # ids the server issued

    def page(session: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app_pages" / "recommender.py"), default_timeout=60)
        at.query_params["session"] = minted[session]
        return at

    at = page("reloaded").run()
    at.slider[0].set_value(3)
    at.select_slider[0].set_value(50)
    at.button[0].click().run()
    at.session_state["recommender_trainer"].wait(60)

    reloaded = page("reloaded").run()
    reloaded.run()  # the first run saw the finished trainer; the page reruns once to show its results
    assert not reloaded.exception and not reloaded.error
    assert any("I-AutoRec test RMSE" in m.label for m in reloaded.metric)
    other = page("someone-else").run()
    assert not other.exception
    assert not any("I-AutoRec test RMSE" in m.label for m in other.metric)


def test_recommender_page_without_data_shows_an_error(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("AEVIZ_DATA_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("AEVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AEVIZ_OFFLINE", "1")
    movielens.clear_cache()
    at = AppTest.from_file(str(ROOT / "app_pages" / "recommender.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert at.error and "ml-100k" in at.error[0].value


def test_masked_loss_slice_counts_only_the_rated_entries(tiny_root):
    from aeviz.figures.recommender import masked_loss_figure

    data = movielens.load_movielens()
    predictions = np.random.default_rng(1).uniform(1, 5, (data.n_items, data.n_users))
    corner = autorec.masked_loss_slice(predictions, data, n_items=4, n_users=5)
    counts = np.bincount(data.train.items, minlength=data.n_items)
    items = np.argsort(-counts, kind="stable")[:4]
    assert corner["titles"] == [data.titles[i] for i in items]
    seen = data.train.matrix(data.n_items, data.n_users)
    users = np.array(corner["users"]) - 1
    rated = seen[np.ix_(items, users)] > 0
    assert rated.any() and (~rated).any()           # the picture shows ratings and blanks
    assert np.array_equal(np.isfinite(corner["ratings"]), rated)
    assert np.array_equal(np.isfinite(corner["squared_error"]), rated)
    # the panel's sum over rated entries is the masked loss of those entries, computed by autorec.masked_mse
    prediction = torch.as_tensor(predictions[np.ix_(items, users)])
    target = torch.as_tensor(seen[np.ix_(items, users)], dtype=torch.float64)
    expected = float(autorec.masked_mse(prediction, target, target > 0))
    assert np.nanmean(corner["squared_error"]) == pytest.approx(expected)
    fig = masked_loss_figure(corner)
    assert len(fig.data) == 3 and np.array_equal(np.isnan(np.asarray(fig.data[1].z, dtype=float)), ~rated)
    assert np.array_equal(np.isnan(np.asarray(fig.data[2].z, dtype=float)), rated)  # fill-ins at the blanks only
