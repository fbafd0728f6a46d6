"""Corrupt archives: every reader either refuses them with a clear PyarcError or returns the
original data, never another exception and never wrong data.

Three small archives are mutated at EVERY byte position: one bit flipped (0x01, and separately
0x80), and truncated there: a tree in solid blocks and a single stream (format 2), and a tree of
pyarc 0.1.0 (format 1.0, from spec/vectors/1.0). Each mutant goes through every reader:

  (a) the index reader: `open_archive`, list, then read every file entry;
  (b) the stream reader: `archiver.api.test` (decodes everything, cross-checks index and footer);
  (c) `archiver.decompress` for the archive made by `archiver.compress`.

Every byte of an archive is covered by some checksum, so the stream readers must detect every
mutation. The index reader never reads the frames the index repeats (format 2's tables, format
1.0's entry frames), so a flip inside one may leave it returning the original data, and a flip
inside a block's payload must still let it list the archive: only reading the files with data in
that block fails. `unpack`, which also reads through the index, checks those frames for what it
extracts, so it refuses every flip inside them, before it writes anything.
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
from archiver import FormatError, PyarcError, UnsupportedVersionError, format1, format2
from archiver.catalog import Catalog
from archiver.format import FOOTER_SIZE, HEADER_SIZE, MAX_BLOCK_SIZE, Kind
from archiver.reader import StreamReader
from archiver.restore import Copy

BLOCK_SIZE = 1024
V1_TREE = Path(__file__).resolve().parents[1] / "spec" / "vectors" / "1.0" / "good" / "tree.pyarc"
KEYWORDS = ("offset", "header", "footer", "index", "truncated", "checksum")


# -- the two archives and a map of their frames ----------------------------------------------


#: The regions the index reader does not read: the frames that repeat what the index holds.
REPEATED = ("entry", "table", "table-payload")


@dataclass
class Region:
    start: int
    end: int
    #: "header", "entry" (1.0), "table", "table-payload", "block-head", "payload",
    #: "index" (with its payload in 2), "footer"
    kind: str
    paths: frozenset[str] = frozenset()  # the files with data in a block


@dataclass
class Sample:
    name: str
    blob: bytes
    files: dict[str, bytes]  # file path -> data
    listing: list[tuple[str, Kind, int, int, int, str]]
    regions: list[Region] = field(default_factory=list)
    single: bool = False

    @property
    def data_bytes(self) -> int:
        """The bytes of data stored: files with identical contents count once."""
        return sum(map(len, set(self.files.values()))) if self.name == "tree" else \
            sum(map(len, self.files.values()))

    def region_at(self, position: int) -> Region:
        for region in self.regions:
            if region.start <= position < region.end:
                return region
        raise AssertionError(f"byte {position} is in no region")


def listing_of(entries: list[archiver.format.Entry]) -> list[tuple]:
    return [(e.path, e.kind, e.mode, e.mtime_ns, e.size, e.target) for e in entries]


def frame_map(blob: bytes, catalog: Catalog) -> list[Region]:
    """Split a clean archive into its header, frames (payloads apart) and footer."""
    regions = [Region(0, HEADER_SIZE, "header")]
    if blob[8] == 1:
        return frame_map_1(blob, regions)
    stream = io.BytesIO(blob)
    stream.seek(HEADER_SIZE)
    while True:
        start = stream.tell()
        frame = format2.parse_frame(stream, start)
        end = stream.tell()
        payload = end - frame.header.stored_size
        if frame.type == format2.FRAME_INDEX:
            regions.append(Region(start, end, "index"))
            break
        if frame.type == format2.FRAME_TABLE:
            regions += [Region(start, payload, "table"), Region(payload, end, "table-payload")]
            continue
        block_end = frame.data_offset + frame.header.raw_size
        paths = frozenset(entry.path for number, entry in enumerate(catalog.entries)
                          if entry.data_size and catalog.data_offsets[number] < block_end
                          and frame.data_offset < catalog.data_range(number)[1])
        regions.append(Region(start, payload, "block-head", paths))
        if payload < end:
            regions.append(Region(payload, end, "payload", paths))
    regions.append(Region(end, len(blob), "footer"))
    assert end + FOOTER_SIZE == len(blob)
    return regions


def frame_map_1(blob: bytes, regions: list[Region]) -> list[Region]:
    """The same for format 1.0: entry frames, each followed by its blocks."""
    stream = io.BytesIO(blob)
    stream.seek(HEADER_SIZE)
    path = ""
    while True:
        start = stream.tell()
        frame = format1.parse_frame(stream, start)
        end = stream.tell()
        if frame.entry is not None:
            path = frame.entry.path
            regions.append(Region(start, end, "entry", frozenset([path])))
        elif frame.block is not None:
            payload = end - frame.block.stored_size
            regions.append(Region(start, payload, "block-head", frozenset([path])))
            if payload < end:
                regions.append(Region(payload, end, "payload", frozenset([path])))
        else:
            regions.append(Region(start, end, "index"))
            break
    regions.append(Region(end, len(blob), "footer"))
    return regions


def sample_of(name: str, archive: Path, single: bool = False) -> Sample:
    blob = archive.read_bytes()
    with archiver.open_archive(archive) as opened:
        listing = listing_of(opened.entries)
        files = {e.path: opened.read(e) for e in opened.entries if e.kind == Kind.FILE}
        catalog = opened.catalog
    return Sample(name, blob, files, listing, frame_map(blob, catalog), single)


@pytest.fixture(scope="module")
def tree_sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    root = tmp_path_factory.mktemp("tree")
    top = root / "d"
    (top / "e").mkdir(parents=True)
    big = bytes((i * 7 + 3) % 251 for i in range(2 * BLOCK_SIZE + 1))
    (top / "big").write_bytes(big)
    (top / "e" / "s").write_bytes(b"small file\n")
    (top / "e" / "t").write_bytes(b"small file\n")  # the same contents: stored once
    os.symlink("e/s", top / "l")
    archive = root / "tree.pyarc"
    archiver.pack([top], archive, codec="store", block_size=BLOCK_SIZE)
    sample = sample_of("tree", archive)
    assert sample.files == {"d/big": big, "d/e/s": b"small file\n", "d/e/t": b"small file\n"}
    assert {kind for _, kind, *_ in sample.listing} == {Kind.FILE, Kind.DIRECTORY, Kind.SYMLINK}
    return sample


@pytest.fixture(scope="module")
def single_sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    data = b"The quick brown fox jumps over the lazy dog. " * 23  # 1035 bytes: 2 blocks
    blob = archiver.compress(data, "store", block_size=BLOCK_SIZE)
    assert archiver.decompress(blob) == data
    archive = tmp_path_factory.mktemp("single") / "single.pyarc"
    archive.write_bytes(blob)
    return sample_of("single", archive, single=True)


@pytest.fixture(scope="module")
def old_sample() -> Sample:
    """A tree written by pyarc 0.1.0 (format 1.0)."""
    return sample_of("old", V1_TREE)


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
    if stats.entries != len(sample.listing) or stats.bytes != sample.data_bytes:
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
        # The index reader never reads the frames the index repeats; every other byte is
        # checksummed for it, and every byte is checksummed for the stream readers.
        if undetected and (truncated or reader != "index reader" or region.kind not in REPEATED):
            yield f"{reader}: the mutation went undetected"

    if region.kind == "payload" and not truncated:
        if not by_index.listed:
            yield f"index reader: a damaged payload prevented listing ({by_index.errors})"
        elif not set(by_index.errors) <= region.paths or not by_index.errors:
            yield (f"index reader: a damaged payload of {sorted(region.paths)} made reading "
                   f"{sorted(by_index.errors)} fail")


@pytest.mark.parametrize("mutation", list(MUTATIONS))
@pytest.mark.parametrize("which", ["tree", "single", "old"])
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


def test_unpack_refuses_every_damaged_repeated_frame(tree_sample: Sample, single_sample: Sample,
                                                    old_sample: Sample, tmp_path: Path) -> None:
    """The index reader's `read` never looks at tables (format 2) or entry frames (1.0), but
    `unpack` checks those of everything it extracts: one flipped bit in any of them, and it
    writes nothing."""
    path, dest = tmp_path / "mutant.pyarc", tmp_path / "out"
    problems = []
    for sample in (tree_sample, single_sample, old_sample):
        heads = {r.end: r.start for r in sample.regions if r.kind == "table"}
        for region in (r for r in sample.regions if r.kind in REPEATED):
            frame = heads.get(region.start, region.start)  # a table's payload: its frame
            what = (f"table at offset {frame}: " if region.kind != "entry" else
                    f"frame at offset {frame} of {next(iter(region.paths))!r}: ")
            for position in range(region.start, region.end):
                for mutation in ("xor 0x01", "xor 0x80"):
                    path.write_bytes(MUTATIONS[mutation](sample.blob, position))
                    where = f"{sample.name} byte {position} {mutation}"
                    try:
                        archiver.unpack(path, dest)
                    except FormatError as error:
                        if not str(error).startswith(what):
                            problems.append(f"{where}: {error}")
                    else:
                        problems.append(f"{where}: unpack went ahead")
                    if dest.exists():
                        problems.append(f"{where}: unpack wrote {os.listdir(dest)}")
                        shutil.rmtree(dest)
    assert not problems, f"{len(problems)} problems, e.g.:\n" + "\n".join(problems[:15])


def test_sweep_regions_cover_every_kind(tree_sample: Sample, single_sample: Sample,
                                       old_sample: Sample) -> None:
    """The sweeps above rely on the frame map: make sure it found what the archives hold."""
    for sample in (tree_sample, single_sample, old_sample):
        kinds = [region.kind for region in sample.regions]
        assert kinds[0] == "header" and kinds[-1] == "footer" and kinds[-2] == "index"
        assert {"block-head", "payload"} <= set(kinds)
        assert ("entry" if sample is old_sample else "table") in kinds
        assert sum(r.end - r.start for r in sample.regions) == len(sample.blob)
    # d/big (binary) in 3 blocks of 1 KiB, then d/e/s (text: a new group, a new block); d/e/t
    # shares d/e/s's data
    assert sum(region.kind == "payload" for region in tree_sample.regions) == 4


def test_corrupt_major_version_byte_names_the_header(
    single_sample: Sample, tmp_path: Path
) -> None:
    mutant = MUTATIONS["xor 0x80"](single_sample.blob, 8)  # major 2 -> 130, checksum now wrong
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

        for _, data in StreamReader(Pipe(blob)).deliveries():
            for _ in data if not isinstance(data, Copy) else ():
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
    assert mutant[8] == 2  # Header: magic (8 bytes), major, minor, flags, block_size, XXH32
    mutant[8] = 4  # (3 is an encrypted archive's envelope)
    blob = with_header_checksum(mutant, 0, 16)
    for read in all_readers(blob, tmp_path / "v4.pyarc"):
        with pytest.raises(UnsupportedVersionError) as raised:
            read()
        message = str(raised.value)
        assert "newer" in message and "4" in message and "\n" not in message


def block_frames(sample: Sample) -> list[Region]:
    return [region for region in sample.regions if region.kind == "block-head"]


def patched_block(sample: Sample, raw_size: int, stored_size: int | None = None) -> bytes:
    """The sample with its first block frame claiming other sizes, under a valid checksum."""
    region = block_frames(sample)[0]
    head = format2.FrameHead.parse(sample.blob[region.start:])
    assert head.header.value.type == format2.FRAME_BLOCK
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


@pytest.mark.parametrize("kind", ["table", "block-head", "index"])
def test_frame_map_sanity(kind: str, tree_sample: Sample) -> None:
    """Each region the sweeps call a table, a block or the index really starts with that frame
    type."""
    frame_type = {"table": format2.FRAME_TABLE, "block-head": format2.FRAME_BLOCK,
                  "index": format2.FRAME_INDEX}[kind]
    starts = [r.start for r in tree_sample.regions if r.kind == kind]
    assert starts
    for start in starts:
        assert tree_sample.blob[start:start + 1] == frame_type
