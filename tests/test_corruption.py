"""Corrupt archives: every reader either refuses them with a clear PyarcError or returns the
original data, never another exception and never wrong data.

Two small archives are mutated at EVERY byte position: one bit flipped (0x01, and separately
0x80), and truncated there. Each mutant goes through every reader:

  (a) the index reader: `open_archive`, list, then read every file entry;
  (b) the stream reader: `archiver.api.test` (decodes everything, cross-checks index and footer);
  (c) `archiver.decompress` for the archive made by `archiver.compress`.

Every byte of an archive is covered by some checksum, so the stream readers must detect every
mutation. The index reader never reads entry frames (the index holds the same information),
so a flip inside an entry frame may leave it returning the original data, and a flip inside a
block's payload must still let it list the archive: only reading that entry fails. `unpack`,
which also reads through the index, checks the entry frames of what it extracts, so it refuses
every flip inside an entry frame, before it writes anything.
"""

from __future__ import annotations

import io
import os
import shutil
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import xxhash

import archiver
from archiver import FormatError, PyarcError, UnsupportedVersionError
from archiver.format import (
    FOOTER_SIZE,
    FRAME_BLOCK,
    FRAME_ENTRY,
    FRAME_INDEX,
    HEADER_SIZE,
    MAX_BLOCK_SIZE,
    FrameHead,
    Kind,
    parse_frame,
)
from archiver.reader import StreamReader

BLOCK_SIZE = 1024
KEYWORDS = ("offset", "header", "footer", "index", "truncated", "checksum")


# -- the two archives and a map of their frames ----------------------------------------------


@dataclass
class Region:
    start: int
    end: int
    kind: str  # "header", "entry", "block-head", "payload", "index", "footer"
    path: str = ""  # the entry a block belongs to


@dataclass
class Sample:
    name: str
    blob: bytes
    files: dict[str, bytes]  # file path -> data
    listing: list[tuple[str, Kind, int, int, int, str]]
    regions: list[Region] = field(default_factory=list)
    single: bool = False

    def region_at(self, position: int) -> Region:
        for region in self.regions:
            if region.start <= position < region.end:
                return region
        raise AssertionError(f"byte {position} is in no region")


def listing_of(entries: list[archiver.format.Entry]) -> list[tuple]:
    return [(e.path, e.kind, e.mode, e.mtime_ns, e.size, e.target) for e in entries]


def frame_map(blob: bytes) -> list[Region]:
    """Split a clean archive into its header, frames (block payloads apart) and footer."""
    regions = [Region(0, HEADER_SIZE, "header")]
    stream = io.BytesIO(blob)
    stream.seek(HEADER_SIZE)
    path = ""
    while True:
        start = stream.tell()
        frame = parse_frame(stream, start)
        end = stream.tell()
        if frame.entry is not None:
            path = frame.entry.path
            regions.append(Region(start, end, "entry", path))
        elif frame.block is not None:
            payload = end - frame.block.stored_size
            regions.append(Region(start, payload, "block-head", path))
            if payload < end:
                regions.append(Region(payload, end, "payload", path))
        else:
            regions.append(Region(start, end, "index"))
            break
    regions.append(Region(end, len(blob), "footer"))
    assert end + FOOTER_SIZE == len(blob)
    return regions


@pytest.fixture(scope="module")
def tree_sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("tree")
    top = root / "d"
    (top / "e").mkdir(parents=True)
    big = bytes((i * 7 + 3) % 251 for i in range(2 * BLOCK_SIZE + 1))  # 3 blocks
    (top / "big").write_bytes(big)
    (top / "e" / "s").write_bytes(b"small file\n")
    os.symlink("e/s", top / "l")
    archive = root / "tree.pyarc"
    archiver.pack([top], archive, codec="store", block_size=BLOCK_SIZE)
    blob = archive.read_bytes()
    with archiver.open_archive(archive) as opened:
        listing = listing_of(opened.entries)
        files = {e.path: opened.read(e) for e in opened.entries if e.kind == Kind.FILE}
        assert [len(opened.blocks_of(e)) for e in opened.entries if e.path == "d/big"] == [3]
    assert files == {"d/big": big, "d/e/s": b"small file\n"}
    assert {kind for _, kind, *_ in listing} == {Kind.FILE, Kind.DIRECTORY, Kind.SYMLINK}
    return Sample("tree", blob, files, listing, frame_map(blob))


