"""Content-addressed blobs: the files of a run's context bundle, stored once by SHA-256.

A headless run (CI over REST) carries the files it works on. Their contents go to a blob
store, not into the run's row: the same file submitted by a hundred runs is stored once,
the ledger stays small, and any worker on any host fetches what its run needs. The store
is S3-compatible object storage (boto3: AWS S3, MinIO, Ceph…) for a team, or a directory
(the embedded default: one server, or workers sharing a volume).

    blob_url = "file:///var/lib/llmgenie/blobs"          # or a plain path
    blob_url = "s3://bucket/prefix"  (+ blob_endpoint_url for a non-AWS service)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

DIGEST_LEN = 64


class BlobMissing(LookupError):
    """No blob with this digest (or one whose content does not match it)."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(digest: str) -> str:
    if len(digest) != DIGEST_LEN or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"not a SHA-256 digest: {digest[:80]!r}")
    return digest


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data` (once) and return its digest."""
        ...

    def get(self, digest: str) -> bytes:
        """The blob's bytes (BlobMissing if absent or corrupt)."""
        ...

    def sweep(self, referenced: set[str], older_than_s: float) -> int:
        """Delete blobs no run refers to any more that are older than `older_than_s` (a
        blob put for a submit that has not committed yet is young); how many went."""
        ...


class FileBlobStore:
    """Blobs as files under a directory, fanned out by the digest's first two characters."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        digest = _checked(digest)
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then renamed: a reader never sees half a blob.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        try:
            data = self._path(digest).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(digest) from exc
        if digest_of(data) != digest:
            raise BlobMissing(f"{digest}: the stored content does not match its digest")
        return data

    def sweep(self, referenced: set[str], older_than_s: float) -> int:
        cutoff = time.time() - older_than_s
        gone = 0
        for path in self.root.glob("??/*"):
            if path.name in referenced or path.name.startswith(".tmp-"):
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    gone += 1
        return gone


class S3BlobStore:
    """Blobs as objects `prefix/<digest>` in an S3-compatible bucket (boto3)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._s3: Any = boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, digest: str) -> str:
        digest = _checked(digest)
        return f"{self.prefix}/{digest}" if self.prefix else digest

    def put(self, data: bytes) -> str:
        digest = digest_of(data)
        # Content-addressed: writing an existing key again is harmless, so no HEAD first.
        self._s3.put_object(Bucket=self.bucket, Key=self._key(digest), Body=data)
        return digest

    def get(self, digest: str) -> bytes:
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=self._key(digest))["Body"]
            data: bytes = body.read()
        except self._s3.exceptions.NoSuchKey as exc:
            raise BlobMissing(digest) from exc
        if digest_of(data) != digest:
            raise BlobMissing(f"{digest}: the stored content does not match its digest")
        return data

    def sweep(self, referenced: set[str], older_than_s: float) -> int:
        cutoff = time.time() - older_than_s
        gone = 0
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        for page in pages:
            for item in page.get("Contents", []):
                digest = str(item["Key"]).rsplit("/", 1)[-1]
                if digest in referenced or item["LastModified"].timestamp() >= cutoff:
                    continue
                self._s3.delete_object(Bucket=self.bucket, Key=item["Key"])
                gone += 1
        return gone


def open_blob_store(url: str | None, default_root: Path, endpoint_url: str | None) -> BlobStore:
    """The store `url` names (s3://bucket/prefix, file:///dir or a path); none: a directory."""
    if not url:
        return FileBlobStore(default_root)
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"no bucket in {url!r}: s3://bucket/prefix")
        return S3BlobStore(parts.netloc, parts.path, endpoint_url)
    if parts.scheme in ("", "file"):
        return FileBlobStore(Path(parts.path if parts.scheme else url))
    raise ValueError(f"unsupported blob store {url!r}: use s3://bucket/prefix or a directory")


def store_files(store: BlobStore, files: dict[str, str]) -> dict[str, str]:
    """Put each file's content in `store`: {path: digest} (a context bundle)."""
    return {path: store.put(text.encode("utf-8", "surrogatepass")) for path, text in files.items()}


def load_files(store: BlobStore, bundle: dict[str, str]) -> dict[str, str]:
    """The files of a context bundle, back from `store`."""
    return {
        path: store.get(digest).decode("utf-8", "surrogatepass") for path, digest in bundle.items()
    }
