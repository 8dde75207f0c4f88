"""Asset storage: the same behaviour from the local directory and from S3 over real HTTP (moto server)."""

from __future__ import annotations

import errno
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from pipeline.errors import AssetCorrupt, NotFound, TintError, Transient
from workers import storage as storage_module
from workers.storage import LocalStorage, S3Storage, Storage, open_storage, sha256_hex

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.services)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Each backend in turn: a local directory, then a fresh bucket on the S3 server."""
    if request.param == "local":
        return LocalStorage(tmp_path / "assets")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Storage(bucket=bucket, prefix="assets", endpoint_url=endpoint)


def overwrite_behind_the_back(store: Storage, sha: str, data: bytes) -> None:
    """Replace the stored object's bytes without going through the store."""
    if isinstance(store, LocalStorage):
        store.path(sha).write_bytes(data)
    else:
        assert isinstance(store, S3Storage)
        store.client.put_object(Bucket=store.bucket, Key=store.key(sha), Body=data)


def count_writes(store: Storage) -> Callable[[], int]:
    """A counter of the PutObject requests an S3 store sends from now on."""
    writes: list[object] = []
    if isinstance(store, S3Storage):
        store.client.meta.events.register("before-call.s3.PutObject", lambda **_: writes.append(1))
    return lambda: len(writes)


def test_put_then_get_returns_the_bytes(store: Storage) -> None:
    sha = store.put(PNG)
    assert sha == sha256_hex(PNG)
    assert store.exists(sha)
    assert store.get(sha) == PNG


def test_fresh_put_skips_the_lookup_and_stores_the_same_bytes(store: Storage) -> None:
    lookups: list[object] = []
    if isinstance(store, S3Storage):
        store.client.meta.events.register("before-call.s3.HeadObject", lambda **_: lookups.append(1))
    sha = store.put(PNG, fresh=True)
    assert store.put(PNG, fresh=True) == sha  # again: harmless, same key and bytes
    assert lookups == [] and store.get(sha) == PNG


def test_key_is_content_addressed(store: Storage) -> None:
    sha = sha256_hex(PNG)
    key = store.key(sha)
    assert key.endswith(f"{sha[:2]}/{sha[2:4]}/{sha}")


def test_second_put_of_the_same_bytes_writes_nothing(store: Storage) -> None:
    sha = store.put(PNG)
    if isinstance(store, LocalStorage):
        before = store.path(sha).stat()
        assert store.put(PNG) == sha
        after = store.path(sha).stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
        assert [p.name for p in store.path(sha).parent.iterdir()] == [sha]
    else:
        writes = count_writes(store)
        assert store.put(PNG) == sha
        assert writes() == 0


def test_put_sends_media_type_and_sha_metadata(s3_endpoint: str, s3_bucket: str) -> None:
    store = S3Storage(bucket=s3_bucket, endpoint_url=s3_endpoint)
    sha = store.put(b"{}", media_type="application/json")
    head = store.client.head_object(Bucket=s3_bucket, Key=store.key(sha))
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"sha256": sha}


def test_corrupted_object_raises_asset_corrupt(store: Storage) -> None:
    sha = store.put(PNG)
    overwrite_behind_the_back(store, sha, PNG[:-1] + b"\x00")
    with pytest.raises(AssetCorrupt, match=sha):
        store.get(sha)


def test_put_rewrites_an_object_truncated_behind_the_back(store: Storage) -> None:
    sha = store.put(PNG)
    overwrite_behind_the_back(store, sha, PNG[:100])
    assert store.put(PNG) == sha
    assert store.get(sha) == PNG


def test_missing_asset_raises_not_found_naming_sha_and_store(store: Storage) -> None:
    sha = sha256_hex(b"never stored")
    assert not store.exists(sha)
    with pytest.raises(NotFound) as caught:
        store.get(sha)
    assert sha in str(caught.value)
    assert store.describe() in str(caught.value)


@pytest.mark.parametrize(
    "bad_sha",
    ["../../etc/passwd", "ab/../../x", "", "A" * 64, "0" * 63, "0" * 65, "g" * 64, "0" * 62 + "/x"],
)
def test_malformed_sha_is_refused_before_any_path_is_built(store: Storage, bad_sha: str) -> None:
    for call in (store.get, store.exists, store.key, store.url):
        with pytest.raises(NotFound, match="not a sha256"):
            call(bad_sha)


