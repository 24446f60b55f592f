"""I-AutoRec (Sedhain, Menon, Sanner & Xie 2015, "AutoRec: Autoencoders Meet Collaborative
Filtering"): an autoencoder over the columns of the ratings matrix. Each movie is a vector of the
ratings every user gave it (0 where a user did not rate it); the network squeezes it through k
hidden units and rebuilds it, and the rebuilt entries a user never rated are the predictions.

    h(r) = W · sigmoid(V r + mu) + b            (the paper's eq. 2, identity output)
    loss = sum over OBSERVED (item, user) of (r - h(r))^2 / count  +  lambda/2 (||W||^2 + ||V||^2)

Only observed ratings count (the mask), so the model is never taught that "unrated" means zero.
Trained with the project's Trainer (same progress events, stop and resume) on a `Dataset` whose
"images" are ratings: shape (items, 2, 1, users), channel 0 the ratings the model sees (u1.base),
channel 1 the ratings it must predict (u1.base again when training, u1.test when testing).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from aeviz.training.config import TrainConfig
from aeviz.data.types import Dataset
from aeviz.errors import InvalidConfig
from aeviz.recommender.movielens import GENRES, MovieLens, baseline_rmses, load_movielens
from aeviz.variants.nets import activation
from aeviz.params import Param
from aeviz.variants.base import Autoencoder, LossParts
from aeviz.jobs.executors import placed_source
from aeviz.training.trainer import Trainer

SEEN, TARGET = 0, 1     # the two channels of a ratings "image"
MIN_RATING, MAX_RATING = 1.0, 5.0
DEFAULT_EPOCHS = 60.0


def masked_mse(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of (prediction - target)^2 over the entries where mask is true; entries outside the mask
    contribute nothing, to the value or to the gradient."""
    mask = mask.to(prediction.dtype)
    squared = torch.where(mask > 0, prediction - target, torch.zeros_like(prediction)) ** 2
    return squared.sum() / mask.sum().clamp(min=1.0)


def ratings_dataset(data: MovieLens) -> Dataset:
    """The ratings as a Dataset the Trainer can use: one 'image' (2, 1, users) per movie; labels are
    each movie's first genre."""
    seen = torch.from_numpy(data.train.matrix(data.n_items, data.n_users))
    held_out = torch.from_numpy(data.test.matrix(data.n_items, data.n_users))
    train = torch.stack([seen, seen], dim=1).unsqueeze(2)
    test = torch.stack([seen, held_out], dim=1).unsqueeze(2)
    labels = torch.from_numpy(data.first_genre())
    return Dataset("ml-100k", "MovieLens 100K (u1 split)", train, labels, test, labels.clone(), GENRES,
                   data.source)


class IAutoRec(Autoencoder):
    slug = "autorec"
    title = "I-AutoRec (ratings)"
    summary = ("Item-based AutoRec: each movie's column of ratings goes through k hidden units and back; "
               "the loss counts only observed ratings, and the rebuilt gaps are the predictions.")
    uses_common_params = False
    pca_baseline = False
    default_k = 500
    default_lr = 3e-3
    default_batch_size = 256
    extra_params = (
        Param("l2", "float", 2e-3, "Weight penalty lambda/2 (||W||^2 + ||V||^2) added to the masked MSE "
              "(the paper's regulariser; larger values overfit less).", low=0.0, high=10.0,
              log_scale=True, log_low=1e-4),
        Param("activation", "choice", "sigmoid", "Hidden activation (the paper uses sigmoid).",
              choices=("sigmoid", "relu", "elu", "tanh")),
    )

    @classmethod
    def k_range(cls, input_size: int) -> tuple[int, int]:
        return 1, 4096

    def build(self) -> tuple[nn.Module, nn.Module]:
        if self.input_shape[0] != 2:
            raise InvalidConfig("AutoRec trains on ratings datasets (movies x 2 x 1 x users), not images")
        self.n_users = self.input_shape[1] * self.input_shape[2]
        encoder = nn.Sequential(nn.Linear(self.n_users, self.k), activation(self.params["activation"]))
        decoder = nn.Linear(self.k, self.n_users)
        return encoder, decoder

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code (B, k) of movies from the ratings they received (channel 0)."""
        return self.encoder(x[:, SEEN].reshape(len(x), -1))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).reshape(len(z), 1, 1, self.n_users)

    def output_activation(self, logits: torch.Tensor) -> torch.Tensor:
        return logits  # ratings, not pixels: identity output as in the paper

    def loss_parts(self, x: torch.Tensor) -> LossParts:
        prediction = self.decode_logits(self.encode(x))[:, 0, 0]
        target = x[:, TARGET, 0]
        weights = self.encoder[0].weight.pow(2).sum() + self.decoder.weight.pow(2).sum()
        return LossParts(reconstruction=masked_mse(prediction, target, target > 0),
                         weight_penalty=0.5 * self.params["l2"] * weights)

    def reconstruction_error_sums(self, x: torch.Tensor, reconstruction: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Squared error over the observed target ratings only, predictions clipped to 1..5 stars."""
        target = x[:, TARGET, 0]
        mask = target > 0
        prediction = reconstruction[:, 0, 0].clamp(MIN_RATING, MAX_RATING)
        return ((prediction - target)[mask] ** 2).sum(), int(mask.sum())

    @torch.no_grad()
    def extra_metrics(self, test_images: torch.Tensor) -> dict[str, Any]:
        error, count = self.reconstruction_error_sums(test_images, self(test_images))
        return {"test_rmse": math.sqrt(float(error) / max(count, 1)), "test_ratings": count}


