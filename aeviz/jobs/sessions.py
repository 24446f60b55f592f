"""Session ids the server mints and signs, so a client cannot invent one or take over another's.

A session id is ``<minted><random>.<signature>``: the time it was minted (milliseconds, 12 hex digits),
48 random bits, and an HMAC-SHA256 of them under a secret this server created at its first start
(``$AEVIZ_RUNS_DIR/.session_secret``, mode 0600). The signature also covers a *binding*, a value only that
browser sends (the app passes its XSRF cookie), so the id in a shared link does not verify in another
browser: that browser gets a fresh session instead. An id expires ``$AEVIZ_SESSION_IDLE_SECONDS`` (default
12 hours) after it was minted, unless a tab of its session is still open (aeviz.jobs.presence: the app
passes `live`). The time is in the signed id, so the server keeps nothing per session here.

    token = mint(binding)
    accept(token, binding)   # True for this server's unexpired tokens only
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time

from aeviz.server_settings import SESSION_IDLE_ENV, session_idle_seconds_from_env
from aeviz.runs.store import runs_dir

SECRET_FILE = ".session_secret"
IDLE_ENV = SESSION_IDLE_ENV
RANDOM_HEX = 24      # the minted time (TIME_HEX) and 48 random bits
TIME_HEX = 12        # milliseconds since 1970: good until the year 10889
SIGNATURE_HEX = 32   # 128 bits of the HMAC
TOKEN_LENGTH = RANDOM_HEX + 1 + SIGNATURE_HEX
CLOCK_SLACK_SECONDS = 300.0  # an id minted "in the future" by up to this much (the clock was set back) still counts

_lock = threading.Lock()
_secret: bytes | None = None


def forget() -> None:
    """Forget this process's secret: what a new server process starts with (it is read again from the runs
    folder)."""
    global _secret
    with _lock:
        _secret = None


def server_secret() -> bytes:
    """The signing secret: read from the runs folder, created there (0600) at first start; a folder
    that cannot be written gives a secret for this process only (sessions then end with it)."""
    global _secret
    with _lock:
        if _secret is None:
            _secret = _load_or_create_secret()
        return _secret


def _load_or_create_secret() -> bytes:
    path = runs_dir() / SECRET_FILE
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data
    except OSError:
        pass
    fresh = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(fresh)
        return fresh
    except FileExistsError:  # another process created it first: use theirs
        return path.read_bytes()
    except OSError:
        return fresh


def idle_seconds() -> float:
    return session_idle_seconds_from_env()


def _signature(random_part: str, binding: str) -> str:
    message = f"{random_part}|{binding}".encode()
    return hmac.new(server_secret(), message, hashlib.sha256).hexdigest()[:SIGNATURE_HEX]


def mint(binding: str = "") -> str:
    """A new session id, signed for `binding`."""
    random_part = f"{int(time.time() * 1000):0{TIME_HEX}x}"[-TIME_HEX:] + secrets.token_hex((RANDOM_HEX - TIME_HEX) // 2)
    return f"{random_part}.{_signature(random_part, binding)}"


def signed(token: object, binding: str = "") -> bool:
    """Whether `token` is an id this server minted for `binding` (any other text, of any length, is not)."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH or token[RANDOM_HEX] != ".":
        return False
    random_part, signature = token[:RANDOM_HEX], token[RANDOM_HEX + 1:]
    if any(c not in "0123456789abcdef" for c in random_part + signature):
        return False
    return hmac.compare_digest(signature, _signature(random_part, binding))


def minted_at(token: str) -> float:
    """When a signed id was minted (seconds since 1970)."""
    return int(token[:TIME_HEX], 16) / 1000.0


def accept(token: object, binding: str = "", live: bool = False) -> bool:
    """signed(), and minted less than idle_seconds() ago, or `live`: a tab of its session is open now (a
    reload), whatever its age."""
    if not signed(token, binding):
        return False
    age = time.time() - minted_at(token)
    return live or -CLOCK_SLACK_SECONDS <= age <= idle_seconds()
