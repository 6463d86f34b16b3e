"""The downloader against a local HTTP server: verify, fall back, never leave a bad file."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from saddlepoint.config import DataConfig
from saddlepoint.data import download as dl
from saddlepoint.data import load_dataset
from saddlepoint.errors import SaddlepointError

GOOD = b"the real file contents " * 1000
NAME = "tiny-idx1-ubyte.gz"
REAL_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture
def one_file(monkeypatch):
    """Make `mnist` a dataset of one small file, NAME, with GOOD's checksum."""
    monkeypatch.setitem(dl.CHECKSUMS, "mnist", {NAME: md5(GOOD)})
    monkeypatch.setitem(dl.RAW_CHECKSUMS, "mnist", {})


def contents(folder):
    return sorted(p.name for p in folder.iterdir())


def fails(tmp_path, mirrors):
    with pytest.raises(SaddlepointError) as caught:
        dl.download("mnist", tmp_path, mirrors=mirrors, progress=False)
    return str(caught.value)


def test_good_download(server, one_file, tmp_path):
    server.serve("/a/" + NAME, GOOD)
    target = tmp_path / "new" / "folder"  # created on the way
    assert dl.download("mnist", target, mirrors=[server.base + "a"], progress=True) == target
    assert (target / NAME).read_bytes() == GOOD
    assert contents(target) == [NAME]  # no temporary file left behind
    assert server.hits == ["/a/" + NAME]


def test_corrupt_file_is_rejected_and_not_kept(server, one_file, tmp_path):
    server.serve("/a/" + NAME, GOOD[:-1] + b"X")
    message = fails(tmp_path, [server.base + "a/"])
    assert NAME in message and "checksum" in message and str(tmp_path) in message
    assert contents(tmp_path) == []


def test_short_read_is_rejected_and_not_kept(server, one_file, tmp_path):
    # the server promises more bytes than it sends, then closes the connection
    server.serve("/a/" + NAME, GOOD[:5000], content_length=len(GOOD))
    message = fails(tmp_path, [server.base + "a/"])
    assert NAME in message and f"5,000 of {len(GOOD):,} bytes" in message
    assert contents(tmp_path) == []


def test_falls_back_to_the_next_mirror(server, one_file, tmp_path):
    server.serve("/bad/" + NAME, b"corrupt")
    server.serve("/good/" + NAME, GOOD)
    mirrors = [server.base + "missing/", server.base + "bad/", server.base + "good/"]
    dl.download("mnist", tmp_path, mirrors=mirrors, progress=False)
    assert (tmp_path / NAME).read_bytes() == GOOD and contents(tmp_path) == [NAME]
    assert server.hits == ["/missing/" + NAME, "/bad/" + NAME, "/good/" + NAME]


def test_every_mirror_failing_lists_them(server, one_file, tmp_path):
    message = fails(tmp_path, [server.base + "x/", "http://127.0.0.1:1/"])
    assert "404" in message and "127.0.0.1:1/" + NAME in message
    assert contents(tmp_path) == []


def test_present_file_is_skipped_and_a_wrong_one_replaced(server, one_file, tmp_path):
    server.serve("/a/" + NAME, GOOD)
    (tmp_path / NAME).write_bytes(GOOD)
    dl.download("mnist", tmp_path, mirrors=[server.base + "a/"], progress=False)
    assert server.hits == []
    (tmp_path / NAME).write_bytes(b"damaged")
    dl.download("mnist", tmp_path, mirrors=[server.base + "a/"], progress=False)
    assert server.hits == ["/a/" + NAME] and (tmp_path / NAME).read_bytes() == GOOD


def test_recompressed_or_decompressed_copies_count_as_present(server, monkeypatch, tmp_path):
    raw = b"idx contents" * 100
    published = gzip.compress(raw, mtime=1)
    monkeypatch.setitem(dl.CHECKSUMS, "mnist", {NAME: md5(published)})
    monkeypatch.setitem(dl.RAW_CHECKSUMS, "mnist", {NAME: md5(raw)})
    (tmp_path / NAME).write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))  # other bytes
    dl.download("mnist", tmp_path, mirrors=[server.base], progress=False)
    (tmp_path / NAME).unlink()
    (tmp_path / NAME.removesuffix(".gz")).write_bytes(raw)  # gunzipped by the user
    dl.download("mnist", tmp_path, mirrors=[server.base], progress=False)
    assert server.hits == []


