"""Prompt embeddings as stored (int8) and the nearest-neighbour index over one prompt log's embeddings.

A vector is stored as ``dim`` signed bytes: the unit vector times 127, rounded (384 bytes for e5-small,
a cosine error under 0.01). Search goes through one :class:`VectorIndex` per store URL and process,
kept in step with ``llmwatch_embeddings`` by row id (rows with a higher id are added on each use):

* **usearch HNSW** (cosine, int8) once the log holds ``EXACT_LIMIT`` vectors and ``usearch`` is
  installed. The index is saved under ``<user data dir>/llmwatch/index/<hash of the URL>.usearch`` with a
  JSON sidecar (model, highest row id included, a check row), reloaded by the next process and
  extended from there; an unreadable or mismatched file (another database at that URL) is rebuilt.
* **exact scan** (numpy, chunked) below that, or without usearch: exact, and under ~20 ms at 20k vectors.

Neither SQLite here (no extension loading, so no sqlite-vec) nor PostgreSQL without pgvector can
search inside the database; a server with pgvector is detected and reported, not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from llmwatch.store.models import embeddings

logger = logging.getLogger("llmwatch")

EXACT_LIMIT = 20_000  # below this many vectors an exact scan is as fast as the index and needs no file
# HNSW graph: 16 links per node; 64 candidates while inserting (a quarter of usearch's default build
# time on 100k clustered vectors); 256 while searching (1M synthetic
# vectors, bench/similar.py: recall@10 0.875 vs 0.835 at 128, for ~1-2 ms more a query).
CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH = 16, 64, 256
_CHUNK = 32_768  # rows per step of the exact scan / per batch read from the table
_SAVE_EVERY = 1_000  # persist the HNSW file again after this many (or 1% more) added vectors


def usearch_available() -> bool:
    return importlib.util.find_spec("usearch") is not None


def encode(vector: Any) -> bytes:
    """``dim`` int8 bytes: ``vector`` normalised to unit length, times 127, rounded."""
    import numpy as np

    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(v))
    if norm > 0:
        v = v / norm
    return bytes(np.clip(np.rint(v * 127.0), -127, 127).astype(np.int8).tobytes())


def decode(blobs: list[bytes], dim: int) -> Any:
    """``(len(blobs), dim)`` int8 array from stored vectors."""
    import numpy as np

    return np.frombuffer(b"".join(blobs), dtype=np.int8).reshape(len(blobs), dim)


def unit(vectors: Any) -> Any:
    """int8 (or any) rows -> unit float32 rows."""
    import numpy as np

    f = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(f, axis=-1, keepdims=True)
    return f / np.where(norms > 0, norms, 1.0)


class ExactIndex:
    """All vectors in memory as int8; a search is a chunked matrix-vector product."""

    path = "exact scan"

    def __init__(self, dim: int) -> None:
        import numpy as np

        self.dim = dim
        self.ids = np.empty(0, dtype=np.int64)
        self.vectors = np.empty((0, dim), dtype=np.int8)
        self.norms = np.empty(0, dtype=np.float32)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def add(self, ids: Any, vectors: Any) -> None:
        import numpy as np

        self.ids = np.concatenate([self.ids, np.asarray(ids, dtype=np.int64)])
        self.vectors = np.concatenate([self.vectors, vectors])
        norms = np.linalg.norm(vectors.astype(np.float32), axis=1)
        self.norms = np.concatenate([self.norms, np.where(norms > 0, norms, 1.0).astype(np.float32)])

    def search(self, query: Any, k: int) -> list[tuple[int, float]]:
        import numpy as np

        n = len(self)
        if n == 0 or k < 1:
            return []
        q = unit(query).reshape(-1)
        sims = np.empty(n, dtype=np.float32)
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            sims[lo:hi] = (self.vectors[lo:hi].astype(np.float32) @ q) / self.norms[lo:hi]
        k = min(k, n)
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(self.ids[i]), float(sims[i])) for i in top]


class HnswIndex:
    """usearch HNSW graph over int8 vectors, cosine metric; keys are embedding row ids."""

    path = "usearch hnsw"

    def __init__(self, dim: int, index: Any = None) -> None:
        self.dim = dim
        self.index = index if index is not None else self.new(dim)

    @staticmethod
    def new(dim: int) -> Any:
        from usearch.index import Index

        return Index(ndim=dim, metric="cos", dtype="i8", connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD,
                     expansion_search=EXPANSION_SEARCH)

    @classmethod
    def restore(cls, file: Path, dim: int) -> HnswIndex:
        index = cls.new(dim)
        index.load(str(file))
        if int(index.ndim) != dim:
            raise ValueError(f"index file has {index.ndim} dimensions, expected {dim}")
        return cls(dim, index)

    def __len__(self) -> int:
        return int(len(self.index))

    def add(self, ids: Any, vectors: Any) -> None:
        import numpy as np

        self.index.add(np.asarray(ids, dtype=np.uint64), vectors, threads=os.cpu_count() or 1)

    def search(self, query: Any, k: int) -> list[tuple[int, float]]:
        import numpy as np

        if len(self) == 0 or k < 1:
            return []
        q = np.frombuffer(encode(query), dtype=np.int8)
        found = self.index.search(q, min(k, len(self)))
        return [(int(key), 1.0 - float(dist)) for key, dist in zip(found.keys, found.distances)]

    def save(self, file: Path) -> None:
        self.index.save(str(file))


def index_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path("llmwatch") / "index"


class VectorIndex:
    """The index over one store's embeddings of one model; :meth:`sync` before :meth:`search`."""

    def __init__(self, url: str, model: str, dim: int, directory: Path | None = None) -> None:
        self.url, self.model, self.dim = url, model, dim
        key = hashlib.sha256(url.encode()).hexdigest()[:16]
        base = (directory or index_dir()) / key
        self.file, self.sidecar = base.with_suffix(".usearch"), base.with_suffix(".json")
        self.impl: ExactIndex | HnswIndex = ExactIndex(dim)
        self.max_id = 0
        self.last_record_id: str | None = None
        self.unsaved = 0
        self.lock = threading.Lock()
        self._loaded = False

    def describe(self) -> str:
        return f"{self.impl.path} ({len(self.impl):,} vectors)"

    # -- keeping in step with the table ---------------------------------------------------------
    def sync(self, conn: sa.Connection) -> int:
        """Add the rows stored since the last sync (returns how many); switch to HNSW past
        ``EXACT_LIMIT``; save the HNSW file after a build and after every ``_SAVE_EVERY`` (or 1%) more."""
        with self.lock:
            if not self._loaded:
                self._loaded = True
                self._restore(conn)
            built = False
            added = 0
            e = embeddings.c
            while True:
                rows = conn.execute(sa.select(e.id, e.record_id, e.vector).where(
                    e.id > self.max_id, e.model == self.model, e.dim == self.dim).order_by(e.id).limit(_CHUNK)
                ).fetchall()
                if not rows:
                    break
                import numpy as np

                self.impl.add(np.array([r[0] for r in rows], dtype=np.int64), decode([r[2] for r in rows], self.dim))
                self.max_id, self.last_record_id = int(rows[-1][0]), rows[-1][1]
                added += len(rows)
                if isinstance(self.impl, ExactIndex) and len(self.impl) >= EXACT_LIMIT and usearch_available():
                    self._to_hnsw()
                    built = True
            if isinstance(self.impl, HnswIndex):
                self.unsaved += added
                if built or self.unsaved >= max(_SAVE_EVERY, len(self.impl) // 100):
                    self._save()
            return added

    def _to_hnsw(self) -> None:
        assert isinstance(self.impl, ExactIndex)
        logger.info("llmwatch: building the usearch index over %d embeddings and those to come", len(self.impl))
        exact, self.impl = self.impl, HnswIndex(self.dim)
        self.impl.add(exact.ids, exact.vectors)

    def _restore(self, conn: sa.Connection) -> None:
        if not (usearch_available() and self.file.is_file() and self.sidecar.is_file()):
            return
        try:
            meta = json.loads(self.sidecar.read_text())
            if (meta.get("model"), meta.get("dim")) != (self.model, self.dim):
                raise ValueError(f"made for {meta.get('model')}/{meta.get('dim')}")
            max_id, rid = int(meta["max_id"]), meta["last_record_id"]
            e = embeddings.c
            if conn.execute(sa.select(e.record_id).where(e.id == max_id)).scalar() != rid:
                raise ValueError("its last row is not in this database (a new database at the same URL?)")
            impl = HnswIndex.restore(self.file, self.dim)
            stored = conn.execute(sa.select(sa.func.count()).select_from(embeddings).where(
                e.model == self.model, e.dim == self.dim)).scalar_one()
            if stored < 0.8 * len(impl):  # pruned calls leave their vectors in the graph: compact
                raise ValueError(f"{len(impl) - stored} of its {len(impl)} vectors were deleted from the table")
        except Exception as exc:  # noqa: BLE001 - any damage: rebuild from the table
            logger.warning("llmwatch: rebuilding the embedding index %s (%s)", self.file, exc)
            return
        self.impl, self.max_id, self.last_record_id = impl, max_id, rid

    def _save(self) -> None:
        assert isinstance(self.impl, HnswIndex)
        tmp: Path | None = None
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.file.parent, suffix=".tmp")
            os.close(fd)
            tmp = Path(name)
            self.impl.save(tmp)
            os.replace(tmp, self.file)
            meta = {"model": self.model, "dim": self.dim, "max_id": self.max_id, "last_record_id": self.last_record_id,
                    "count": len(self.impl)}
            self.sidecar.write_text(json.dumps(meta))
            self.unsaved = 0
        except OSError as exc:  # a read-only data dir: the index still works, rebuilt next process
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            logger.warning("llmwatch: could not save the embedding index to %s: %s", self.file, exc)

    def search(self, vector: Any, k: int) -> list[tuple[int, float]]:
        """``(embedding row id, cosine similarity)``, most similar first."""
        with self.lock:
            return self.impl.search(vector, k)