@pytest.fixture(scope="module")
def single_sample() -> Sample:
    data = b"The quick brown fox jumps over the lazy dog. " * 23  # 1035 bytes: 2 blocks
    blob = archiver.compress(data, "store", block_size=BLOCK_SIZE)
    assert archiver.decompress(blob) == data
    listing = [("", Kind.FILE, 0o644, 0, len(data), "")]
    return Sample("single", blob, {"": data}, listing, frame_map(blob), single=True)


# -- the readers ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one reader did with one mutant: errors raised (by step) and data it returned."""

    errors: dict[str, BaseException] = field(default_factory=dict)
    listed: bool = False
    wrong: list[str] = field(default_factory=list)  # descriptions of wrong results


def read_by_index(path: Path, sample: Sample) -> Outcome:
    outcome = Outcome()
    try:
        opened = archiver.open_archive(path)
    except BaseException as error:  # noqa: BLE001 (judged by the caller)
        outcome.errors["open"] = error
        return outcome
    with opened:
        if listing_of(opened.entries) != sample.listing:
            outcome.wrong.append("listing differs")
            return outcome
        outcome.listed = True
        for entry in opened.entries:
            if entry.kind != Kind.FILE:
                continue
            try:
                data = opened.read(entry)
            except BaseException as error:  # noqa: BLE001
                outcome.errors[entry.path] = error
                continue
            if data != sample.files[entry.path]:
                outcome.wrong.append(f"read({entry.path!r}) returned wrong data")
    return outcome


def read_by_stream(path: Path, sample: Sample) -> Outcome:
    outcome = Outcome()
    try:
        stats = archiver.api.test(path)
    except BaseException as error:  # noqa: BLE001
        outcome.errors["test"] = error
        return outcome
    if stats.entries != len(sample.listing) or stats.bytes != sum(map(len, sample.files.values())):
        outcome.wrong.append(f"test() counted {stats}")
    return outcome


def read_by_decompress(blob: bytes, sample: Sample) -> Outcome:
    outcome = Outcome()
    try:
        data = archiver.decompress(blob)
    except BaseException as error:  # noqa: BLE001
        outcome.errors["decompress"] = error
        return outcome
    if data != sample.files[""]:
        outcome.wrong.append("decompress returned wrong data")
    return outcome


def message_problems(error: BaseException) -> list[str]:
    """The ways an error breaks the rule: a PyarcError with a one-line message naming what
    failed."""
    if not isinstance(error, PyarcError):
        return [f"raised {type(error).__name__}: {error}"]
    message = str(error)
    problems = []
    if not message.strip() or "\n" in message:
        problems.append(f"message is not one line: {message!r}")
    if not any(word in message for word in KEYWORDS):
        problems.append(f"message names nothing that failed: {message!r}")
    return problems


# -- the sweeps -------------------------------------------------------------------------------


def flipper(mask: int) -> Callable[[bytes, int], bytes]:
    def flip(blob: bytes, position: int) -> bytes:
        mutant = bytearray(blob)
        mutant[position] ^= mask
        return bytes(mutant)

    return flip


MUTATIONS: dict[str, Callable[[bytes, int], bytes]] = {
    "xor 0x01": flipper(0x01),
    "xor 0x80": flipper(0x80),
    "truncate": lambda blob, position: blob[:position],
}


