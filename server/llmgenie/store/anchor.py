"""The audit log's anchor: the chain's length and head hash, kept apart from the chain.

The hash chain shows that no row was changed, inserted or removed in the middle; it cannot
show that the last rows (or all of them, or the whole store) were deleted, or that every
hash was recomputed after an edit. So each append also writes `(count, head)` to a sidecar
file next to the store, with an HMAC-SHA256 under a per-user key kept in the user's data
directory (its location never comes from a workspace's configuration). `audit verify`
compares the chain with it. Someone who can read that key can forge an anchor too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import platformdirs

KEY_FILE_ENV = "LLMGENIE_AUDIT_KEY_FILE"
ANCHOR_SUFFIX = ".audit-anchor.json"


class AnchorInvalid(ValueError):
    """The anchor file exists but is unreadable, or its MAC does not match."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """How many records the chain had after the last append, and the last record's hash."""

    count: int
    head: str


def default_key_path() -> Path:
    """The per-user MAC key: LLMGENIE_AUDIT_KEY_FILE, else `audit.key` in the data root
    named by LLMGENIE_DATA_DIR or the platform's user data directory."""
    override = os.environ.get(KEY_FILE_ENV)
    if override:
        return Path(override)
    root = os.environ.get("LLMGENIE_DATA_DIR") or platformdirs.user_data_dir("llmgenie")
    return Path(root) / "audit.key"


class AnchorFile:
    """Reads and writes one store's anchor; the MAC binds it to that store's directory."""

    def __init__(self, store_path: Path, key_path: Path | None = None) -> None:
        self.path = store_path.with_name(store_path.name + ANCHOR_SUFFIX)
        self.key_path = key_path or default_key_path()
        self._store_id = store_path.parent.name

    def _key(self, create: bool) -> bytes | None:
        try:
            return self.key_path.read_bytes()
        except FileNotFoundError:
            if not create:
                return None
        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return self.key_path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        return self.key_path.read_bytes()

    def _mac(self, key: bytes, anchor: Anchor) -> str:
        text = f"llmgenie-audit-anchor:1:{self._store_id}:{anchor.count}:{anchor.head}"
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def exists(self) -> bool:
        return self.path.exists()

    def read(self) -> Anchor | None:
        """The anchor, None if there is none; AnchorInvalid if it cannot be trusted."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            anchor = Anchor(count=int(raw["count"]), head=str(raw["head"]))
            mac = str(raw["mac"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AnchorInvalid(f"the anchor {self.path} is unreadable: {exc}") from exc
        key = self._key(create=False)
        if key is None:
            raise AnchorInvalid(f"the anchor key {self.key_path} is missing")
        if not hmac.compare_digest(mac, self._mac(key, anchor)):
            raise AnchorInvalid(f"the anchor {self.path} does not match its MAC (forged?)")
        return anchor

    def move_to(self, other: AnchorFile) -> None:
        """Move this anchor with its store (the MAC names the directory, which keeps its name)."""
        if self.path.exists():
            os.replace(self.path, other.path)

    def write(self, anchor: Anchor) -> None:
        """Replace the anchor atomically (called under the store's write lock)."""
        key = self._key(create=True)
        assert key is not None
        body = {"count": anchor.count, "head": anchor.head, "mac": self._mac(key, anchor)}
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(body), encoding="utf-8")
        os.replace(partial, self.path)