_indexes: dict[tuple[str, str, int], VectorIndex] = {}
_indexes_lock = threading.Lock()


def index_for(url: str, model: str, dim: int) -> VectorIndex:
    """The process's index for the store at ``url`` (resolved) and one embedding model."""
    key = (url, model, dim)
    with _indexes_lock:
        found = _indexes.get(key)
        if found is None:
            found = _indexes[key] = VectorIndex(url, model, dim)
        return found


def forget_indexes() -> None:
    """Drop the in-process indexes (the files stay); the next use reloads them."""
    with _indexes_lock:
        _indexes.clear()


def describe(url: str, conn: sa.Connection, model: str) -> str:
    """Which search path serves ``url`` and over how many vectors, without building anything."""
    with _indexes_lock:
        live = [ix for (u, m, _d), ix in _indexes.items() if u == url and m == model]
    if live and live[0]._loaded:
        line = live[0].describe()
    else:
        n = int(conn.execute(sa.select(sa.func.count()).select_from(embeddings)
                             .where(embeddings.c.model == model, embeddings.c.dim > 0)).scalar_one())
        hnsw = n >= EXACT_LIMIT and usearch_available()
        line = f"{'usearch hnsw' if hnsw else 'exact scan'} ({n:,} vectors)"
        if n >= EXACT_LIMIT and not hnsw:
            line += "; install usearch for an index: pip install 'llmwatch[similarity]'"
    if conn.dialect.name == "postgresql":
        has_pgvector = conn.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'vector'")).scalar()
        if has_pgvector:
            line += "; pgvector available but not used"
    return line
