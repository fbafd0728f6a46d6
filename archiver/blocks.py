"""The block pipeline: compressing a block with the chosen codec(s) and decoding it back.

Both directions check everything they can: the encoder keeps a block stored when no codec makes
it smaller (so stored_size <= raw_size always holds), and the decoder verifies the payload hash
before the codec sees the payload and the data hash after.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from archiver.codec import Codec, format_codec_spec
from archiver.errors import ChecksumError, CodecError, PyarcError, UsageError
from archiver.format import BlockHeader, xxh3
from archiver.plugins import Registry

STORE = "store"

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
        data = codec.decode(payload, header.raw_size)
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


def ordered_map(function: Callable[[T], R], items: Iterable[T], jobs: int) -> Iterator[R]:
    """map(function, items) on `jobs` threads, results in input order.

    At most 2 x jobs items are in flight, which bounds memory however long the input is.
    The output does not depend on `jobs`.
    """
    if jobs <= 1:
        yield from map(function, items)
        return
    window = 2 * jobs
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="pyarc") as pool:
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