# ---------------------------------------------------------------------------- training

def autorec_config(k: int = IAutoRec.default_k, epochs: float | None = DEFAULT_EPOCHS,
                   max_seconds: float | None = None, lr: float = IAutoRec.default_lr,
                   batch_size: int = IAutoRec.default_batch_size, seed: int = 0, device: str = "auto",
                   **params: Any) -> TrainConfig:
    """A TrainConfig for I-AutoRec on ml-100k (cosine learning-rate decay; `params`: l2, activation).
    The defaults reach about 0.90 test RMSE on u1.test in 60 epochs."""
    return TrainConfig(dataset="ml-100k", variant="autorec", k=k, epochs=epochs, max_seconds=max_seconds,
                       batch_size=batch_size, lr=lr, seed=seed, device=device, params=params,
                       trainer={"lr_schedule": "cosine"})


def make_trainer(data: MovieLens, config: TrainConfig | None = None, dataset: Dataset | None = None):
    """A Trainer for I-AutoRec on `data` (u1.base to train, u1.test as the test set); not saved."""

    return Trainer(config or autorec_config(), dataset if dataset is not None else ratings_dataset(data))


def movielens_ratings_dataset() -> Dataset:
    """ratings_dataset of MovieLens 100K as found here (a Ray worker's training data; never downloads)."""
    return ratings_dataset(load_movielens(download_missing=False))


def placed_trainer(data: MovieLens, config: TrainConfig, cluster=None):
    """(the event source of an I-AutoRec training, where it trains): on `cluster` (the app's Ray cluster,
    aeviz.jobs.executors.JobCluster) when there is one and it takes the job, else here."""

    return placed_source(cluster, config, lambda: make_trainer(data, config), movielens_ratings_dataset)


# ---------------------------------------------------------------------------- using the model

@torch.no_grad()
def predicted_ratings(model: IAutoRec, data: MovieLens) -> np.ndarray:
    """(items, users) predicted stars, 1..5, from the training ratings."""
    model.eval()
    device = next(model.parameters()).device
    seen = torch.from_numpy(data.train.matrix(data.n_items, data.n_users)).to(device)
    x = torch.stack([seen, seen], dim=1).unsqueeze(2)
    return model(x)[:, 0, 0].clamp(MIN_RATING, MAX_RATING).cpu().numpy()


def test_rmse(predictions: np.ndarray, data: MovieLens) -> float:
    """RMSE (stars) of an (items, users) prediction matrix on u1.test."""
    error = predictions[data.test.items, data.test.users] - data.test.ratings
    return float(np.sqrt(np.mean(error.astype(np.float64) ** 2)))


def evaluation_report(model: IAutoRec, data: MovieLens) -> dict[str, Any]:
    """Test RMSE of the model and of each baseline, in stars, and whether the model beats them all."""
    baselines = baseline_rmses(data)
    rmse = test_rmse(predicted_ratings(model, data), data)
    return {"test_rmse": rmse, "baselines": baselines, "beats_all_baselines": rmse < min(baselines.values()),
            "test_ratings": len(data.test), "train_ratings": len(data.train)}


