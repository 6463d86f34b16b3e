"""Writers of tiny dataset files in the real formats (IDX, Python 2 CIFAR pickles, PNG/JPEG),
and a local HTTP server for the downloader tests."""

from __future__ import annotations

import gzip
import http.server
import io
import pickle
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

# ------------------------------------------------------------------------------------------ IDX


def write_idx(path: Path, array: np.ndarray, *, magic: int | None = None) -> Path:
    """Write a uint8 array as IDX (gzipped when path ends in .gz): big-endian header, then data."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x0800 | array.ndim
    payload = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += array.tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)
    return path


def idx_folder(
    folder: Path,
    *,
    train: int = 10_005,
    test: int = 7,
    gz: bool = True,
    shape: tuple[int, int] = (2, 3),
) -> tuple[np.ndarray, ...]:
    """Write the four IDX files of an MNIST-like set with distinct, checkable values.

    Image i holds i % 256 everywhere except pixel (0, 0) = 255 for even i and 0 for odd i;
    labels are i % 10 (training) and (i + 3) % 10 (test). Returns the four arrays.
    """
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    arrays = []
    for prefix, count, shift in (("train", train, 0), ("t10k", test, 3)):
        images = np.broadcast_to((np.arange(count) % 256)[:, None, None], (count, *shape)).copy()
        images[:, 0, 0] = np.where(np.arange(count) % 2 == 0, 255, 0)
        labels = (np.arange(count) + shift) % 10
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels)
        arrays += [images.astype(np.uint8), labels.astype(np.uint8)]
    return tuple(arrays)


# -------------------------------------------------------------------------------------- CIFAR


class Py2Pickler(pickle._Pickler):
    """Pickles the way Python 2's cPickle wrote the CIFAR-10 files: every str and bytes as a
    (SHORT_)BINSTRING, protocol 2, numpy arrays through numpy.core.multiarray._reconstruct."""

    dispatch: ClassVar[dict] = dict(pickle._Pickler.dispatch)

    def save_bytes(self, obj: bytes) -> None:
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    def save_str(self, obj: str) -> None:
        self.save_bytes(obj.encode("latin-1"))

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def py2_pickle(obj: object) -> bytes:
    stream = io.BytesIO()
    Py2Pickler(stream, protocol=2).dump(obj)
    # numpy 2 names its module numpy._core; the real files (numpy 1, 2009) say numpy.core.
    return stream.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


CIFAR_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def cifar_batch(count: int, start: int) -> tuple[np.ndarray, list[int]]:
    """(count, 3072) uint8 rows: image j is all red (R=255, G=B=0) with its number start + j
    in the red value of pixel (row 0, column 1) and 7 in green pixel (row 1, column 0)."""
    data = np.zeros((count, 3, 32, 32), dtype=np.uint8)
    data[:, 0] = 255
    data[:, 0, 0, 1] = (start + np.arange(count)) % 256
    data[:, 1, 1, 0] = 7
    labels = [(start + j) % 10 for j in range(count)]
    return data.reshape(count, 3072), labels


def cifar_folder(folder: Path, per_batch: int = 20) -> Path:
    """A cifar-10-batches-py folder with per_batch images in each of the six batches."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for index, name in enumerate(names):
        data, labels = cifar_batch(per_batch, index * per_batch)
        batch = {
            "batch_label": f"batch {index + 1}",
            "labels": labels,
            "data": data,
            "filenames": [f"image_{j}.png" for j in range(per_batch)],
        }
        (folder / name).write_bytes(py2_pickle(batch))
    meta = {"label_names": CIFAR_NAMES, "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(py2_pickle(meta))
    return folder


# ------------------------------------------------------------------------------- HTTP server


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_length: int | None = None  # None: len(body); larger: the server closes early


@dataclass
class Server:
    base: str  # http://127.0.0.1:PORT/
    routes: dict[str, Route] = field(default_factory=dict)  # "/a/file" -> Route
    hits: list[str] = field(default_factory=list)  # paths requested, in order

    def serve(
        self, path: str, body: bytes, *, status: int = 200, content_length: int | None = None
    ) -> str:
        """Serve body at path ("/a/file"); return its full URL."""
        self.routes[path] = Route(body, status, content_length)
        return self.base + path.lstrip("/")


def _handler(server: Server) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.hits.append(self.path)
            route = server.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            self.send_response(route.status)
            length = len(route.body) if route.content_length is None else route.content_length
            self.send_header("Content-Length", str(length))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(route.body)
            self.close_connection = True

        def log_message(self, *args: object) -> None:  # keep pytest output quiet
            pass

    return Handler


@pytest.fixture
def server() -> Iterator[Server]:
    """An HTTP server on 127.0.0.1 (a free port) in a thread, serving `server.routes`."""
    state = Server(base="")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# ------------------------------------------------------------------- fixtures for the helpers


@pytest.fixture
def make_idx() -> Callable[..., tuple[np.ndarray, ...]]:
    return idx_folder


@pytest.fixture
def make_cifar() -> Callable[..., Path]:
    return cifar_folder


@pytest.fixture
def pickle_py2() -> Callable[[object], bytes]:
    return py2_pickle


@pytest.fixture
def idx_writer() -> Callable[..., Path]:
    return write_idx
