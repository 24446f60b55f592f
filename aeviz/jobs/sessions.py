"""Session ids the server mints and signs, so a client cannot invent one or take over another's.

A session id is ``<random>.<signature>``: 96 random bits and an HMAC-SHA256 of them under a secret
this server created at its first start (``$AEVIZ_RUNS_DIR/.session_secret``, mode 0600). The
signature also covers a *binding*, a value only that browser sends (the app passes its XSRF
cookie), so the id in a shared link does not verify in another browser: that browser gets a fresh
session instead. An id unused for ``$AEVIZ_SESSION_IDLE_SECONDS`` (default 12 hours) has expired.

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
RANDOM_HEX = 24      # 96 bits
SIGNATURE_HEX = 32   # 128 bits of the HMAC
TOKEN_LENGTH = RANDOM_HEX + 1 + SIGNATURE_HEX

_lock = threading.Lock()
_secret: bytes | None = None
_last_seen: dict[str, float] = {}  # token -> time.monotonic() of its last use


def forget() -> None:
    """Forget this process's secret and when each session was last seen: what a new server process starts
    with (the secret is read again from the runs folder)."""
    global _secret
    with _lock:
        _secret = None
        _last_seen.clear()


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
    random_part = secrets.token_hex(RANDOM_HEX // 2)
    token = f"{random_part}.{_signature(random_part, binding)}"
    with _lock:
        _last_seen[token] = time.monotonic()
    return token


def signed(token: object, binding: str = "") -> bool:
    """Whether `token` is an id this server minted for `binding` (any other text, of any length, is not)."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH or token[RANDOM_HEX] != ".":
        return False
    random_part, signature = token[:RANDOM_HEX], token[RANDOM_HEX + 1:]
    if any(c not in "0123456789abcdef" for c in random_part + signature):
        return False
    return hmac.compare_digest(signature, _signature(random_part, binding))


def accept(token: object, binding: str = "") -> bool:
    """signed(), and not idle for longer than idle_seconds(); a use counts as activity."""
    if not signed(token, binding):
        return False
    now = time.monotonic()
    with _lock:
        last = _last_seen.get(token)
        if last is not None and now - last > idle_seconds():
            del _last_seen[token]
            return False
        _last_seen[token] = now
        if len(_last_seen) > 10_000:  # forget long-idle ids (they would be refused anyway)
            for old in [t for t, seen in _last_seen.items() if now - seen > idle_seconds()]:
                del _last_seen[old]
    return True


def touch(token: str) -> None:
    """A use of a session the server already holds (its id is in the server-side session state)."""
    with _lock:
        _last_seen[token] = time.monotonic()
