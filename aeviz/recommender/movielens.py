"""MovieLens 100K (GroupLens): 100,000 ratings 1-5 by 943 users on 1,682 movies, with the
canonical 80/20 split ``u1.base`` / ``u1.test``, and the rating baselines an autoencoder must beat.

Where the files come from, in order: ``$AEVIZ_DATA_DIR/ml-100k``, the user cache folder
(``~/.cache/aeviz/ml-100k``), then a download of GroupLens' zip into the cache (unless
``AEVIZ_OFFLINE=1``). Loaded once per process and shared (one folder's ratings kept at a time).
"""

from __future__ import annotations

import io
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aeviz.data.datasets import ProgressCallback, data_dir, offline
from aeviz.data.types import cache_dir
from aeviz.errors import CorruptDataFile, DatasetUnavailable
from aeviz.lru import LRUCache

FOLDER = "ml-100k"
REQUIRED_FILES = ("u.data", "u.item", "u1.base", "u1.test")
DOWNLOAD_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
# The 19 genre flags of u.item, in order (as listed in u.genre).
GENRES = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
          "War", "Western")


@dataclass
class Ratings:
    """Ratings as parallel arrays; user and item ids are 0-based (the files count from 1)."""

    users: np.ndarray    # int64
    items: np.ndarray    # int64
    ratings: np.ndarray  # float32, 1..5

    def __len__(self) -> int:
        return len(self.ratings)

    def matrix(self, n_items: int, n_users: int) -> np.ndarray:
        """(items, users) float32, 0 where not rated."""
        out = np.zeros((n_items, n_users), dtype=np.float32)
        out[self.items, self.users] = self.ratings
        return out


@dataclass
class MovieLens:
    train: Ratings          # u1.base
    test: Ratings           # u1.test
    titles: list[str]       # by item id
    genres: np.ndarray      # (items, 19) bool
    n_users: int
    n_items: int
    source: str

    def first_genre(self) -> np.ndarray:
        """Each movie's first listed genre (index into GENRES); 0 ('unknown') when none is flagged."""
        return np.where(self.genres.any(axis=1), self.genres.argmax(axis=1), 0).astype(np.int64)


# ---------------------------------------------------------------------------- finding the files

def candidate_folders() -> list[tuple[str, Path]]:
    folders = []
    root = data_dir()
    if root is not None:
        folders.append(("AEVIZ_DATA_DIR", root / FOLDER))
    folders.append(("user cache", cache_dir() / FOLDER))
    return folders


def _missing(folder: Path) -> list[str]:
    return [name for name in REQUIRED_FILES if not (folder / name).is_file()]


def fix_hint() -> str:
    return (f"set AEVIZ_DATA_DIR to a folder holding {FOLDER}/ with {', '.join(REQUIRED_FILES)} (GroupLens' "
            f"ml-100k.zip, extracted), or connect to the internet to download it from {DOWNLOAD_URL}")


def find_folder() -> tuple[Path | None, list[str]]:
    """The first folder holding every required file, and what was tried."""
    tried = []
    for label, folder in candidate_folders():
        missing = _missing(folder)
        if not missing:
            return folder, tried
        state = "not found" if not folder.is_dir() else "missing " + ", ".join(missing)
        tried.append(f"{label}: {folder} ({state})")
    return None, tried


def status() -> dict:
    """Whether ml-100k can be read without a download (cheap: no reading)."""
    folder, tried = find_folder()
    return {"name": FOLDER, "available": folder is not None, "source": str(folder) if folder else None,
            "tried": tried, "hint": "" if folder else fix_hint()}


# ---------------------------------------------------------------------------- reading

def read_ratings(path: Path) -> Ratings:
    """A tab-separated `user item rating timestamp` file."""
    try:
        table = np.loadtxt(path, dtype=np.int64, ndmin=2, usecols=(0, 1, 2))
    except (OSError, ValueError) as exc:
        raise CorruptDataFile(f"{path} is not a tab-separated 'user item rating timestamp' file ({exc})") from None
    if table.size == 0:
        raise CorruptDataFile(f"{path} holds no ratings")
    if table[:, :2].min() < 1 or table[:, 2].min() < 1 or table[:, 2].max() > 5:
        raise CorruptDataFile(f"{path}: ids must start at 1 and ratings lie in 1..5")
    return Ratings(table[:, 0] - 1, table[:, 1] - 1, table[:, 2].astype(np.float32))


def read_items(path: Path) -> tuple[list[str], np.ndarray]:
    """Titles and genre flags from u.item (`|`-separated, latin-1)."""
    titles: dict[int, str] = {}
    genres: dict[int, list[bool]] = {}
    try:
        text = path.read_bytes().decode("latin-1")
    except OSError as exc:
        raise CorruptDataFile(f"{path} cannot be read ({exc})") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("|")
        try:
            item = int(fields[0]) - 1
        except ValueError:
            raise CorruptDataFile(f"{path} line {number}: expected 'id|title|...'") from None
        titles[item] = fields[1] if len(fields) > 1 else f"movie {item + 1}"
        flags = fields[-len(GENRES):] if len(fields) >= 5 + len(GENRES) else []
        genres[item] = [flag.strip() == "1" for flag in flags] or [False] * len(GENRES)
    if not titles:
        raise CorruptDataFile(f"{path} lists no movies")
    n = max(titles) + 1
    return ([titles.get(i, f"movie {i + 1}") for i in range(n)],
            np.array([genres.get(i, [False] * len(GENRES)) for i in range(n)], dtype=bool))


