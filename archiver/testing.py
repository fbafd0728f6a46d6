"""The conformance kit for codec plugins: one call checks that a codec keeps pyarc's contract.

    from archiver.testing import assert_conforms

    def test_my_codec_conforms():
        assert_conforms(MyCodec)

It checks, and lists every failure at once:
- names and versions: the codec name, payload version, options and decode_rank are what a
  block header and the registry accept;
- round trips of the standard inputs (empty, one byte, runs, text, all byte values, random,
  and a large mixed block) under the default options and under each option's extreme and
  listed values;
- determinism: the same input gives the same payload, from the same or a new codec object;
- options: unknown names and out-of-range values are UsageErrors, and options survive the
  text form a block header stores them in;
- robustness: mutated and random payloads, and payloads declared with the wrong size, raise
  CodecError or return exactly `size` bytes, each within a second; a decoder that hangs,
  crashes or writes past `size` fails. The payloads are decoded in a forked child process,
  killed when a decoder has not returned after HANG_SECONDS: a decoder stuck in a loop is
  reported, not waited for.

pyarc's built-in codecs pass it (tests/test_conformance.py); tests/fuzzing.py runs the same
decoder fuzzing for longer.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

from archiver.codec import CODEC_NAME, Codec, Option, OptionValue, version_problem
from archiver.errors import CodecError, UsageError

#: Decoding one payload, however bad, must take less than this.
DECODE_SECONDS = 1.0
#: A decoder that has not returned after this long is killed and reported as hanging.
HANG_SECONDS = 10.0
_TEXT = (b"It was the best of times, it was the worst of times, it was the age of wisdom, "
         b"it was the age of foolishness, it was the epoch of belief.\n")


def edited_copies(rng: random.Random, size: int, head: int = 512,
                  pieces: tuple[int, int] = (16, 64), edits: tuple[int, int] = (3, 9)) -> bytes:
    """`head` random bytes, then copies of earlier stretches (of `pieces` bytes) with a byte
    changed every `edits` bytes: the shape of object code, records whose fields change, where
    PPM loses its context at each change and an LZ77 match resumes after one literal."""
    out = bytearray(rng.randbytes(head))
    while len(out) < size:
        start = rng.randrange(len(out) - pieces[1])
        piece = bytearray(out[start:start + rng.randrange(*pieces)])
        for at in range(rng.randrange(*edits), len(piece), rng.randrange(*edits)):
            piece[at] = rng.randrange(256)
        out += piece
    return bytes(out[:size])


def standard_inputs(seed: int = 0) -> dict[str, bytes]:
    """The inputs every codec must round-trip, by name."""
    rng = random.Random(seed)
    words = _TEXT.split()
    prose = b" ".join(rng.choice(words) for _ in range(3000))
    return {
        "empty": b"",
        "one byte": b"\x00",
        "two bytes": b"ab",
        "one byte repeated": b"z" * 10_000,
        "runs": b"".join(bytes([rng.randrange(4)]) * rng.randint(1, 300) for _ in range(200)),
        "text": prose,
        "all byte values": bytes(range(256)) * 8,
        "random": rng.randbytes(20_000),
        "large mixed": (prose * 20)[:200_000] + rng.randbytes(50_000) + bytes(100_000),
    }


@dataclass
class Failure:
    check: str  # what failed: "round trip", "options", ..., or for decoders "crash", "hang",
    #            "wrong length", "wrong data"
    detail: str

    def __str__(self) -> str:
        return f"{self.check}: {self.detail}"


def mutate(blob: bytes, rng: random.Random, donor: bytes = b"") -> tuple[str, bytes]:
    """One random mutation of blob (bit flip, byte change, truncation, splice with donor,
    insertion, deletion, or random bytes instead), and its name."""
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
    if kind == "splice":
        piece = donor[rng.randrange(len(donor) + 1):] if donor else rng.randbytes(20)
        return kind, blob[:position] + piece
    if kind == "insert":
        return kind, blob[:position] + rng.randbytes(rng.randint(1, 16)) + blob[position:]
    if kind == "delete":
        return kind, blob[:position] + blob[position + rng.randint(1, 16):]
    return kind, rng.randbytes(rng.randint(0, 400))


@dataclass(frozen=True)
class _Case:
    """One payload for the decoder: what it is, the size it is declared as, and the data it
    must give back when it is intact (None when it is not)."""

    label: str
    payload: bytes
    size: int
    intact: bytes | None


def _fuzz_cases(codec: Codec, rng: random.Random, cases: int, only_random: bool,
                inputs: list[bytes] | None) -> list[_Case]:
    if inputs is None:
        inputs = [data for data in standard_inputs(rng.randrange(1 << 30)).values()
                  if len(data) <= 20_000]
    valid = [(data, codec.encode(data)) for data in inputs]
    made = []
    for _ in range(cases):
        data, payload = rng.choice(valid)
        if only_random:
            mutation, mutant = "random", rng.randbytes(rng.randint(0, 2000))
        else:
            mutation, mutant = mutate(payload, rng, rng.choice(valid)[1])
        size = len(data) if rng.random() < 0.8 else rng.choice([0, 1, len(data) + 1, 1 << 20])
        made.append(_Case(f"{mutation} payload of {len(mutant)} bytes declared as {size}",
                          mutant, size, data if mutant == payload and size == len(data) else None))
    return made


def _verdict(codec: Codec, case: _Case) -> Failure | None:
    """Decode one case; what is wrong with the outcome, if anything."""
    label = f"{codec.name}: {case.label}"
    start = time.perf_counter()
    try:
        result = codec.decode(case.payload, case.size)
    except CodecError:
        result = None
    except Exception as error:  # noqa: BLE001 (a crash is what we are looking for)
        return Failure("crash", f"{label}: {type(error).__name__}: {error}")
    seconds = time.perf_counter() - start
    if seconds > DECODE_SECONDS:
        return Failure("hang", f"{label}: took {seconds:.1f} s")
    if result is None:
        return None
    if len(result) != case.size:
        return Failure("wrong length", f"{label}: returned {len(result)} bytes")
    if case.intact is not None and result != case.intact:
        return Failure("wrong data", f"{label}: an intact payload decoded wrongly")
    return None


def _decode_in_child(codec: Codec, cases: list[_Case], results: Connection) -> None:
    for case in cases:
        results.send(_verdict(codec, case))


def _with_deadline(codec: Codec, cases: list[_Case]) -> Iterator[Failure]:
    """The verdicts on the cases, decoded in a forked child so that a decoder that never
    returns (even in a compiled loop, which no signal interrupts) is killed after
    HANG_SECONDS and reported; the cases after it go to a fresh child."""
    context = multiprocessing.get_context("fork")
    while cases:
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(target=_decode_in_child, args=(codec, cases, sending),
                                daemon=True)
        child.start()
        sending.close()
        done = 0
        try:
            while done < len(cases) and receiving.poll(HANG_SECONDS):
                failure = receiving.recv()
                done += 1
                if failure:
                    yield failure
        except EOFError:  # the child died: a decoder that brought the process down
            yield Failure("crash", f"{codec.name}: {cases[done].label}: the process died")
            done += 1
        else:
            if done < len(cases):
                yield Failure("hang", f"{codec.name}: {cases[done].label}: no result after "
                                      f"{HANG_SECONDS:.0f} s")
                done += 1
        finally:
            child.kill()
            child.join()
            receiving.close()
        cases = cases[done:]


def fuzz_decoder(codec: Codec, rng: random.Random, cases: int, only_random: bool = False,
                 inputs: list[bytes] | None = None) -> Iterator[Failure]:
    """Mutated payloads of the inputs (or, with only_random, random bytes) into the decoder:
    each must raise CodecError or give exactly `size` bytes (the original, when the payload
    is intact), within DECODE_SECONDS. Decoding runs in a child process with a deadline,
    where the platform can fork; elsewhere in this process, where a decoder that never
    returns hangs the check."""
    made = _fuzz_cases(codec, rng, cases, only_random, inputs)
    if "fork" in multiprocessing.get_all_start_methods():
        yield from _with_deadline(codec, made)
    else:
        yield from filter(None, (_verdict(codec, case) for case in made))


def option_settings(codec_class: type[Codec]) -> list[dict[str, OptionValue]]:
    """The defaults, then each option at its minimum and maximum or at each choice."""
    settings: list[dict[str, OptionValue]] = [{}]
    for spec in codec_class.option_specs:
        values: list[OptionValue] = list(spec.choices)
        if spec.minimum is not None:
            values.append(spec.minimum)
        if spec.maximum is not None:
            values.append(spec.maximum)
        settings += [{spec.name: value} for value in values if value != spec.default]
    return settings


def _naming(codec_class: type[Codec]) -> Iterator[Failure]:
    name = getattr(codec_class, "name", None)
    if not isinstance(name, str) or not CODEC_NAME.fullmatch(name):
        yield Failure("name", f"{name!r} is not a codec name (lower case, [a-z0-9_-], at "
                              f"most 32 characters)")
    problem = version_problem(codec_class)
    if problem:
        yield Failure("version", problem)
    if not isinstance(codec_class.decode_rank, int):
        yield Failure("decode_rank", f"{codec_class.decode_rank!r} is not an integer")
    if not codec_class.description:
        yield Failure("description", "empty: `pyarc codecs` shows it")
    for spec in codec_class.option_specs:
        if not isinstance(spec, Option):
            yield Failure("options", f"{spec!r} is not an archiver.Option")


def _round_trips(codec_class: type[Codec], inputs: dict[str, bytes]) -> Iterator[Failure]:
    for options in option_settings(codec_class):
        codec = codec_class(**options)
        for name, data in inputs.items():
            label = f"{name} ({len(data)} bytes), options {options or 'default'}"
            try:
                payload = codec.encode(data)
                again = codec.encode(data)
                fresh = codec_class(**options).encode(data)
                back = codec.decode(payload, len(data))
            except Exception as error:  # noqa: BLE001
                yield Failure("round trip", f"{label}: {type(error).__name__}: {error}")
                continue
            if back != data:
                yield Failure("round trip", f"{label}: decoded to other data")
            if again != payload or fresh != payload:
                yield Failure("determinism", f"{label}: two encodings differ")
            if not data and payload:
                yield Failure("round trip", f"{label}: an empty block has a payload of "
                                            f"{len(payload)} bytes (it should be empty)")


def _options(codec_class: type[Codec]) -> Iterator[Failure]:
    try:
        codec_class(no_such_option_xyz=1)
    except UsageError:
        pass
    except Exception as error:  # noqa: BLE001
        yield Failure("options", f"an unknown option raised {type(error).__name__}, "
                                 f"not UsageError")
    else:
        yield Failure("options", "an unknown option was accepted")
    for options in option_settings(codec_class):
        codec = codec_class(**options)
        as_text = {key: str(value) for key, value in codec.options.items()}
        if codec_class(**as_text).options != codec.options:
            yield Failure("options", f"{options} do not survive a block header's text form")
    for spec in codec_class.option_specs:
        bad: list[OptionValue] = [spec.minimum - 1] if spec.minimum is not None else []
        bad += [spec.maximum + 1] if spec.maximum is not None else []
        bad += ["not-a-choice"] if spec.choices else []
        for value in bad:
            try:
                codec_class(**{spec.name: value})
            except UsageError:
                continue
            except Exception as error:  # noqa: BLE001
                yield Failure("options", f"{spec.name}={value!r} raised "
                                         f"{type(error).__name__}, not UsageError")
                continue
            yield Failure("options", f"{spec.name}={value!r} was accepted")


def check_codec(codec_class: type[Codec], fuzz_cases: int = 300,
                seed: int = 0) -> list[Failure]:
    """Every way codec_class breaks the contract (an empty list: it conforms)."""
    failures = list(_naming(codec_class))
    if failures:
        return failures
    failures += _options(codec_class)
    failures += _round_trips(codec_class, standard_inputs(seed))
    rng = random.Random(seed)
    codec = codec_class()
    failures += fuzz_decoder(codec, rng, fuzz_cases)
    failures += fuzz_decoder(codec, rng, fuzz_cases // 2, only_random=True)
    return failures


def assert_conforms(codec_class: type[Codec], fuzz_cases: int = 300, seed: int = 0) -> None:
    """Fail (AssertionError) with every problem found if codec_class breaks the contract."""
    failures = check_codec(codec_class, fuzz_cases, seed)
    if failures:
        shown = "\n".join(f"  {failure}" for failure in failures[:20])
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        raise AssertionError(f"codec {getattr(codec_class, 'name', codec_class)!r} breaks "
                             f"the codec contract in {len(failures)} ways:\n{shown}{more}")
