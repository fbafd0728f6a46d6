"""The codec contract: what a compression algorithm must provide to plug into pyarc.

A codec is a class with a stable `name` (written into every block it compresses), a payload
format `version`, the options it accepts, and two pure methods:

    encode(data) -> payload
    decode(payload, size) -> data      (len(data) == size, or CodecError)

An instance carries one complete set of option values (`codec.options`). The container records
those values in each block header, so a decoder is always rebuilt with exactly the options the
encoder used: nothing is assumed. Output must be deterministic: the same data and options give
the same payload on every machine and thread count.

Options are written `name:key=value,key=value` on the command line (`--codec arithmetic:order=1`);
`parse_codec_spec` is the one place that syntax is defined.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from archiver.errors import CodecError, UsageError

#: Codec names: lower case, start with a letter, at most 32 characters; stored in every block.
CODEC_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
#: Option names follow the same shape; values are short printable ASCII. These are the limits
#: of a block header (spec/FORMAT.md), checked when a codec registers and when it is configured.
OPTION_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
OPTION_VALUE = re.compile(r"[ -~]{1,64}")
MAX_OPTION_VALUE_LEN = 64
MAX_OPTIONS = 32

OptionValue = int | str


@dataclass(frozen=True)
class Option:
    """One option a codec accepts. Integer options have a range, string options a set of choices."""

    name: str
    default: OptionValue
    help: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def parse(self, value: OptionValue) -> OptionValue:
        """Check `value` (a Python value or its text form) and return it in canonical form."""
        if not OPTION_VALUE.fullmatch(str(value)):
            raise UsageError(f"option {self.name}={value!r}: values are 1 to "
                             f"{MAX_OPTION_VALUE_LEN} printable ASCII characters")
        if isinstance(self.default, int):
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise UsageError(f"option {self.name}={value!r}: expected an integer") from None
            if self.minimum is not None and number < self.minimum:
                raise UsageError(f"option {self.name}={number}: below the minimum {self.minimum}")
            if self.maximum is not None and number > self.maximum:
                raise UsageError(f"option {self.name}={number}: above the maximum {self.maximum}")
            return number
        text = str(value)
        if self.choices and text not in self.choices:
            choices = ", ".join(self.choices)
            raise UsageError(f"option {self.name}={text!r}: choose one of {choices}")
        return text

    def describe(self) -> str:
        """One-line summary for `pyarc codecs`: name, default and range or choices."""
        if self.choices:
            allowed = "|".join(self.choices)
        elif self.minimum is not None or self.maximum is not None:
            allowed = f"{self.minimum}..{self.maximum}"
        else:
            allowed = "any"
        return f"{self.name}={self.default} ({allowed}): {self.help}"


class Codec:
    """Base class for codecs. Subclasses set the class attributes and implement encode/decode."""

    #: The id written into archives. Never change it once archives exist.
    name: ClassVar[str]
    #: The payload format version `encode` writes. Bump it whenever the payload format changes.
    version: ClassVar[int] = 1
    #: The earlier payload versions this codec still decodes, through `decode_older`. The
    #: promise: once a released pyarc has written a version, it stays readable for ever, so a
    #: bump moves the old version here (with its decoder) rather than dropping it.
    reads_older: ClassVar[frozenset[int]] = frozenset()
    #: One line for `pyarc codecs`.
    description: ClassVar[str] = ""
    #: The options this codec accepts (all have defaults).
    option_specs: ClassVar[tuple[Option, ...]] = ()
    #: Dotted names of the Cython pure-Python-mode modules that do this codec's heavy work.
    kernels: ClassVar[tuple[str, ...]] = ()
    #: How slowly this codec decodes, roughly, as a rank (store 0, huffman 10, ..., ppm 80).
    #: Auto mode tries codecs in this order, and on equal sizes keeps the first: the faster.
    decode_rank: ClassVar[int] = 100
    #: Whether `auto` tries this codec where no level names its candidates (a group the
    #: policy names none for, a plain `compress`): False for a codec far slower than the
    #: others, which only a level (pyarc's own: 9) or --auto-codecs then chooses.
    tried_by_auto: ClassVar[bool] = True

    def __init__(self, **options: OptionValue) -> None:
        specs = {spec.name: spec for spec in self.option_specs}
        unknown = sorted(set(options) - set(specs))
        if unknown:
            known = ", ".join(specs) or "none"
            raise UsageError(
                f"codec {self.name!r} has no option {unknown[0]!r} (its options: {known})"
            )
        self.options: dict[str, OptionValue] = {
            key: spec.parse(options.get(key, spec.default)) for key, spec in specs.items()
        }

    def encode(self, data: bytes) -> bytes:
        """Compress `data` into a payload. Deterministic."""
        raise NotImplementedError

    def decode(self, payload: bytes, size: int) -> bytes:
        """Return the `size` bytes that `payload` encodes; raise CodecError if it is malformed."""
        raise NotImplementedError

    def empty_block(self, payload: bytes, size: int) -> bool:
        """Whether the block is empty (size 0): its one valid payload is the empty one, any other
        is a CodecError. A decoder starts `if self.empty_block(payload, size): return b""`."""
        if size == 0 and payload:
            raise CodecError(f"{self.name}: {len(payload)} bytes of payload for an empty block")
        return size == 0

    def decode_older(self, payload: bytes, size: int, version: int) -> bytes:
        """As `decode`, for a payload of an earlier `version`, one of `reads_older`."""
        raise NotImplementedError(f"codec {self.name!r} declares no decoder for version "
                                  f"{version}")

    def decode_version(self, payload: bytes, size: int, version: int) -> bytes:
        """`decode` or `decode_older`, whichever reads payload `version` (one `reads` allows)."""
        if version == self.version:
            return self.decode(payload, size)
        return self.decode_older(payload, size, version)

    @classmethod
    def reads(cls, version: int) -> bool:
        """Whether this codec decodes payloads of `version`."""
        return version == cls.version or version in cls.reads_older

    @classmethod
    def versions_read(cls) -> list[int]:
        return sorted({cls.version, *cls.reads_older})

    @property
    def spec(self) -> str:
        """The codec and its options in command-line syntax, e.g. `arithmetic:order=1`."""
        return format_codec_spec(self.name, self.options)


def version_problem(codec: type[Codec]) -> str | None:
    """What is wrong with a codec class's payload versions, or None (the registry refuses such
    a plugin; the conformance kit reports it)."""
    version, older = codec.version, codec.reads_older
    if not isinstance(version, int) or not 0 <= version <= 0xFFFF:
        return f"version {version!r} is not an integer in 0..65535"
    if not (isinstance(older, frozenset)
            and all(isinstance(v, int) and 0 <= v < version for v in older)):
        return f"reads_older {older!r} is not a frozenset of versions below {version}"
    if older and codec.decode_older is Codec.decode_older:
        return f"reads_older {sorted(older)} without a decode_older"
    return None


def parse_codec_spec(text: str) -> tuple[str, dict[str, str]]:
    """Split `name:key=value,key=value` into the name and its (still textual) options."""
    name, colon, rest = text.strip().partition(":")
    if not CODEC_NAME.fullmatch(name):
        raise UsageError(f"{name!r} is not a valid codec name")
    if colon and not rest.strip():
        raise UsageError(f"no options after the ':' in {text!r}: expected "
                         f"{name}:key=value,...")
    options: dict[str, str] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not OPTION_NAME.fullmatch(key) or not value:
            raise UsageError(f"bad codec option {item!r} in {text!r}: expected key=value")
        if key in options:
            raise UsageError(f"option {key!r} given twice in {text!r}")
        options[key] = value
    return name, options


def split_codec_specs(text: str) -> list[str]:
    """A comma-separated list of codec specs, split: an item `key=value` (no codec name has an
    `=`) continues the spec before it, so `lz77:level=9,coder=range,ppm` is two specs."""
    specs: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if "=" in item and ":" not in item and specs and ":" in specs[-1]:
            specs[-1] += "," + item
        else:
            specs.append(item)
    return specs


def format_codec_spec(name: str, options: Mapping[str, OptionValue]) -> str:
    """The inverse of parse_codec_spec."""
    if not options:
        return name
    return name + ":" + ",".join(f"{key}={value}" for key, value in options.items())


def kernel_status(codec: type[Codec]) -> str:
    """'compiled', 'uncompiled' (pure Python fallback) or 'none' (the codec has no kernels)."""
    if not codec.kernels:
        return "none"
    for module_name in codec.kernels:
        module = importlib.import_module(module_name)
        origin = getattr(module, "__file__", "") or ""
        if not origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
            return "uncompiled"
    return "compiled"