@pytest.mark.parametrize(
    "name, folder",
    [
        ("mnist", REAL_MNIST),
        ("fashion-mnist", Path("/usr/share/datasets/fashion-mnist")),
    ],
)
def test_real_copies_are_recognised_without_the_network(name, folder):
    """The shared MNIST and Debian's Fashion-MNIST are re-compressed: their .gz bytes differ
    from the published files, but their contents match the published uncompressed MD5s."""
    if not folder.is_dir():
        pytest.skip(f"{folder} is not here")
    assert dl.download(name, folder, mirrors=[], progress=False) == folder


def test_ctrl_c_leaves_nothing(server, one_file, monkeypatch, tmp_path):
    class Interrupting:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def update(self, count):
            raise KeyboardInterrupt

    monkeypatch.setattr(dl, "tqdm", Interrupting)
    server.serve("/a/" + NAME, GOOD)
    with pytest.raises(KeyboardInterrupt):
        dl.download("mnist", tmp_path, mirrors=[server.base + "a/"], progress=False)
    assert contents(tmp_path) == []


def test_unknown_dataset():
    with pytest.raises(SaddlepointError, match="cifar10, fashion-mnist, mnist"):
        dl.download("mnist5k", "/nonexistent")


def test_default_target_is_where_the_loaders_look(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert dl.default_target("mnist") == tmp_path / ".cache" / "saddlepoint" / "mnist"
    assert (
        dl.default_target("cifar10") / "cifar-10-batches-py"
        == tmp_path / ".cache" / "saddlepoint" / "cifar10" / "cifar-10-batches-py"
    )


def test_published_checksums_are_complete():
    for name in ("mnist", "fashion-mnist"):
        assert sorted(dl.CHECKSUMS[name]) == sorted(dl.RAW_CHECKSUMS[name])
        assert len(dl.CHECKSUMS[name]) == 4 and len(dl.MIRRORS[name]) >= 2
    assert dl.CHECKSUMS["cifar10"] == {"cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a"}
    every = [
        v for table in (dl.CHECKSUMS, dl.RAW_CHECKSUMS) for d in table.values() for v in d.values()
    ]
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in every) and len(set(every)) == len(every)


# ------------------------------------------------------------------------------------ CIFAR-10


def tarball(members: dict[str, bytes]) -> bytes:
    stream = io.BytesIO()
    with tarfile.open(fileobj=stream, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return stream.getvalue()


def test_cifar10_download_and_unpack(server, monkeypatch, tmp_path, make_cifar):
    source = make_cifar(tmp_path / "source" / "cifar-10-batches-py", per_batch=10)
    archive = tarball(
        {f"cifar-10-batches-py/{p.name}": p.read_bytes() for p in sorted(source.iterdir())}
    )
    monkeypatch.setitem(dl.CHECKSUMS, "cifar10", {"cifar-10-python.tar.gz": md5(archive)})
    server.serve("/kriz/cifar-10-python.tar.gz", archive)
    target = tmp_path / "data"
    folder = dl.download("cifar10", target, mirrors=[server.base + "kriz/"], progress=False)
    assert folder == target / "cifar-10-batches-py"
    assert contents(target) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]
    test = load_dataset(DataConfig(name="cifar10", root=str(target)), "test")
    assert len(test) == 10 and float(test.x[:, 0, 1:].min()) == 1.0  # red, as packed
    # a second call finds the folder complete and fetches nothing
    assert dl.download("cifar10", target, mirrors=[server.base + "kriz/"]) == folder
    assert len(server.hits) == 1


@pytest.mark.parametrize("member", ["../escape.txt", "/tmp/absolute.txt", "elsewhere/x"])
def test_cifar10_archive_with_unsafe_members_is_not_unpacked(server, monkeypatch, tmp_path, member):
    archive = tarball({"cifar-10-batches-py/data_batch_1": b"x", member: b"evil"})
    monkeypatch.setitem(dl.CHECKSUMS, "cifar10", {"cifar-10-python.tar.gz": md5(archive)})
    server.serve("/cifar-10-python.tar.gz", archive)
    target = tmp_path / "data"
    with pytest.raises(SaddlepointError) as caught:
        dl.download("cifar10", target, mirrors=[server.base], progress=False)
    assert member in str(caught.value) and "cifar-10-python.tar.gz" in str(caught.value)
    assert contents(target) == ["cifar-10-python.tar.gz"]  # no folder, no scratch, no escape
    assert contents(tmp_path) == ["data"]
