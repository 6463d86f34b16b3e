"""Fetch a dataset's files from its public mirrors, verify them, and only then put them in place.

`download(name, to)` is what `saddlepoint data download NAME --to DIR` runs; loaders never
download anything themselves. For each file of the dataset:

1. skip it when it is already there with the published checksum (MNIST and Fashion-MNIST: or
   when its decompressed contents match, as for re-compressed copies such as Debian's);
2. otherwise try the mirrors in order, streaming into a hidden temporary file in the target
   folder while computing its MD5; a failed request, a short read (fewer bytes than the
   Content-Length) or a checksum mismatch moves on to the next mirror;
3. move the verified file into place with os.replace. The temporary file is deleted on any
   failure, Ctrl-C included, so a partial or corrupt file never sits under the final name.

CIFAR-10's tarball is then unpacked (members checked, tarfile's "data" filter) into
`<to>/cifar-10-batches-py/`, again via a temporary folder.

The tables below are module-level dicts keyed by dataset so that tests can substitute them.
Checksums are the MD5s published with each dataset (and used by torchvision).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from saddlepoint.data import cifar10
from saddlepoint.data.idx import cache_root
from saddlepoint.errors import SaddlepointError

MIRRORS: dict[str, list[str]] = {  # dataset -> base URLs, tried in order
    "mnist": [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",  # the historical home; often refuses downloads now
    ],
    "fashion-mnist": [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ],
    "cifar10": ["https://www.cs.toronto.edu/~kriz/"],
}

CHECKSUMS: dict[str, dict[str, str]] = {  # dataset -> {file name: MD5 of the file as published}
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "cifar10": {"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"},
}

RAW_CHECKSUMS: dict[str, dict[str, str]] = {  # dataset -> {.gz name: MD5 of its contents}
    "mnist": {
        "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte.gz": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte.gz": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte.gz": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}

EXTRACT: dict[str, tuple[str, str]] = {  # dataset -> (archive, the folder it unpacks to)
    "cifar10": ("cifar-10-python.tar.gz", cifar10.FOLDER),
}

CHUNK = 1 << 20  # bytes read per step
TIMEOUT = 60  # seconds without data before a mirror counts as failed
USER_AGENT = "saddlepoint (python urllib)"


def default_target(name: str) -> Path:
    """Where `download(name)` writes when `to` is not given: ~/.cache/saddlepoint/NAME.

    The loaders look there by default (for cifar10: in its cifar-10-batches-py sub-folder).
    """
    return Path(cache_root(name))


def file_md5(path: str | os.PathLike, *, gunzip: bool = False) -> str:
    """MD5 of a file's bytes, or of its decompressed bytes when gunzip=True."""
    digest = hashlib.md5(usedforsecurity=False)
    opener = gzip.open if gunzip else open
    with opener(path, "rb") as stream:
        while block := stream.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def is_present(path: Path, md5: str, raw_md5: str | None = None) -> bool:
    """Whether `path` already holds the right file: the published MD5, or (raw_md5 given) a
    decompressed copy beside it or a re-compressed copy whose contents match."""
    try:
        if path.is_file() and file_md5(path) == md5:
            return True
        if raw_md5 is not None:
            raw = path.with_suffix("")  # train-images-idx3-ubyte.gz -> train-images-idx3-ubyte
            if raw.is_file() and file_md5(raw) == raw_md5:
                return True
            if path.is_file() and file_md5(path, gunzip=True) == raw_md5:
                return True
    except (OSError, EOFError, zlib.error):  # unreadable or not gzip: not present
        return False
    return False


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"unreachable ({error.reason})"
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed early"
    return f"{type(error).__name__}: {error}"


