"""Context-bundle blobs: stored once by content, refused when forged, swept when no run
refers to them; on a directory and on S3 (boto3 against moto's S3 server over HTTP)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmgenie.remote.blobs import (
    BlobMissing,
    BlobStore,
    FileBlobStore,
    S3BlobStore,
    digest_of,
    load_files,
    open_blob_store,
    store_files,
)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["directory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "directory":
        return FileBlobStore(tmp_path / "blobs")
    endpoint = request.getfixturevalue("s3_endpoint")
    import boto3

    bucket = f"llmgenie-{tmp_path.name.lower().replace('_', '-')[:40]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return S3BlobStore(bucket, "team/blobs", endpoint_url=endpoint)


def test_a_bundle_round_trips_and_each_content_is_stored_once(store: BlobStore) -> None:
    files = {"a.py": "x = 1\n", "copy/a.py": "x = 1\n", "ü.md": "naïve 🐍\n"}
    bundle = store_files(store, files)
    assert bundle["a.py"] == bundle["copy/a.py"] == digest_of(b"x = 1\n")
    assert load_files(store, bundle) == files


def test_a_missing_or_forged_digest_is_refused(store: BlobStore) -> None:
    with pytest.raises(BlobMissing):
        store.get(digest_of(b"never stored"))
    for hostile in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(ValueError):
            store.get(hostile)


def test_the_sweep_keeps_referenced_and_young_blobs(store: BlobStore) -> None:
    keep, drop = store.put(b"still used"), store.put(b"run purged")
    assert store.sweep({keep}, older_than_s=3600) == 0, "young blobs stay (a submit in flight)"
    assert store.sweep({keep}, older_than_s=-1) == 1
    assert store.get(keep) == b"still used"
    with pytest.raises(BlobMissing):
        store.get(drop)


def test_a_corrupted_file_blob_is_not_served(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    digest = store.put(b"original")
    path = tmp_path / digest[:2] / digest
    path.write_bytes(b"tampered")
    with pytest.raises(BlobMissing, match="does not match"):
        store.get(digest)
    os.utime(path, (time.time() - 7200, time.time() - 7200))
    assert store.sweep(set(), older_than_s=3600) == 1


def test_the_store_is_chosen_by_url(tmp_path: Path) -> None:
    assert isinstance(open_blob_store(None, tmp_path, None), FileBlobStore)
    assert isinstance(open_blob_store(f"file://{tmp_path}", tmp_path, None), FileBlobStore)
    with pytest.raises(ValueError, match="unsupported"):
        open_blob_store("ftp://host/x", tmp_path, None)
    with pytest.raises(ValueError, match="no bucket"):
        open_blob_store("s3:///prefix", tmp_path, None)
