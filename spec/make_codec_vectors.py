#!/usr/bin/env python3
"""Golden payloads of the built-in codecs, one folder per codec and payload version:
spec/vectors/codecs/.

    python spec/make_codec_vectors.py           # add the folders of versions not there yet
    python spec/make_codec_vectors.py --check   # verify every vector; exit 1 on any problem

A folder `CODEC/vVERSION/` is written once, by the encoder of that version, and never again:
an existing folder is never rewritten. So when a codec's payload changes, its `version` must
change too (and the old one move to `reads_older`), and this script then adds the new folder
beside the old. `--check` (and tests/test_codec_vectors.py) proves the promise:

- every payload of every version decodes to its input, through `decode` or `decode_older`;
- the payloads of each codec's current version are exactly what its encoder writes today;
- every bad payload is refused with a CodecError carrying the recorded message;
- every built-in codec's current version has its folder.

The inputs (inputs/*.bin) are shared by all codecs and frozen like the payloads. Each codec
codes every input at its default settings, and the two inputs named in ALL_SETTINGS_ON at
each option's extremes and choices (archiver.testing.option_settings). MANIFEST.json lists
everything with hashes; README.md is generated from it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

from archiver.codec import Codec, format_codec_spec, parse_codec_spec
from archiver.errors import CodecError
from archiver.format import xxh3
from archiver.plugins import Registry, registry
from archiver.testing import edited_copies, option_settings

HERE = Path(__file__).resolve().parent
ROOT = HERE / "vectors" / "codecs"
MANIFEST = ROOT / "MANIFEST.json"
BUILTIN = ("store", "huffman", "arithmetic", "lz77", "lzw", "ppm", "bwt", "rep", "cm")
#: The inputs coded under every setting of a codec's options, not only its defaults.
ALL_SETTINGS_ON = ("text", "mixed")
#: The input whose default payload is damaged into the bad vectors.
DAMAGED = "text"


def _words(rng: random.Random, size: int) -> bytes:
    words = (b"the of and to in is that it was for on are with as his they be at one have "
             b"this from or had by word but what some we can out other were all there when "
             b"up use your how said an each she which do their time if will way about many "
             b"then them write would like so these her long make thing see him two has look "
             b"Compression, archive; PPM: 1990. (BWT) [LZ77] {LZW} \"Huffman\" 'arithmetic'"
             ).split()
    text = b" ".join(rng.choice(words) + (b"\n" if rng.random() < 0.08 else b"")
                     for _ in range(size))
    return text[:size]


def make_inputs() -> dict[str, tuple[str, bytes]]:
    """The inputs, by name: what each exercises, and its bytes (used only when a folder is
    first written; --check reads the stored files)."""
    rng = random.Random(19)
    text = _words(rng, 3000)
    return {
        "empty": ("no bytes: the empty payload", b""),
        "one-byte": ("a single byte", b"\x7f"),
        "two-bytes": ("two different bytes", b"ab"),
        "run": ("one byte 3,000 times: run modes, escapes never taken", b"z" * 3000),
        "runs": ("runs of 1 to 200 of four byte values",
                 b"".join(bytes([rng.randrange(4)]) * rng.randint(1, 200) for _ in range(40))),
        "all-bytes": ("each of the 256 byte values, twice, in order", bytes(range(256)) * 2),
        "text": ("3,000 bytes of English-like words, punctuation and newlines", text),
        "random": ("1,024 random bytes: incompressible, so a codec's worst case",
                   rng.randbytes(1024)),
        "records": ("2,000 bytes of edited copies of earlier bytes (binary records)",
                    edited_copies(rng, 2000)),
        "mixed": ("text, then random bytes, then zeros, then the text again",
                  text[:1500] + rng.randbytes(300) + bytes(700) + text[:1500]),
    }


def payload_name(spec: str, input_name: str) -> str:
    """A file name for a payload: `lz77:level=9,window=20` on `text` gives
    `level=9,window=20--text.payload` (`default--text.payload` for a codec without options)."""
    _, options = parse_codec_spec(spec)
    label = ",".join(f"{key}={value}" for key, value in options.items()) or "default"
    return f"{label}--{input_name}.payload"


def _specs(codec_class: type[Codec]) -> list[str]:
    """The codec's settings as complete specs: defaults first, then each option's extremes."""
    seen: dict[str, None] = {}
    for options in option_settings(codec_class):
        codec = codec_class(**options)
        seen.setdefault(format_codec_spec(codec.name, codec.options))
    return list(seen)


def _bad_payloads(payload: bytes, size: int) -> dict[str, tuple[str, bytes, int]]:
    """Damaged forms of a good payload: what was done, the payload, the size declared."""
    flipped = bytearray(payload)
    if flipped:
        flipped[len(flipped) // 2] ^= 0x10
    return {
        "truncated": ("the first half of the payload", payload[:len(payload) // 2], size),
        "appended": ("a zero byte appended", payload + b"\0", size),
        "flipped": ("bit 4 of the middle byte flipped", bytes(flipped), size),
        "longer": ("declared one byte longer than it is", payload, size + 1),
        "empty": ("no payload for a block of data", b"", size),
    }


def _refusal(codec: Codec, payload: bytes, size: int, version: int) -> str | None:
    """The CodecError message decoding gives, or None if it decodes."""
    try:
        codec.decode_version(payload, size, version)
    except CodecError as error:
        return str(error)
    return None


def write_version(codec_class: type[Codec], inputs: dict[str, bytes]) -> dict[str, Any]:
    """Write CODEC/vVERSION/ (which must not exist) and return its manifest entry."""
    folder = ROOT / codec_class.name / f"v{codec_class.version}"
    folder.mkdir(parents=True)
    default, *others = _specs(codec_class)
    cases = [(default, name) for name in inputs]
    cases += [(spec, name) for spec in others for name in ALL_SETTINGS_ON]
    good = []
    for spec, name in cases:
        payload = codec_class(**parse_codec_spec(spec)[1]).encode(inputs[name])
        path = folder / payload_name(spec, name)
        path.write_bytes(payload)
        good.append(dict(spec=spec, input=name, payload=path.relative_to(ROOT).as_posix(),
                         size=len(payload), xxh3=f"{xxh3(payload):016x}"))
    codec = codec_class(**parse_codec_spec(default)[1])
    data = inputs[DAMAGED]
    bad = []
    (folder / "bad").mkdir()
    for label, (what, payload, size) in _bad_payloads(codec.encode(data), len(data)).items():
        message = _refusal(codec, payload, size, codec_class.version)
        if message is None:
            continue  # this damage happens to decode (the block's data hash catches it)
        path = folder / "bad" / f"{label}--{DAMAGED}.payload"
        path.write_bytes(payload)
        bad.append(dict(spec=default, input=DAMAGED, damage=what,
                        payload=path.relative_to(ROOT).as_posix(), declared_size=size,
                        error=message))
    return dict(good=good, bad=bad)


def _load_manifest() -> dict[str, Any]:
    if MANIFEST.exists():
        manifest: dict[str, Any] = json.loads(MANIFEST.read_text())
        return manifest
    return dict(inputs={}, codecs={})


def write(reg: Registry) -> list[str]:
    """Add what is missing (the inputs, the folders of current versions); never rewrite."""
    manifest = _load_manifest()
    added = []
    (ROOT / "inputs").mkdir(parents=True, exist_ok=True)
    for name, (about, data) in make_inputs().items():
        if name not in manifest["inputs"]:
            (ROOT / "inputs" / f"{name}.bin").write_bytes(data)
            manifest["inputs"][name] = dict(about=about, size=len(data),
                                            sha256=hashlib.sha256(data).hexdigest())
            added.append(f"inputs/{name}.bin")
    inputs = _read_inputs(manifest)
    for name in BUILTIN:
        codec_class = reg.get(name).codec
        versions = manifest["codecs"].setdefault(name, {})
        key = f"v{codec_class.version}"
        if key not in versions:
            versions[key] = write_version(codec_class, inputs)
            added.append(f"{name}/{key}/")
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")
    (ROOT / "README.md").write_text(readme(manifest))
    return added


def _read_inputs(manifest: dict[str, Any]) -> dict[str, bytes]:
    return {name: (ROOT / "inputs" / f"{name}.bin").read_bytes() for name in manifest["inputs"]}


def check(reg: Registry) -> list[str]:
    """Every problem with the vectors (an empty list: the promise holds)."""
    manifest = _load_manifest()
    problems = []
    inputs = _read_inputs(manifest)
    for name, about in manifest["inputs"].items():
        if hashlib.sha256(inputs[name]).hexdigest() != about["sha256"]:
            problems.append(f"inputs/{name}.bin: not the frozen input (its hash differs)")
    for name in BUILTIN:
        codec_class = reg.get(name).codec
        versions = manifest["codecs"].get(name, {})
        if f"v{codec_class.version}" not in versions:
            problems.append(f"{name}: no vectors of payload version {codec_class.version} "
                            f"(run spec/make_codec_vectors.py)")
        for key, cases in versions.items():
            problems += _check_version(reg, name, int(key[1:]), cases, inputs)
    if (ROOT / "README.md").read_text() != readme(manifest):
        problems.append("README.md: not what MANIFEST.json gives (run the generator)")
    return problems


def _check_version(reg: Registry, name: str, version: int, cases: dict[str, Any],
                   inputs: dict[str, bytes]) -> list[str]:
    problems = []
    codec_class = reg.get(name).codec
    if not codec_class.reads(version):
        return [f"{name}: payload version {version} is no longer read (the installed codec "
                f"reads {codec_class.versions_read()}): keep it in reads_older"]
    current = codec_class.version == version
    for case in cases["good"]:
        where = f"{case['payload']} ({case['spec']})"
        payload = (ROOT / case["payload"]).read_bytes()
        if f"{xxh3(payload):016x}" != case["xxh3"]:
            problems.append(f"{where}: not the frozen payload (its hash differs)")
            continue
        codec = reg.for_block(name, version, parse_codec_spec(case["spec"])[1])
        data = inputs[case["input"]]
        try:
            decoded = codec.decode_version(payload, len(data), version)
        except CodecError as error:
            problems.append(f"{where}: no longer decodes: {error}")
            continue
        if decoded != data:
            problems.append(f"{where}: decodes to other bytes than its input")
        if current and codec.encode(data) != payload:
            problems.append(f"{where}: the encoder of version {version} now writes other "
                            f"bytes: a payload change needs a new version")
    for case in cases["bad"]:
        codec = reg.for_block(name, version, parse_codec_spec(case["spec"])[1])
        payload = (ROOT / case["payload"]).read_bytes()
        message = _refusal(codec, payload, case["declared_size"], version)
        if message != case["error"]:
            problems.append(f"{case['payload']}: expected CodecError {case['error']!r}, got "
                            f"{message!r}")
    return problems


def readme(manifest: dict[str, Any]) -> str:
    lines = [
        "# Golden payloads of the built-in codecs",
        "",
        "Generated by `spec/make_codec_vectors.py` (do not edit: this file is made from",
        "`MANIFEST.json`). Each folder `CODEC/vVERSION/` holds the payloads that codec's encoder",
        "wrote at that payload version, once: a folder is never rewritten, so the vectors of a",
        "released version stay as they were, and every later pyarc must decode them",
        "(`tests/test_codec_vectors.py`). The payloads of a codec's current version must also be",
        "exactly what its encoder writes today. The payload formats are specified in",
        "[spec/codecs/](../../codecs/).",
        "",
        "A payload file is `OPTIONS--INPUT.payload`: the codec's complete options as the block",
        "header records them (`default` for a codec without options) and the input it codes,",
        "whose bytes are `inputs/INPUT.bin`; it decodes to exactly those bytes, given their",
        "length as the block's size. `bad/` holds damaged payloads of the default setting on",
        "`text`, each with the size declared and the CodecError message a decoder gives (damage",
        "that happens to decode is left out: the container's data hash refuses it).",
        "",
        "## Inputs",
        "",
        "| input | bytes | what it exercises | SHA-256 (first 16 hex digits) |",
        "|---|---:|---|---|",
    ]
    for name, about in manifest["inputs"].items():
        lines.append(f"| `{name}` | {about['size']:,} | {about['about']} | "
                     f"`{about['sha256'][:16]}` |")
    for name, versions in manifest["codecs"].items():
        for key, cases in versions.items():
            settings = list(dict.fromkeys(case["spec"] for case in cases["good"]))
            lines += ["", f"## `{name}` payload version {key[1:]}", "",
                      f"{len(cases['good'])} payloads: the defaults (`{settings[0]}`) on every "
                      f"input" + (", and on " + " and ".join(f"`{n}`" for n in ALL_SETTINGS_ON)
                                  + ": " + ", ".join(f"`{s}`" for s in settings[1:])
                                  if settings[1:] else "") + ".", ""]
            if cases["bad"]:
                lines += ["| bad payload | damage | declared size | CodecError |",
                          "|---|---|---:|---|"]
                lines += [f"| `{Path(case['payload']).name}` | {case['damage']} | "
                          f"{case['declared_size']:,} | {case['error']} |"
                          for case in cases["bad"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="verify the vectors instead of adding missing ones")
    args = parser.parse_args(argv)
    reg = registry()
    if args.check:
        problems = check(reg)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for added in write(reg):
        print(f"added {added}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
