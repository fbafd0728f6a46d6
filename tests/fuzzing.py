"""Fuzzers for every installed codec and for the container (issue 8).

The rule they check: whatever the input, the result is the exact original data or a pyarc
error; never wrong data reported as success, never another exception (a crash), never a hang.

- `fuzz_decoders`: each codec's `decode` gets mutated valid payloads (bit flips, byte changes,
  truncations, splices, extensions) and raw random payloads, some declared with the wrong
  size. It must raise CodecError or return exactly `size` bytes (the original data, if the
  payload was not changed), each within `PAYLOAD_SECONDS`.
- `fuzz_blocks`: the same mutants through the block pipeline (`decode_block`) with the payload
  checksum fixed up, so that they reach the decoder as an archive's block would after a
  checksum collision: the result must be the original data or a PyarcError.
- `fuzz_archives`: archives made with every codec (and auto), mutated as a whole, read by
  `decompress` and by the stream reader: the original data or a PyarcError, each within
  `ARCHIVE_SECONDS`; every tenth also by `pyarc test`, which must keep the CLI's contract of
  one error line and no traceback.

tests/test_fuzz.py runs a bounded number of cases of each; `make fuzz` runs this file as a
script, as long as asked: `python tests/fuzzing.py --archives 20000 --payloads 2000`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import archiver
from archiver import cli
from archiver.blocks import BlockEncoder, decode_block
from archiver.codec import Codec
from archiver.errors import CodecError, PyarcError
from archiver.format import xxh3
from archiver.plugins import registry
from archiver.reader import StreamReader

PAYLOAD_SECONDS = 1.0
ARCHIVE_SECONDS = 5.0
BLOCK_SIZE = 1024
#: Settings beyond each codec's defaults whose decoders differ.
EXTRA_SPECS = ("lz77:coder=range", "arithmetic:order=0")


@dataclass
class Failure:
    kind: str  # "crash", "wrong data", "wrong length", "hang"
    target: str  # the codec spec or archive
    mutation: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.target} ({self.mutation}): {self.detail}"


def codec_specs() -> list[str]:
    """Every installed codec with its defaults, and the extra settings that are installed."""
    names = registry().names()
    return names + [spec for spec in EXTRA_SPECS if spec.partition(":")[0] in names]


def sample_inputs(rng: random.Random) -> list[bytes]:
    """Small inputs of every character: text, runs, structure, noise, and the tiny ones."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_bytes()
    start = rng.randrange(len(text) - 3000)
    return [
        b"", b"a", b"ab" * 3, text[start:start + 3000], b"z" * 2000,
        bytes(range(256)) * 6, rng.randbytes(1500),
        b"".join(bytes([i % 7]) * (i % 13 + 1) for i in range(400)),
    ]


def mutate(blob: bytes, rng: random.Random, donor: bytes = b"") -> tuple[str, bytes]:
    """One random mutation of blob, and its name."""
    kind = rng.choice(["flip", "byte", "truncate", "splice", "insert", "delete", "random"])
    if not blob and kind != "random":
        kind = "insert"
    position = rng.randrange(len(blob)) if blob else 0
    if kind == "flip":
        mutant = bytearray(blob)
        mutant[position] ^= 1 << rng.randrange(8)
        return kind, bytes(mutant)
    if kind == "byte":
        mutant = bytearray(blob)
        mutant[position] = rng.randrange(256)
        return kind, bytes(mutant)
    if kind == "truncate":
        return kind, blob[:position]
    if kind == "splice":  # a piece of another valid blob in place of the rest
        piece = donor[rng.randrange(len(donor) + 1):] if donor else rng.randbytes(20)
        return kind, blob[:position] + piece
    if kind == "insert":
        return kind, blob[:position] + rng.randbytes(rng.randint(1, 16)) + blob[position:]
    if kind == "delete":
        return kind, blob[:position] + blob[position + rng.randint(1, 16):]
    return kind, rng.randbytes(rng.randint(0, 400))


def _timed(call: Callable[[], bytes]) -> tuple[bytes | BaseException, float]:
    start = time.perf_counter()
    try:
        result: bytes | BaseException = call()
    except Exception as error:  # noqa: BLE001 (judged by the caller)
        result = error
    return result, time.perf_counter() - start


def fuzz_decoders(spec: str, rng: random.Random, cases: int,
                  only_random: bool = False) -> Iterator[Failure]:
    """Mutated payloads (or, with only_random, random bytes) straight into one codec's
    decoder."""
    codec = registry().create(spec)
    valid = [(data, codec.encode(data)) for data in sample_inputs(rng)]
    for _ in range(cases):
        data, payload = rng.choice(valid)
        if only_random:
            mutation, mutant = "random", rng.randbytes(rng.randint(0, 2000))
        else:
            mutation, mutant = mutate(payload, rng, rng.choice(valid)[1])
        size = len(data) if rng.random() < 0.8 else rng.choice([0, 1, len(data) + 1, 1 << 20])
        result, seconds = _timed(lambda: codec.decode(mutant, size))
        label = f"{mutation}, {len(mutant)} bytes as {size}"
        if seconds > PAYLOAD_SECONDS:
            yield Failure("hang", spec, label, f"{seconds:.1f} s")
        if isinstance(result, CodecError):
            continue
        if isinstance(result, BaseException):
            yield Failure("crash", spec, label, f"{type(result).__name__}: {result}")
        elif len(result) != size:
            yield Failure("wrong length", spec, label, f"{len(result)} bytes")
        elif mutant == payload and size == len(data) and result != data:
            yield Failure("wrong data", spec, label, "an intact payload decoded wrongly")