def test_url_fetches_the_bytes(store: Storage) -> None:
    sha = store.put(PNG)
    url = store.url(sha, expires_s=60)
    assert url.startswith("file://" if isinstance(store, LocalStorage) else "http://")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == PNG


def test_describe_names_the_store(store: Storage) -> None:
    if isinstance(store, LocalStorage):
        assert store.describe() == f"local directory {store.root}"
    else:
        assert isinstance(store, S3Storage)
        assert store.describe() == f"s3://{store.bucket}/assets at {store.client.meta.endpoint_url}"


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: chmod cannot make a directory read-only")
def test_local_read_only_directory_is_transient_and_leaves_nothing(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "assets")
    store.root.chmod(0o555)
    try:
        with pytest.raises(Transient, match="TINT_STORAGE_URL"):
            store.put(PNG)
        assert not store.exists(sha256_hex(PNG))
        assert list(store.root.rglob("*")) == []
    finally:
        store.root.chmod(0o755)


@pytest.mark.parametrize(
    ("code", "words"),
    [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"), (errno.EACCES, "permission denied")],
)
def test_local_write_fault_is_transient_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    store = LocalStorage(tmp_path / "assets")

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(storage_module.os, "replace", failing_replace)
    with pytest.raises(Transient, match=words) as caught:
        store.put(PNG)
    assert str(store.root) in str(caught.value)
    assert not store.exists(sha256_hex(PNG))
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


@pytest.mark.services
def test_stopped_s3_server_is_transient(s3_endpoint: str) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    store = S3Storage(bucket="tint-stopped", endpoint_url=f"http://{host}:{port}", create_bucket=True)
    sha = store.put(PNG)
    server.stop()
    for call, operation in ((store.get, "read asset"), (store.exists, "look up asset")):
        with pytest.raises(Transient, match=operation) as caught:
            call(sha)
        assert "s3://tint-stopped" in str(caught.value)
    with pytest.raises(Transient, match="(look up|write) asset"):
        store.put(b"other bytes")


@pytest.mark.services
def test_missing_bucket_is_transient_with_advice(s3_endpoint: str) -> None:
    store = S3Storage(bucket="tint-no-such-bucket", endpoint_url=s3_endpoint)
    with pytest.raises(Transient, match="does not exist"):
        store.put(PNG)


@pytest.mark.services
def test_create_bucket_is_idempotent(s3_endpoint: str) -> None:
    S3Storage(bucket="tint-created", endpoint_url=s3_endpoint, create_bucket=True)
    store = S3Storage(bucket="tint-created", endpoint_url=s3_endpoint, create_bucket=True)
    assert store.get(store.put(PNG)) == PNG


@pytest.mark.services
def test_open_storage_s3_url_with_prefix(s3_endpoint: str, s3_bucket: str) -> None:
    store = open_storage(f"s3://{s3_bucket}/studio/a", s3_endpoint=s3_endpoint)
    assert isinstance(store, S3Storage)
    sha = store.put(PNG)
    assert store.key(sha) == f"studio/a/{sha[:2]}/{sha[2:4]}/{sha}"
    listed = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=s3_bucket)
    assert [o["Key"] for o in listed["Contents"]] == [store.key(sha)]


def test_open_storage_directory_and_file_url(tmp_path: Path) -> None:
    plain = open_storage(str(tmp_path / "a"))
    from_url = open_storage((tmp_path / "b").as_uri())
    assert isinstance(plain, LocalStorage) and plain.root == tmp_path / "a"
    assert isinstance(from_url, LocalStorage) and from_url.root == tmp_path / "b"
    assert from_url.root.is_dir()


@pytest.mark.parametrize("url", ["gs://bucket", "s3://", "", "file://otherhost/x"])
def test_open_storage_refuses_what_it_cannot_open(url: str) -> None:
    with pytest.raises(TintError):
        open_storage(url)


def test_local_key_layout(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path)
    sha = store.put(PNG)
    assert store.path(sha) == tmp_path / sha[:2] / sha[2:4] / sha
    assert store.path(sha).read_bytes() == PNG