def judge(sample: Sample, mutation: str, position: int, path: Path) -> Iterator[str]:
    """Every way the readers break the rules on one mutant."""
    mutant = MUTATIONS[mutation](sample.blob, position)
    path.write_bytes(mutant)
    region = sample.region_at(position)
    truncated = mutation == "truncate"

    by_index = read_by_index(path, sample)
    outcomes = {"index reader": by_index, "test()": read_by_stream(path, sample)}
    if sample.single:
        outcomes["decompress()"] = read_by_decompress(mutant, sample)
    for reader, outcome in outcomes.items():
        for step, error in outcome.errors.items():
            yield from (f"{reader} [{step}] {p}" for p in message_problems(error))
        yield from (f"{reader}: {w}" for w in outcome.wrong)
        undetected = not outcome.errors and not outcome.wrong
        # The index reader never reads entry frames; every other byte is checksummed for it,
        # and every byte is checksummed for the stream readers.
        if undetected and (truncated or reader != "index reader" or region.kind != "entry"):
            yield f"{reader}: the mutation went undetected"

    if region.kind == "payload" and not truncated:
        if not by_index.listed:
            yield f"index reader: a damaged payload prevented listing ({by_index.errors})"
        elif set(by_index.errors) != {region.path}:
            yield (f"index reader: a damaged payload of {region.path!r} made reading "
                   f"{sorted(by_index.errors)} fail")


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("which", ["tree", "single"])
def test_every_mutation_is_refused_or_harmless(
    which: str, mutation: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    sample: Sample = request.getfixturevalue(f"{which}_sample")
    path = tmp_path / "mutant.pyarc"
    problems: list[str] = []
    for position in range(len(sample.blob)):
        for problem in judge(sample, mutation, position, path):
            region = sample.region_at(position)
            problems.append(f"byte {position} ({region.kind} {region.path}): {problem}")
    assert not problems, f"{len(problems)} problems, e.g.:\n" + "\n".join(problems[:15])


def test_unpack_refuses_every_damaged_entry_frame(tree_sample: Sample, single_sample: Sample,
                                                  tmp_path: Path) -> None:
    """The index reader's `read` never looks at entry frames, but `unpack` checks the frame of
    every entry it extracts: one flipped bit in any entry frame, and it writes nothing."""
    path, dest = tmp_path / "mutant.pyarc", tmp_path / "out"
    problems = []
    for sample in (tree_sample, single_sample):
        for region in (r for r in sample.regions if r.kind == "entry"):
            for position in range(region.start, region.end):
                for mutation in ("xor 0x01", "xor 0x80"):
                    path.write_bytes(MUTATIONS[mutation](sample.blob, position))
                    where = f"{sample.name} byte {position} {mutation}"
                    try:
                        archiver.unpack(path, dest)
                    except FormatError as error:
                        if not str(error).startswith(f"frame at offset {region.start} of "
                                                     f"{region.path!r}: "):
                            problems.append(f"{where}: {error}")
                    else:
                        problems.append(f"{where}: unpack went ahead")
                    if dest.exists():
                        problems.append(f"{where}: unpack wrote {os.listdir(dest)}")
                        shutil.rmtree(dest)
    assert not problems, f"{len(problems)} problems, e.g.:\n" + "\n".join(problems[:15])


def test_sweep_regions_cover_every_kind(tree_sample: Sample, single_sample: Sample) -> None:
    """The sweeps above rely on the frame map: make sure it found what the archives hold."""
    for sample in (tree_sample, single_sample):
        kinds = [region.kind for region in sample.regions]
        assert kinds[0] == "header" and kinds[-1] == "footer" and kinds[-2] == "index"
        assert {"entry", "block-head", "payload"} <= set(kinds)
        assert sum(r.end - r.start for r in sample.regions) == len(sample.blob)
    assert sum(region.kind == "payload" for region in tree_sample.regions) == 4  # 3 + 1


def test_corrupt_major_version_byte_names_the_header(
    single_sample: Sample, tmp_path: Path
) -> None:
    mutant = MUTATIONS["xor 0x80"](single_sample.blob, 8)  # major 1 -> 129, checksum now wrong
    path = tmp_path / "m.pyarc"
    path.write_bytes(mutant)
    for read in (lambda: archiver.open_archive(path), lambda: archiver.api.test(path),
                 lambda: archiver.decompress(mutant)):
        with pytest.raises(FormatError) as raised:
            read()
        assert not message_problems(raised.value), str(raised.value)


# -- specific corruptions ---------------------------------------------------------------------


def all_readers(blob: bytes, path: Path) -> list[Callable[[], object]]:
    """Each reader, reading everything (decompress only for a single-stream archive)."""
    path.write_bytes(blob)

    def by_index() -> None:
        with archiver.open_archive(path) as opened:
            for entry in opened.entries:
                if entry.kind == Kind.FILE:
                    opened.read(entry)

    def by_pipe() -> None:
        class Pipe(io.BytesIO):
            def seekable(self) -> bool:
                return False

        for _, data in StreamReader(Pipe(blob)).entries():
            for _ in data:
                pass

    return [by_index, lambda: archiver.api.test(path), by_pipe,
            lambda: archiver.decompress(blob)]


@pytest.mark.parametrize("garbage", [b"\0", b"trailing garbage", "footer"])
def test_trailing_data_is_refused(single_sample: Sample, tmp_path: Path, garbage) -> None:
    blob = single_sample.blob
    extra = blob[-FOOTER_SIZE:] if garbage == "footer" else garbage
    for read in all_readers(blob + extra, tmp_path / "t.pyarc"):
        with pytest.raises(FormatError) as raised:
            read()
        message = str(raised.value)
        assert not message_problems(raised.value), message
        assert "footer" in message or "trailing" in message, message


def with_header_checksum(blob: bytearray, start: int, length: int) -> bytes:
    """Recompute the XXH32 that follows the `length` checksummed bytes at `start`."""
    check = xxhash.xxh32_intdigest(bytes(blob[start:start + length]))
    blob[start + length:start + length + 4] = check.to_bytes(4, "little")
    return bytes(blob)


def test_newer_major_version_is_refused_clearly(tree_sample: Sample, tmp_path: Path) -> None:
    mutant = bytearray(tree_sample.blob)
    assert mutant[8] == 1  # Header: magic (8 bytes), major, minor, flags, block_size, XXH32
    mutant[8] = 2
    blob = with_header_checksum(mutant, 0, 16)
    for read in all_readers(blob, tmp_path / "v2.pyarc"):
        with pytest.raises(UnsupportedVersionError) as raised:
            read()
        message = str(raised.value)
        assert "newer" in message and "2" in message and "\n" not in message


def block_frames(sample: Sample) -> list[Region]:
    return [region for region in sample.regions if region.kind == "block-head"]


def patched_block(sample: Sample, raw_size: int, stored_size: int | None = None) -> bytes:
    """The sample with its first block frame claiming other sizes, under a valid checksum."""
    region = block_frames(sample)[0]
    head = FrameHead.parse(sample.blob[region.start:])
    assert head.header.value.type == FRAME_BLOCK
    fields_size = len(head.header.data)  # ... raw_size, stored_size, raw_hash, stored_hash
    at = region.start + fields_size - (4 + 4 + 8 + 8)
    mutant = bytearray(sample.blob)
    mutant[at:at + 4] = raw_size.to_bytes(4, "little")
    if stored_size is not None:
        mutant[at + 4:at + 8] = stored_size.to_bytes(4, "little")
    return with_header_checksum(mutant, region.start, fields_size)


def refusals_within_memory(blob: bytes, path: Path, limit: int = 10 * 2**20) -> Iterator[
        PyarcError]:
    """Each reader's error on `blob`, checking that none allocated `limit` bytes first."""
    for read in all_readers(blob, path):
        tracemalloc.start()
        try:
            with pytest.raises(PyarcError) as raised:
                read()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < limit, f"{peak} bytes allocated before: {raised.value}"
        yield raised.value


@pytest.mark.parametrize(("raw_size", "stored_size"), [
    (0x7FFFFFFF, None),  # beyond the cap
    (0x7FFFFFFF, 0x7FFFFFFF),
    (MAX_BLOCK_SIZE, MAX_BLOCK_SIZE),  # allowed sizes, but far more than the archive holds
], ids=["raw-2GiB", "both-2GiB", "both-64MiB"])
def test_huge_block_sizes_are_refused_before_allocating(
    single_sample: Sample, tmp_path: Path, raw_size: int, stored_size: int | None
) -> None:
    blob = patched_block(single_sample, raw_size, stored_size)
    for error in refusals_within_memory(blob, tmp_path / "huge.pyarc"):
        assert not message_problems(error), str(error)


def test_huge_index_size_in_footer_is_refused_before_allocating(
    single_sample: Sample, tmp_path: Path
) -> None:
    footer = len(single_sample.blob) - FOOTER_SIZE
    mutant = bytearray(single_sample.blob)
    mutant[footer + 8:footer + 16] = (200 * 2**20).to_bytes(8, "little")  # index_size
    blob = with_header_checksum(mutant, footer, 16)
    for error in refusals_within_memory(blob, tmp_path / "idx.pyarc"):
        assert "footer" in str(error) or "index" in str(error)


@pytest.mark.parametrize("frame_type", [FRAME_ENTRY, FRAME_INDEX])
def test_frame_map_sanity(frame_type: bytes, tree_sample: Sample) -> None:
    """Each region the sweeps call an entry or the index really starts with that frame type."""
    kind = {FRAME_ENTRY: "entry", FRAME_INDEX: "index"}[frame_type]
    starts = [r.start for r in tree_sample.regions if r.kind == kind]
    assert starts
    for start in starts:
        assert tree_sample.blob[start:start + 1] == frame_type