def fuzz_blocks(spec: str, rng: random.Random, cases: int) -> Iterator[Failure]:
    """Mutated payloads with their checksum fixed, through the block pipeline."""
    codec: Codec = registry().create(spec)
    encoder = BlockEncoder([codec], registry().create("store"))
    blocks = [(data, *encoder.encode(data)) for data in sample_inputs(rng) if data]
    for _ in range(cases):
        data, header, payload = rng.choice(blocks)
        mutation, mutant = mutate(payload, rng)
        forged = replace(header, stored_size=len(mutant), stored_hash=xxh3(mutant))
        result, seconds = _timed(lambda: decode_block(registry(), forged, mutant, "fuzz"))
        if seconds > PAYLOAD_SECONDS:
            yield Failure("hang", spec, mutation, f"{seconds:.1f} s")
        if isinstance(result, PyarcError):
            continue
        if isinstance(result, BaseException):
            yield Failure("crash", spec, mutation, f"{type(result).__name__}: {result}")
        elif result != data:
            yield Failure("wrong data", spec, mutation, "decode_block returned other data")


def sample_archives(rng: random.Random) -> list[tuple[str, bytes, bytes]]:
    """(codec spec, archive, its data): several blocks per archive, one archive per codec."""
    inputs = [data for data in sample_inputs(rng) if len(data) > 100]
    made = []
    for spec in codec_specs() + ["auto"]:
        data = b"".join(rng.sample(inputs, 3))
        made.append((spec, archiver.compress(data, spec, block_size=BLOCK_SIZE), data))
    return made


def _read_stream(blob: bytes) -> bytes:
    parts = []
    for _, blocks in StreamReader(io.BytesIO(blob)).entries():
        parts.extend(blocks)
    return b"".join(parts)


def cli_problem(mutant: bytes, folder: Path) -> str | None:
    """How `pyarc test` on the mutant breaks the CLI's error contract (one line on stderr,
    `pyarc: error: ...`, exit 1; no traceback, no internal error), if it does."""
    path = folder / "mutant.pyarc"
    path.write_bytes(mutant)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["test", str(path)])
    lines = errors.getvalue().splitlines()
    if code == 0:
        return None
    if code != 1 or len(lines) != 1 or not lines[0].startswith("pyarc: error:"):
        return f"exit {code}, stderr {errors.getvalue()[:300]!r}"
    return None


def fuzz_archives(rng: random.Random, cases: int, folder: Path,
                  cli_every: int = 10) -> Iterator[Failure]:
    """Whole archives mutated, read by decompress and by the stream reader; every
    `cli_every`-th also by `pyarc test` (in this process), writing to `folder`."""
    archives = sample_archives(rng)
    readers: dict[str, Callable[[bytes], bytes]] = {
        "decompress": archiver.decompress, "stream reader": _read_stream}
    for case in range(cases):
        spec, blob, data = rng.choice(archives)
        mutation, mutant = mutate(blob, rng, rng.choice(archives)[1])
        if case % cli_every == 0:
            problem = cli_problem(mutant, folder)
            if problem:
                yield Failure("crash", f"{spec} archive, pyarc test", mutation, problem)
        for reader, read in readers.items():
            result, seconds = _timed(lambda: read(mutant))
            target = f"{spec} archive, {reader}"
            if seconds > ARCHIVE_SECONDS:
                yield Failure("hang", target, mutation, f"{seconds:.1f} s")
            if isinstance(result, PyarcError):
                continue
            if isinstance(result, BaseException):
                yield Failure("crash", target, mutation, f"{type(result).__name__}: {result}")
            elif result != data:
                yield Failure("wrong data", target, mutation, "reported success")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz pyarc's decoders and container.")
    parser.add_argument("--archives", type=int, default=20_000,
                        help="mutated archives in all (default 20000)")
    parser.add_argument("--payloads", type=int, default=2_000,
                        help="mutated payloads, and as many random ones, per codec setting "
                             "(default 2000)")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print(f"seed {args.seed}; codecs: {', '.join(codec_specs())}")
    failures: list[Failure] = []
    for spec in codec_specs():
        start = time.perf_counter()
        found = list(fuzz_decoders(spec, rng, args.payloads))
        found += fuzz_decoders(spec, rng, args.payloads, only_random=True)
        found += fuzz_blocks(spec, rng, args.payloads // 4)
        print(f"{spec}: {args.payloads} mutated + {args.payloads} random payloads + "
              f"{args.payloads // 4} forged blocks, {len(found)} failures, "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        failures += found
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        found = list(fuzz_archives(rng, args.archives, Path(folder)))
    print(f"archives: {args.archives} mutants x 2 readers, {len(found)} failures, "
          f"{time.perf_counter() - start:.1f} s")
    failures += found
    for failure in failures[:50]:
        print(failure)
    kinds = {kind: sum(f.kind == kind for f in failures)
             for kind in ("crash", "wrong data", "wrong length", "hang")}
    print("totals: " + ", ".join(f"{count} {kind}" for kind, count in kinds.items()))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