def _fetch_once(url: str, md5: str, final: Path, progress: bool) -> str | None:
    """Stream url into a temporary file beside `final`; None on success, else what went wrong.

    Only a verified file is moved to `final`; the temporary file never outlives this call.
    """
    handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        received = 0
        with os.fdopen(handle, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                length = response.headers.get("Content-Length")
                expected = int(length) if length and length.strip().isdigit() else None
                with tqdm(
                    total=expected,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=final.name,
                    disable=not progress,
                ) as bar:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        if expected is not None and received != expected:
            return f"the connection closed after {received:,} of {expected:,} bytes"
        if digest.hexdigest() != md5:
            return f"checksum mismatch (MD5 {digest.hexdigest()}, expected {md5})"
        os.replace(temporary, final)
        return None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def fetch(filename: str, md5: str, mirrors: list[str], folder: Path, progress: bool) -> Path:
    """Download `filename` from the first mirror that delivers it intact, into `folder`."""
    final = folder / filename
    failures = []
    for base in mirrors:
        url = base if base.endswith("/") else base + "/"
        url += filename
        try:
            problem = _fetch_once(url, md5, final, progress)
        except (OSError, http.client.HTTPException, ValueError) as error:
            problem = _describe(error)
        if problem is None:
            return final
        failures.append(f"{url}: {problem}")
    raise SaddlepointError(
        f"could not download {filename} from any mirror ({'; '.join(failures) or 'none given'}), "
        f"so nothing was saved as {final}: check your internet connection and run the command "
        f"again, or fetch the file by hand into {folder}."
    )


def _check_member(member: tarfile.TarInfo, folder: str, archive: Path) -> None:
    """Refuse absolute paths, '..', links and devices, and anything outside `folder`."""
    path = PurePosixPath(member.name)
    safe = (
        not path.is_absolute()
        and ".." not in path.parts
        and path.parts[:1] == (folder,)
        and (member.isfile() or member.isdir())
    )
    if not safe:
        raise SaddlepointError(
            f"{archive} contains {member.name!r}, which is not a plain file inside {folder}/, "
            f"so it was not unpacked: delete the archive and download it again."
        )


def _missing(folder: Path) -> list[str]:
    names = (*cifar10.TRAIN_BATCHES, cifar10.TEST_BATCH, cifar10.META)
    return [name for name in names if not (folder / name).is_file()]


def extract(archive: Path, target: Path, folder: str) -> Path:
    """Unpack a .tar.gz whose members all lie in `folder` into target/folder, atomically."""
    final = target / folder
    if final.exists():
        raise SaddlepointError(
            f"{final} already exists but is incomplete (missing {', '.join(_missing(final))}): "
            f"delete it and run the command again."
        )
    scratch = Path(tempfile.mkdtemp(dir=target, prefix=f".{folder}.", suffix=".part"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                _check_member(member, folder, archive)
            if hasattr(tarfile, "data_filter"):  # Python >= 3.12, 3.11.4, 3.10.12
                tar.extractall(scratch, members=members, filter="data")
            else:  # pragma: no cover - the members were checked above
                tar.extractall(scratch, members=members)
        os.replace(scratch / folder, final)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise SaddlepointError(
            f"{archive} could not be unpacked ({error}): delete it and run the command again."
        ) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def download(
    name: str,
    to: str | os.PathLike | None = None,
    *,
    mirrors: list[str] | None = None,
    progress: bool = True,
) -> Path:
    """Download dataset `name` (mnist, fashion-mnist, cifar10) into folder `to`; return the
    folder to use as data.root.

    `to` defaults to `default_target(name)`, where the loaders look by default. `mirrors`
    replaces the dataset's base URLs (each + file name is fetched). Files already present and
    intact are not fetched again. Returns `to` itself for MNIST-like sets and
    `to/cifar-10-batches-py` for cifar10.
    """
    if name not in CHECKSUMS:
        raise SaddlepointError(
            f"there is no download for {name!r}; choose one of: {', '.join(sorted(CHECKSUMS))}."
        )
    target = Path(to).expanduser() if to is not None else default_target(name)
    if name in EXTRACT and not _missing(target / EXTRACT[name][1]):
        return target / EXTRACT[name][1]  # already unpacked
    raw = RAW_CHECKSUMS.get(name, {})
    needed = {
        filename: md5
        for filename, md5 in CHECKSUMS[name].items()
        if not is_present(target / filename, md5, raw.get(filename))
    }
    if needed:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SaddlepointError(
                f"cannot create the folder {target} ({error.strerror}): "
                f"choose another with --to DIR."
            ) from None
        if not os.access(target, os.W_OK):
            raise SaddlepointError(
                f"{target} is not writable: choose another folder with --to DIR."
            )
    bases = MIRRORS[name] if mirrors is None else list(mirrors)
    for filename, md5 in needed.items():
        fetch(filename, md5, bases, target, progress)
    if name in EXTRACT:
        archive, folder = EXTRACT[name]
        return extract(target / archive, target, folder)
    return target
