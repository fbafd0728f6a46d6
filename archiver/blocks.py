"""The block pipeline: compressing a block with the chosen codec(s) and decoding it back.

Both directions check everything they can: the encoder keeps a block stored when no codec makes
it smaller (so stored_size <= raw_size always holds), and the decoder verifies the payload hash
before the codec sees the payload and the data hash after.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from archiver.codec import Codec, format_codec_spec
from archiver.errors import ChecksumError, CodecError, PyarcError, UsageError
from archiver.executors import Workers
from archiver.format import BlockHeader, xxh3
from archiver.plugins import Registry

STORE = "store"
#: The most threads `-j` accepts; worker_count() also never uses more than the cores.
MAX_JOBS = 1024

T = TypeVar("T")
R = TypeVar("R")


#: auto-sample: the sample is SAMPLE_PIECES slices of SAMPLE_PIECE bytes spread over the block
#: (so that a block whose start differs from its middle is judged on both); the
#: SAMPLE_FINALISTS codecs that pack it smallest compress the whole block.
SAMPLE_PIECE = 16 << 10
SAMPLE_PIECES = 4
SAMPLE_FINALISTS = 2


class BlockEncoder:
    """Compresses blocks with one codec, or with several (auto mode) keeping the smallest.

    Candidates are tried in the order given; a later one wins only if strictly smaller, so ties
    go to the earlier (put the faster decoders first). `store` is the fallback for any block
    no candidate shrinks. With `sample`, the candidates are first ranked on a sample of the
    block, and only the best SAMPLE_FINALISTS compress the block itself.
    """

    def __init__(self, candidates: Sequence[Codec], store: Codec, sample: bool = False) -> None:
        if not candidates:
            raise ValueError("at least one candidate codec is needed")
        self.candidates = [codec for codec in candidates if codec.name != STORE]
        self.store = store
        self.sample = sample

    def __reduce__(self) -> tuple[Callable[..., BlockEncoder], tuple[object, ...]]:
        """Pickled as its codec specs (for a worker process or a Dask worker, which builds the
        codecs again from its own installed plugins)."""
        specs = tuple(format_codec_spec(codec.name, codec.options)
                      for codec in [*self.candidates, self.store])
        return _rebuilt_encoder, (specs, self.sample)

    def finalists(self, data: bytes) -> list[Codec]:
        """The candidates to compress `data` with: all, or the best on a sample of it."""
        if not self.sample or len(data) <= SAMPLE_PIECE * SAMPLE_PIECES:
            return self.candidates
        step = (len(data) - SAMPLE_PIECE) // (SAMPLE_PIECES - 1)
        sample = b"".join(data[i * step:i * step + SAMPLE_PIECE] for i in range(SAMPLE_PIECES))
        sizes = [len(codec.encode(sample)) for codec in self.candidates]
        ranked = sorted(range(len(self.candidates)), key=lambda i: (sizes[i], i))
        chosen = sorted(ranked[:SAMPLE_FINALISTS])  # back in candidate (decode speed) order
        return [self.candidates[i] for i in chosen]

    def encode(self, data: bytes) -> tuple[BlockHeader, bytes]:
        best_codec, best_payload = self.store, data
        for codec in self.finalists(data):
            payload = codec.encode(data)
            if len(payload) < len(best_payload):
                best_codec, best_payload = codec, payload
        header = BlockHeader(
            codec=best_codec.name,
            version=best_codec.version,
            options={key: str(value) for key, value in best_codec.options.items()},
            raw_size=len(data),
            stored_size=len(best_payload),
            raw_hash=xxh3(data),
            stored_hash=xxh3(best_payload),
        )
        return header, best_payload


def _rebuilt_encoder(specs: tuple[str, ...], sample: bool) -> BlockEncoder:
    """A pickled BlockEncoder, made again by this process's registry: its candidates, then
    its store; one that fails every block when a codec is not installed here."""
    from archiver.plugins import registry

    try:
        *candidates, store = [registry().create(spec) for spec in specs]
    except PyarcError as error:  # raised by encode, so that the job's owner hears of it
        return _Unavailable(type(error)(f"on a worker: {error}"))
    return BlockEncoder(candidates or [store], store, sample)


class _Unavailable(BlockEncoder):
    """An encoder whose codecs a worker does not have: every block is `error`."""

    def __init__(self, error: PyarcError) -> None:  # (no codecs: nothing to initialise)
        self.error = error

    def encode(self, data: bytes) -> tuple[BlockHeader, bytes]:
        raise self.error


def check_payload(header: BlockHeader, payload: bytes, where: str) -> None:
    """Check a block's payload against its hash, before any codec sees it."""
    if xxh3(payload) != header.stored_hash:
        raise ChecksumError(f"{where}: payload checksum mismatch (the archive is corrupt)")


