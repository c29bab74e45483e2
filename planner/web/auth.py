"""Who may do what: office accounts, driver codes, household PINs, tokens and CSRF.

* **Office accounts** — a user name and a password, stored as an argon2id hash in the
  accounts file; a signed session cookie after sign-in; every office form carries the
  session's CSRF token.
* **Driver codes** — one random code per truck and month (``K7QM-4XPD``), printed on
  that truck's run sheets; only its argon2id hash is kept. Signing in with the truck id
  and the code gives a bearer token that reads and writes that truck's runs of that
  month and nothing else.
* **Household PINs** — six digits derived from the server secret and the household id
  (an HMAC), printed on the household's card beside its code; they open a read-only
  view of that household's green account.

The accounts file is JSON written atomically with owner-only permissions; the
server secret lives in a file of its own (created on first start, mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from planner._atomic import write_json_atomic

ACCOUNTS_FORMAT = "planner-web-accounts/1"
# No 0/O, 1/I/L: codes are read off paper and typed on a phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
# A driver's token is good for a little over a month: the month it is scoped to.
DRIVER_TOKEN_MAX_AGE_S = 40 * 24 * 3600

# argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane): ~30 ms a check on the office's
# 2-core machine, so 30 drivers signing in at once do not queue for seconds.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_secret(value: str) -> str:
    """An argon2id hash of a password or driver code."""
    return _hasher.hash(value)


def verify_secret(stored_hash: str, value: str) -> bool:
    """Whether ``value`` matches ``stored_hash`` (False on any malformed hash)."""
    try:
        return _hasher.verify(stored_hash, value)
    except (VerificationError, InvalidHashError):
        return False


def new_driver_code() -> str:
    """A fresh random driver code, ``XXXX-XXXX`` (about 40 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(text: str) -> str:
    """What a driver typed, as the code is stored: upper case, one dash, no spaces."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == CODE_LENGTH else raw


def load_secret(path: Path) -> bytes:
    """The server secret at ``path``; created (32 random bytes, mode 0600) when missing."""
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) >= 32:
            return data
    path.parent.mkdir(parents=True, exist_ok=True)
    data = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return data


@dataclass(frozen=True)
class DriverGrant:
    """What a signed-in driver may see: one truck, one month."""

    vehicle: str
    month: str
    code_id: str


class Accounts:
    """The accounts file: office users and driver-code hashes (thread-safe)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._doc = self._read()

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"format": ACCOUNTS_FORMAT, "office": [], "drivers": []}
        doc = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != ACCOUNTS_FORMAT:
            raise ValueError(f"{self.path}: expected an accounts file ({ACCOUNTS_FORMAT})")
        doc.setdefault("office", [])
        doc.setdefault("drivers", [])
        return doc

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, self._doc)
        os.chmod(self.path, 0o600)

    # --- office --------------------------------------------------------------------
    def set_office_user(self, user: str, password: str) -> None:
        """Add an office user or change their password."""
        if not user.strip() or len(password) < 8:
            raise ValueError("expected a user name and a password of at least 8 characters")
        with self._lock:
            rows = [u for u in self._doc["office"] if u["user"] != user]
            rows.append({"user": user, "hash": hash_secret(password)})
            self._doc["office"] = sorted(rows, key=lambda u: u["user"])
            self._write()

    def office_users(self) -> list[str]:
        return [u["user"] for u in self._doc["office"]]

    def check_office(self, user: str, password: str) -> bool:
        for row in self._doc["office"]:
            if hmac.compare_digest(row["user"].encode(), user.encode()):
                return verify_secret(row["hash"], password)
        # The same work for an unknown user, so timing does not tell names apart.
        verify_secret(_DUMMY_HASH, password)
        return False

    # --- drivers -------------------------------------------------------------------
    def issue_driver_code(self, vehicle: str, month: str) -> str:
        """A new code for ``vehicle`` in ``month``; replaces the earlier one. Shown once."""
        code = new_driver_code()
        with self._lock:
            rows = [
                d
                for d in self._doc["drivers"]
                if not (d["vehicle"] == vehicle and d["month"] == month)
            ]
            rows.append(
                {
                    "vehicle": vehicle,
                    "month": month,
                    "id": secrets.token_hex(6),
                    "hash": hash_secret(code),
                }
            )
            self._doc["drivers"] = sorted(rows, key=lambda d: (d["month"], d["vehicle"]))
            self._write()
        return code

    def driver_codes(self) -> list[tuple[str, str]]:
        """(month, vehicle) of every code issued."""
        return [(d["month"], d["vehicle"]) for d in self._doc["drivers"]]

    def check_driver(self, vehicle: str, code: str) -> DriverGrant | None:
        """The grant for a truck id and a typed code, or None."""
        typed = normalise_code(code)
        for row in self._doc["drivers"]:
            if row["vehicle"] == vehicle and verify_secret(row["hash"], typed):
                return DriverGrant(row["vehicle"], row["month"], row["id"])
        verify_secret(_DUMMY_HASH, typed)
        return None

    def grant_valid(self, grant: DriverGrant) -> bool:
        """Whether the code behind a token is still the current one (not re-issued)."""
        return any(
            d["id"] == grant.code_id and d["vehicle"] == grant.vehicle and d["month"] == grant.month
            for d in self._doc["drivers"]
        )


_DUMMY_HASH = hash_secret("not a real secret")


class Tokens:
    """Signed, timed bearer tokens for drivers, and household PINs, from the secret."""

    def __init__(self, secret: bytes):
        self._secret = secret
        self._driver = URLSafeTimedSerializer(secret, salt="planner-driver")

    def driver_token(self, grant: DriverGrant) -> str:
        return self._driver.dumps({"v": grant.vehicle, "m": grant.month, "c": grant.code_id})

    def driver_grant(self, token: str) -> DriverGrant | None:
        try:
            data = self._driver.loads(token, max_age=DRIVER_TOKEN_MAX_AGE_S)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        try:
            return DriverGrant(str(data["v"]), str(data["m"]), str(data["c"]))
        except KeyError:
            return None

    def household_pin(self, household: str) -> str:
        """The six-digit PIN of ``household`` (printed on its card)."""
        mac = hmac.new(self._secret, f"pin|{household}".encode(), hashlib.sha256).digest()
        return f"{int.from_bytes(mac[:8], 'big') % 1_000_000:06d}"

    def check_pin(self, household: str, pin: str) -> bool:
        return hmac.compare_digest(self.household_pin(household), pin.strip())


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: object, given: str | None) -> bool:
    """Whether a form's or header's token matches the session's."""
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


class Throttle:
    """At most ``limit`` failed attempts per key in ``window_s`` seconds (in memory)."""

    def __init__(self, limit: int = 10, window_s: float = 900.0):
        self.limit = limit
        self.window_s = window_s
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        with self._lock:
            q = self._fails[key]
            now = time.monotonic()
            while q and now - q[0] > self.window_s:
                q.popleft()
            return len(q) >= self.limit

    def fail(self, key: str) -> None:
        with self._lock:
            self._fails[key].append(time.monotonic())

    def clear(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)