def read_folder(folder: Path, source: str = "") -> MovieLens:
    everything = read_ratings(folder / "u.data")
    train, test = read_ratings(folder / "u1.base"), read_ratings(folder / "u1.test")
    titles, genres = read_items(folder / "u.item")
    n_users = int(max(everything.users.max(), train.users.max(), test.users.max())) + 1
    n_items = int(max(everything.items.max(), train.items.max(), test.items.max(), len(titles) - 1)) + 1
    if len(titles) < n_items:
        titles = titles + [f"movie {i + 1}" for i in range(len(titles), n_items)]
        genres = np.vstack([genres, np.zeros((n_items - len(genres), len(GENRES)), dtype=bool)])
    return MovieLens(train, test, titles, genres, n_users, n_items, source or str(folder))


# ---------------------------------------------------------------------------- download

def download(progress: ProgressCallback | None = None, timeout: float = 20.0) -> Path:
    """Download GroupLens' zip and extract it into the cache; returns the folder."""
    import urllib.request

    target = cache_dir() / FOLDER
    request = urllib.request.Request(DOWNLOAD_URL, headers={"User-Agent": "aeviz"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            buffer = io.BytesIO()
            while chunk := response.read(1 << 16):
                buffer.write(chunk)
                if progress:
                    progress(buffer.tell(), total, "downloading ml-100k.zip")
    except Exception as exc:  # network errors of every kind
        raise DatasetUnavailable(f"could not download {DOWNLOAD_URL}: {exc}") from None
    try:
        with zipfile.ZipFile(buffer) as archive:
            target.mkdir(parents=True, exist_ok=True)
            for name in archive.namelist():
                base = name.rsplit("/", 1)[-1]
                if base and not name.endswith("/") and base.startswith("u"):
                    (target / base).write_bytes(archive.read(name))
    except zipfile.BadZipFile as exc:
        raise CorruptDataFile(f"{DOWNLOAD_URL} did not give a valid zip file ({exc})") from None
    if _missing(target):
        raise CorruptDataFile(f"the downloaded archive lacks {', '.join(_missing(target))}")
    return target


# ---------------------------------------------------------------------------- loading

# The ratings last read, keyed by where they were found: one folder's (a folder found anew, after a download
# or a change of AEVIZ_DATA_DIR, replaces it).
READ = LRUCache(max_entries=1)
_lock = threading.Lock()


def load_movielens(download_missing: bool = True, progress: ProgressCallback | None = None) -> MovieLens:
    """MovieLens 100K, read once per process (and again when it is found in another folder)."""
    folder, tried = find_folder()
    key = str(folder)
    with _lock:
        cached = READ.get(key) if folder is not None else None
        if cached is not None:
            return cached
        if folder is None:
            if download_missing and not offline():
                try:
                    folder = download(progress)
                except DatasetUnavailable as exc:
                    tried.append(f"download: {exc}")
            else:
                tried.append("download: not attempted (offline)")
        if folder is None:
            raise DatasetUnavailable("MovieLens 100K (ml-100k) is not available. Tried: " + "; ".join(tried)
                                     + ". To fix: " + fix_hint())
        return READ.put(str(folder), read_folder(folder))


def clear_cache() -> None:
    READ.clear()


# ---------------------------------------------------------------------------- baselines

def rmse(predictions: np.ndarray, ratings: np.ndarray) -> float:
    """Root mean squared error, in stars."""
    return float(np.sqrt(np.mean((np.asarray(predictions, np.float64) - ratings) ** 2)))


def _mean_by(index: np.ndarray, values: np.ndarray, n: int, damping: float = 0.0) -> np.ndarray:
    """Sum of values per index / (count + damping); 0 where nothing was seen."""
    sums = np.bincount(index, weights=values, minlength=n)
    counts = np.bincount(index, minlength=n)
    return np.divide(sums, counts + damping, out=np.zeros(n), where=(counts + damping) > 0)


def baseline_predictions(train: Ratings, test: Ratings, n_users: int, n_items: int,
                         item_damping: float = 25.0, user_damping: float = 10.0,
                         sweeps: int = 10) -> dict[str, np.ndarray]:
    """Predictions for each test rating by four baselines fitted on `train`:

    - global_mean: the mean training rating mu;
    - item_mean / user_mean: the item's (user's) mean rating, mu when it has none;
    - user_item_biases: mu + b_u + b_i, the damped biases of Koren (2008, 'Factorization meets the
      neighborhood', eq. 2) fitted by alternating least squares, 10 sweeps from zero of
      b_u = sum(r - mu - b_i) / (n_u + 10), then b_i = sum(r - mu - b_u) / (n_i + 25).
    """
    mu = float(train.ratings.mean())
    counts_i = np.bincount(train.items, minlength=n_items)
    counts_u = np.bincount(train.users, minlength=n_users)
    item_mean = np.where(counts_i > 0, _mean_by(train.items, train.ratings, n_items), mu)
    user_mean = np.where(counts_u > 0, _mean_by(train.users, train.ratings, n_users), mu)
    b_u, b_i = np.zeros(n_users), np.zeros(n_items)
    for _ in range(sweeps):
        b_u = _mean_by(train.users, train.ratings - mu - b_i[train.items], n_users, user_damping)
        b_i = _mean_by(train.items, train.ratings - mu - b_u[train.users], n_items, item_damping)
    return {
        "global_mean": np.full(len(test), mu),
        "item_mean": item_mean[test.items],
        "user_mean": user_mean[test.users],
        "user_item_biases": mu + b_u[test.users] + b_i[test.items],
    }


def baseline_rmses(data: MovieLens) -> dict[str, float]:
    """Test RMSE (stars) of each baseline on data.test."""
    predictions = baseline_predictions(data.train, data.test, data.n_users, data.n_items)
    return {name: rmse(p, data.test.ratings) for name, p in predictions.items()}