def decode_block(registry: Registry, header: BlockHeader, payload: bytes, where: str) -> bytes:
    """Return the raw data of a block, verified; `where` names the block in error messages."""
    check_payload(header, payload, where)
    label = format_codec_spec(header.codec, header.options)
    try:
        codec = registry.for_block(header.codec, header.version, header.options)
    except UsageError as error:  # options in a checksummed header that the codec rejects
        raise CodecError(f"{where}: codec {label}: {error}") from None
    try:
        data = codec.decode_version(payload, header.raw_size, header.version)
    except PyarcError as error:
        raise CodecError(f"{where}: codec {label} failed: {error}") from None
    except Exception as error:  # a decoder bug must not escape as a traceback
        raise CodecError(
            f"{where}: codec {label} crashed on this payload ({type(error).__name__}: {error})"
        ) from None
    if not isinstance(data, bytes | bytearray):
        raise CodecError(f"{where}: codec {label} returned {type(data).__name__}, not bytes")
    if len(data) != header.raw_size:
        raise CodecError(
            f"{where}: codec {label} produced {len(data)} bytes, expected {header.raw_size}"
        )
    if xxh3(data) != header.raw_hash:
        raise ChecksumError(f"{where}: data checksum mismatch after decoding with {label}")
    return bytes(data)


@dataclass(frozen=True)
class EncodedBlock:
    """A block as read from an archive, before decoding: its frame header, its payload, where
    it is (for messages), and where its data lies in the data stream."""

    header: BlockHeader
    payload: bytes
    where: str
    data_offset: int = 0

    def decode(self, registry: Registry) -> DataBlock:
        return DataBlock(self.data_offset,
                         decode_block(registry, self.header, self.payload, self.where))

    def check(self) -> None:
        """Verify the payload hash only (for a block that is read but not decoded)."""
        check_payload(self.header, self.payload, self.where)


@dataclass(frozen=True, slots=True)
class DataBlock:
    """The decoded, verified bytes of the data stream from `data_offset` on."""

    data_offset: int
    data: bytes


def _decoded(registry: Registry, item: T | EncodedBlock) -> T | DataBlock:
    return item.decode(registry) if isinstance(item, EncodedBlock) else item


def decode_items(items: Iterable[T | EncodedBlock], registry: Registry,
                 jobs: int | Workers | None = 1) -> Iterator[T | DataBlock]:
    """The items with every EncodedBlock decoded (and verified) on `jobs` threads (or
    Workers), in order; the other items pass through. Decoding runs ahead of the consumer by
    at most 2 x jobs blocks; with `jobs` None, not at all: each block is decoded in the
    calling thread when the consumer asks for it."""
    decoded = functools.partial(_decoded, registry)
    if jobs is None:
        return map(decoded, items)
    return ordered_map(decoded, items, jobs, heavy=lambda item: isinstance(item, EncodedBlock))


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, not only the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(jobs: int) -> int:
    """The threads to use for `jobs` (0: one per core). More threads than cores gain no speed
    and would only hold more blocks in memory, so the count never exceeds the cores."""
    if not 0 <= jobs <= MAX_JOBS:
        raise UsageError(f"--jobs {jobs} is outside 0..{MAX_JOBS}")
    return min(jobs or available_cores(), available_cores())


class _Done:
    """A result computed at once, in the queue beside the futures of the pool."""

    def __init__(self, value: object) -> None:
        self.value = value

    def result(self) -> object:
        return self.value


def ordered_map(function: Callable[[T], R], items: Iterable[T], jobs: int | Workers,
                heavy: Callable[[T], bool] = lambda item: True) -> Iterator[R]:
    """map(function, items) on `jobs` worker threads (or on the Workers given,
    archiver/executors.py: then `function` and the items must pickle), results in input order.

    Items for which `heavy` is false are computed at once in the calling thread (entries that
    only pass through, say), without the cost of a trip through the pool. At most 2 x jobs
    items are in flight, which bounds memory however long the input is; the output does not
    depend on `jobs`. Even for one job the work runs on a worker thread, so that the main
    thread only waits and a signal (Ctrl-C, SIGTERM) interrupts it at once. On any exception
    the pool is abandoned, not waited for: a block still being compressed finishes in the
    background while the error goes on.
    """
    from concurrent.futures import ThreadPoolExecutor  # (here: reading an index needs no pool)

    workers = jobs if isinstance(jobs, Workers) else Workers(jobs)
    window = 2 * max(workers.count, 1)
    own = workers.executor is None  # a pool of this map's own, stopped at its end
    pool = (ThreadPoolExecutor(max_workers=max(workers.count, 1), thread_name_prefix="pyarc")
            if workers.executor is None else workers.executor)
    pending: deque = deque()
    try:
        for item in items:
            pending.append(pool.submit(function, item) if heavy(item) else _Done(function(item)))
            while len(pending) >= window or (pending and isinstance(pending[0], _Done)):
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        if own:
            pool.shutdown(wait=not pending, cancel_futures=True)
        else:
            for future in pending:
                future.cancel()