def rating_counts(data: MovieLens) -> np.ndarray:
    return np.bincount(data.train.items, minlength=data.n_items)


def user_ratings(data: MovieLens, user: int, split: str = "train") -> list[dict[str, Any]]:
    """A user's ratings in u1.base ('train') or u1.test ('test'), best first: item, title, rating."""
    ratings = data.train if split == "train" else data.test
    rows = np.nonzero(ratings.users == user)[0]
    rows = rows[np.lexsort((ratings.items[rows], -ratings.ratings[rows]))]
    return [{"item": int(ratings.items[r]), "title": data.titles[ratings.items[r]],
             "rating": float(ratings.ratings[r])} for r in rows]


def recommendations(predictions: np.ndarray, data: MovieLens, user: int, n: int = 10,
                    min_ratings: int = 20) -> list[dict[str, Any]]:
    """The n movies the user has not rated in u1.base with the highest predicted stars, among movies
    with at least `min_ratings` training ratings (predictions for rarely rated movies are noisy)."""
    check_user(data, user)
    candidates = rating_counts(data) >= min_ratings
    candidates[data.train.items[data.train.users == user]] = False
    items = np.nonzero(candidates)[0]
    order = items[np.argsort(-predictions[items, user], kind="stable")][:n]
    return [{"item": int(i), "title": data.titles[i], "predicted": float(predictions[i, user])} for i in order]


def masked_loss_slice(predictions: np.ndarray, data: MovieLens, n_items: int = 10,
                      n_users: int = 16) -> dict[str, Any]:
    """A corner of the ratings matrix for a picture of the masked loss: the most-rated movies, and users
    who rated about half of them (so both ratings and blanks show). Returns titles, user ids (1-based,
    as in the files), `ratings` (NaN where not rated in u1.base), `predictions` (the model's output
    everywhere) and `squared_error` ((prediction - rating)^2 where rated, NaN elsewhere: the entries
    the loss sums; blanks add nothing)."""
    counts = rating_counts(data)
    items = np.argsort(-counts, kind="stable")[:n_items]
    seen = data.train.matrix(data.n_items, data.n_users)[items]
    rated = (seen > 0).sum(axis=0)
    users = np.sort(np.argsort(np.abs(rated - len(items) / 2) + (rated == 0) * len(items), kind="stable")[:n_users])
    ratings = np.where(seen[:, users] > 0, seen[:, users], np.nan).astype(np.float64)
    shown = np.asarray(predictions, dtype=np.float64)[np.ix_(items, users)]
    return {"titles": [data.titles[i] for i in items], "users": [int(u) + 1 for u in users], "ratings": ratings,
            "predictions": shown, "squared_error": (shown - ratings) ** 2}


@torch.no_grad()
def movie_codes(model: IAutoRec, data: MovieLens) -> np.ndarray:
    """(items, k) hidden codes of every movie, from its training ratings."""
    model.eval()
    device = next(model.parameters()).device
    seen = torch.from_numpy(data.train.matrix(data.n_items, data.n_users)).to(device)
    return model.encode(torch.stack([seen, seen], dim=1).unsqueeze(2)).cpu().numpy()


def similar_movies(codes: np.ndarray, data: MovieLens, item: int, n: int = 10,
                   min_ratings: int = 20) -> list[dict[str, Any]]:
    """The n movies whose codes have the highest cosine similarity to `item`'s (itself excluded)."""
    if not 0 <= item < data.n_items:
        raise InvalidConfig(f"movie id must be between 1 and {data.n_items} (got {item + 1})")
    centred = codes - codes.mean(axis=0)
    unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit[item]
    candidates = rating_counts(data) >= min_ratings
    candidates[item] = False
    items = np.nonzero(candidates)[0]
    order = items[np.argsort(-similarity[items], kind="stable")][:n]
    return [{"item": int(i), "title": data.titles[i], "similarity": float(similarity[i])} for i in order]


def check_user(data: MovieLens, user: int) -> None:
    if not 0 <= user < data.n_users:
        raise InvalidConfig(f"user id must be between 1 and {data.n_users} (got {user + 1})")
