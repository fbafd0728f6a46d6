"""Fuzzers for every installed codec and for the container (issue 8).

The rule they check: whatever the input, the result is the exact original data or a pyarc
error; never wrong data reported as success, never another exception (a crash), never a hang.

- decoders: each codec's `decode` gets mutated valid payloads and raw random payloads, some
  declared with the wrong size (archiver.testing.fuzz_decoder, which the conformance kit
  runs too): CodecError or exactly `size` bytes, each within a second;
- `fuzz_blocks`: mutated payloads through the block pipeline (`decode_block`) with the payload
  checksum fixed up, so that they reach the decoder as an archive's block would after a
  checksum collision: the original data or a PyarcError;
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
from dataclasses import replace
from functools import partial
from pathlib import Path

import archiver
from archiver import cli
from archiver.blocks import BlockEncoder, decode_block
from archiver.errors import PyarcError
from archiver.format import xxh3
from archiver.plugins import registry
from archiver.reader import StreamReader
from archiver.restore import Copy
from archiver.testing import Failure, fuzz_decoder, mutate, standard_inputs

ARCHIVE_SECONDS = 5.0
BLOCK_SIZE = 1024
#: Settings beyond each codec's defaults whose decoders differ.
EXTRA_SPECS = ("lz77:coder=range", "arithmetic:order=0")
KINDS = ("crash", "wrong data", "wrong length", "hang")


def codec_specs() -> list[str]:
    """Every installed codec with its defaults, and the extra settings that are installed."""
    names = registry().names()
    return names + [spec for spec in EXTRA_SPECS if spec.partition(":")[0] in names]


def small_inputs(rng: random.Random) -> list[bytes]:
    return [data for data in standard_inputs(rng.randrange(1 << 30)).values()
            if len(data) <= 20_000]


def fuzz_decoders(spec: str, rng: random.Random, cases: int,
                  only_random: bool = False) -> Iterator[Failure]:
    """Mutated payloads (or, with only_random, random bytes) into one codec's decoder."""
    return fuzz_decoder(registry().create(spec), rng, cases, only_random, small_inputs(rng))


def _timed(call: Callable[[], bytes]) -> tuple[bytes | BaseException, float]:
    start = time.perf_counter()
    try:
        result: bytes | BaseException = call()
    except Exception as error:  # noqa: BLE001 (judged by the caller)
        result = error
    return result, time.perf_counter() - start


def _judge(result: bytes | BaseException, seconds: float, expected: bytes, limit: float,
           where: str) -> Iterator[Failure]:
    """Whether a reader kept the rule: the expected data or a PyarcError, in time."""
    if seconds > limit:
        yield Failure("hang", f"{where}: {seconds:.1f} s")
    if isinstance(result, PyarcError):
        return
    if isinstance(result, BaseException):
        yield Failure("crash", f"{where}: {type(result).__name__}: {result}")
    elif result != expected:
        yield Failure("wrong data", f"{where}: reported success")


def fuzz_blocks(spec: str, rng: random.Random, cases: int) -> Iterator[Failure]:
    """Mutated payloads with their checksum fixed, through the block pipeline."""
    encoder = BlockEncoder([registry().create(spec)], registry().create("store"))
    blocks = [(data, *encoder.encode(data)) for data in small_inputs(rng) if data]
    for _ in range(cases):
        data, header, payload = rng.choice(blocks)
        mutation, mutant = mutate(payload, rng)
        forged = replace(header, stored_size=len(mutant), stored_hash=xxh3(mutant))
        result, seconds = _timed(partial(decode_block, registry(), forged, mutant, "fuzz"))
        yield from _judge(result, seconds, data, 1.0, f"{spec} block, {mutation}")


def sample_archives(rng: random.Random) -> list[tuple[str, bytes, bytes]]:
    """(codec spec, archive, its data): several blocks per archive, one archive per codec."""
    inputs = [data for data in small_inputs(rng) if len(data) > 100]
    made = []
    for spec in codec_specs() + ["auto"]:
        data = b"".join(rng.sample(inputs, 3))
        made.append((spec, archiver.compress(data, spec, block_size=BLOCK_SIZE), data))
    return made


def _read_stream(blob: bytes) -> bytes:
    """Everything a stream reader hands out, front to back (archiver.api.test's way)."""
    parts = []
    for _, chunks in StreamReader(io.BytesIO(blob)).deliveries():
        if not isinstance(chunks, Copy):
            parts.extend(chunks)
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
                yield Failure("crash", f"{spec} archive, pyarc test, {mutation}: {problem}")
        for reader, read in readers.items():
            result, seconds = _timed(partial(read, mutant))
            yield from _judge(result, seconds, data, ARCHIVE_SECONDS,
                              f"{spec} archive, {reader}, {mutation}")


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
    print(f"archives: {args.archives} mutants x 2 readers (and pyarc test on every tenth), "
          f"{len(found)} failures, {time.perf_counter() - start:.1f} s")
    failures += found
    for failure in failures[:50]:
        print(failure)
    print("totals: " + ", ".join(f"{sum(f.check == kind for f in failures)} {kind}"
                                 for kind in KINDS))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
