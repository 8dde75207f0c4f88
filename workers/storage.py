"""Content-addressed asset storage: a local directory or an S3-compatible bucket behind one interface.

An asset's key is the sha256 of its bytes (``ab/cd/<sha256>``, under an optional prefix), so writing the
same bytes twice writes nothing new and a retried job leaves no duplicates. Every read checks the hash.

Faults map onto Tint's error tree: an absent asset or a malformed hash is ``NotFound`` (bad input, the
job fails now); a disk, network or server fault is ``Transient`` (the job retries); bytes that do not
match their key are ``AssetCorrupt``.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

from pipeline.errors import AssetCorrupt, NotFound, TintError, Transient

if TYPE_CHECKING:
    from botocore.client import BaseClient

__all__ = ["Storage", "LocalStorage", "S3Storage", "open_storage", "sha256_hex"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
_T = TypeVar("_T")


def sha256_hex(data: bytes) -> str:
    """The sha256 of `data` as 64 lowercase hex digits: the asset's content address."""
    return hashlib.sha256(data).hexdigest()


class Storage(ABC):
    """Content-addressed blobs: put bytes, get them back by their sha256."""

    prefix: str = ""

    def key(self, sha256: str) -> str:
        """Where the asset lives in the store: ``[prefix/]ab/cd/<sha256>``."""
        # Checked before any key or path is built, so a value like "../../etc" never reaches the disk.
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise NotFound(
                f"asset id {sha256!r} is not a sha256 (64 lowercase hex digits), so no asset in "
                f"{self.describe()} has it."
            )
        key = f"{sha256[:2]}/{sha256[2:4]}/{sha256}"
        return f"{self.prefix}/{key}" if self.prefix else key

    @abstractmethod
    def put(self, data: bytes, *, media_type: str = "image/png", fresh: bool = False) -> str:
        """Store `data` and return its sha256; bytes already stored are not written again.

        fresh=True: the caller expects new bytes (a job's outputs), so an object store skips the lookup
        round trip and writes; writing bytes that were there after all is harmless (same key, same bytes).
        """

    @abstractmethod
    def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256`, verified; NotFound when absent, AssetCorrupt when altered."""

    @abstractmethod
    def exists(self, sha256: str) -> bool:
        """True when an asset is stored under `sha256` (its bytes are not verified)."""

    @abstractmethod
    def url(self, sha256: str, *, expires_s: int = 3600) -> str:
        """A URL a client can fetch the asset from (S3: presigned GET; local: file://)."""

    @abstractmethod
    def describe(self) -> str:
        """One line naming the store, for messages and logs."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


def _verified(data: bytes, *, sha256: str, where: str) -> bytes:
    actual = sha256_hex(data)
    if actual != sha256:
        raise AssetCorrupt(
            f"asset {sha256} in {where} holds {len(data)} bytes whose sha256 is {actual}; the stored object "
            "was altered or truncated. Re-run the job that produced it, or restore it from a backup."
        )
    return data


class LocalStorage(Storage):
    """Assets as files in a local directory (the embedded default); writes are atomic renames."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._fault(exc, doing="create the asset directory") from exc

    def describe(self) -> str:
        return f"local directory {self.root}"

    def path(self, sha256: str) -> Path:
        """The file that holds the asset."""
        return self.root / self.key(sha256)

    def put(self, data: bytes, *, media_type: str = "image/png", fresh: bool = False) -> str:
        sha = sha256_hex(data)
        path = self.path(sha)
        if self._holds(path, sha):
            return sha
        # Written to a temporary name in the same directory, flushed to disk, then renamed over the key:
        # readers see either no file or the whole file, never a partial one.
        tmp = path.parent / f".{sha}.{uuid.uuid4().hex}.tmp"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            with suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise self._fault(exc, doing=f"write asset {sha}") from exc
        self._sync_dir(path.parent)
        return sha

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"asset {sha256} is not in {self.describe()} (no file {path}).") from None
        except OSError as exc:
            raise self._fault(exc, doing=f"read asset {sha256}") from exc
        return _verified(data, sha256=sha256, where=self.describe())

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def url(self, sha256: str, *, expires_s: int = 3600) -> str:
        return self.path(sha256).as_uri()

    def _holds(self, path: Path, sha: str) -> bool:
        # A file already under the key counts only when its bytes match, so a put heals a damaged asset.
        try:
            return sha256_hex(path.read_bytes()) == sha
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._fault(exc, doing=f"read asset {sha}") from exc

    @staticmethod
    def _sync_dir(directory: Path) -> None:
        # Makes the rename itself durable; some filesystems cannot fsync a directory, which is harmless.
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def _fault(self, exc: OSError, *, doing: str) -> Transient:
        where = self.describe()
        if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
            advice = "the disk is full (or over quota); free space there or point TINT_STORAGE_URL elsewhere."
        elif exc.errno == errno.EROFS:
            advice = (
                "it is on a read-only filesystem; mount it read-write or point TINT_STORAGE_URL elsewhere."
            )
        elif exc.errno in (errno.EACCES, errno.EPERM):
            advice = (
                f"permission denied to this process (uid {os.geteuid()}); give it read and write access "
                "to the directory or point TINT_STORAGE_URL elsewhere."
            )
        else:
            advice = f"{exc.strerror or exc}."
        return Transient(f"could not {doing} in {where}: {advice}")


class S3Storage(Storage):
    """Assets as objects in an S3-compatible bucket (AWS S3, MinIO, moto…), through one boto3 client."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        create_bucket: bool = False,
    ) -> None:
        if not bucket:
            raise TintError("S3 storage needs a bucket name, as in s3://tint-assets.")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        import boto3  # here, not at module import: commands that never touch S3 skip its ~0.15 s import
        from botocore.config import Config

        config = Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            signature_version="s3v4",  # presigned URLs too; SigV2 is refused by newer AWS regions
            # Path-style addressing works with every S3-compatible server (MinIO, moto) on a custom endpoint.
            s3={"addressing_style": "path"} if endpoint_url else None,
            # Only the checksums every S3-compatible server accepts: the sha256 check on read covers the rest.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A session of its own: boto3's default session is not thread-safe, a client is.
        session = boto3.session.Session()
        self._client = session.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
        if create_bucket:
            self._create_bucket()

    @property
    def client(self) -> BaseClient:
        """The boto3 S3 client this store uses (shared by threads; boto3 clients are thread-safe)."""
        return self._client

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        return f"{where} at {self._client.meta.endpoint_url}"

    def put(self, data: bytes, *, media_type: str = "image/png", fresh: bool = False) -> str:
        sha = sha256_hex(data)
        key = self.key(sha)
        if not fresh and self._holds(key, size=len(data), sha=sha):
            return sha
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode("ascii")
        self._call(
            f"write asset {sha}",
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=media_type,
            ContentMD5=md5,  # the server refuses bytes damaged on the way
            Metadata={"sha256": sha},
        )
        return sha

    def get(self, sha256: str) -> bytes:
        key = self.key(sha256)
        doing = f"read asset {sha256}"
        try:
            response = self._call(doing, self._client.get_object, Bucket=self.bucket, Key=key)
        except _Absent:
            raise NotFound(f"asset {sha256} is not in {self.describe()} (no object {key}).") from None
        body = response["Body"]
        try:
            data = self._call(doing, body.read)
        finally:
            body.close()
        return _verified(data, sha256=sha256, where=self.describe())

    def exists(self, sha256: str) -> bool:
        key = self.key(sha256)
        try:
            self._call(f"look up asset {sha256}", self._client.head_object, Bucket=self.bucket, Key=key)
        except _Absent:
            return False
        return True

    def url(self, sha256: str, *, expires_s: int = 3600) -> str:
        key = self.key(sha256)
        return self._call(
            f"sign a URL for asset {sha256}",
            self._client.generate_presigned_url,
            ClientMethod="get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=expires_s,
        )

    def _holds(self, key: str, *, size: int, sha: str) -> bool:
        # Same key means same bytes; the size check catches an object truncated behind the store's back.
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            # 403 is what S3 answers for an absent key when the caller may not list the bucket (a
            # put/get-only policy); writing the same bytes again is harmless, so write.
            if _code(exc) in _MISSING_CODES or _status(exc) == 403:
                return False
            raise self._fault(exc, doing=f"look up asset {sha}") from exc
        except BotoCoreError as exc:
            raise self._fault(exc, doing=f"look up asset {sha}") from exc
        return head.get("ContentLength") == size

    def _create_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _status(exc) != 404 and _code(exc) not in ("NoSuchBucket", *_MISSING_CODES):
                raise self._fault(exc, doing="look up the bucket") from exc
        except BotoCoreError as exc:
            raise self._fault(exc, doing="look up the bucket") from exc
        region = self._client.meta.region_name
        extra: dict[str, Any] = {}
        if region and region not in ("us-east-1", "aws-global"):
            extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self._client.create_bucket(Bucket=self.bucket, **extra)
        except ClientError as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise self._fault(exc, doing="create the bucket") from exc
        except BotoCoreError as exc:
            raise self._fault(exc, doing="create the bucket") from exc

    def _call(self, doing: str, fn: Callable[..., _T], /, **kwargs: Any) -> _T:
        """Run one client call: _Absent when the object is not there, Transient for a fault of the service."""
        try:
            return fn(**kwargs)
        except ClientError as exc:
            if _code(exc) in _MISSING_CODES:
                raise _Absent from exc
            raise self._fault(exc, doing=doing) from exc
        except BotoCoreError as exc:
            raise self._fault(exc, doing=doing) from exc

    def _fault(self, exc: Exception, *, doing: str) -> Transient:
        where = self.describe()
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return Transient(
                f"could not {doing} in {where}: no S3 credentials; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or an AWS profile) for the worker."
            )
        if isinstance(exc, ClientError):
            code = _code(exc)
            if code == "NoSuchBucket":
                return Transient(
                    f"could not {doing} in {where}: bucket {self.bucket!r} does not exist; create it "
                    "(for example `mc mb`) or set TINT_S3_CREATE_BUCKET=1."
                )
            if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403"):
                return Transient(
                    f"could not {doing} in {where}: the server refused the credentials ({code}); check "
                    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's policy."
                )
            return Transient(f"could not {doing} in {where}: the server answered {_status(exc)} {code}.")
        # Connection refused, timeouts, a dropped connection mid-body: the service may come back.
        return Transient(f"could not {doing} in {where}: {exc}; is the S3 server up and reachable?")


class _Absent(Exception):
    """The S3 object asked for does not exist (turned into NotFound or False by the caller)."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int | None:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def open_storage(url: str, *, s3_endpoint: str | None = None, create_bucket: bool = False) -> Storage:
    """The store named by `url`: ``s3://bucket[/prefix]`` for S3, else a directory (``file://`` accepted)."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise TintError(f"storage URL {url!r} names no bucket; write it as s3://bucket[/prefix].")
        return S3Storage(
            bucket=parts.netloc,
            prefix=unquote(parts.path),
            endpoint_url=s3_endpoint or None,
            create_bucket=create_bucket,
        )
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise TintError(f"storage URL {url!r} names host {parts.netloc!r}; file:// URLs must be local.")
        return LocalStorage(Path(url2pathname(parts.path)))
    if "://" in url:
        raise TintError(
            f"storage URL {url!r} has scheme {parts.scheme!r}; use s3://bucket[/prefix] or a directory path."
        )
    if not url:
        raise TintError("storage URL is empty; use s3://bucket[/prefix] or a directory path.")
    return LocalStorage(Path(url))
