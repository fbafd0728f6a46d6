"""Loading codec plugins from the `pyarc.codecs` entry points, each one isolated.

A plugin that fails to import, whose hook raises, or that registers something that is not a
valid codec produces one warning naming it; every other codec keeps working. When two plugins
register the same codec name, the first wins (pyarc's own built-ins load first) and the second
is reported.

Control, by environment variable:
- PYARC_DISABLE_PLUGINS: plugin (entry point) names to skip, comma-separated; `third-party`
  skips every plugin not shipped with pyarc.
- PYARC_STRICT_PLUGINS=1: a plugin problem is an error (PluginError), not a warning: for
  deployments that must not run with a codec silently missing.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pluggy

from archiver import hookspecs
from archiver.codec import (
    CODEC_NAME,
    MAX_OPTIONS,
    OPTION_NAME,
    Codec,
    Option,
    kernel_status,
    parse_codec_spec,
    version_problem,
)
from archiver.errors import MissingCodecError, PyarcError, UsageError

BUILTIN_DISTRIBUTION = "pyarc"
DISABLE_VARIABLE = "PYARC_DISABLE_PLUGINS"
STRICT_VARIABLE = "PYARC_STRICT_PLUGINS"
#: In DISABLE_VARIABLE: every plugin from a distribution other than pyarc.
THIRD_PARTY = "third-party"


class PluginError(PyarcError):
    """A plugin problem, in strict mode (PYARC_STRICT_PLUGINS=1)."""


class PluginWarning(UserWarning):
    """A codec plugin could not be loaded or registered something invalid."""


class KernelWarning(UserWarning):
    """A codec runs its kernels as plain Python because they were not compiled."""


@dataclass(frozen=True)
class RegisteredCodec:
    """A codec class and where it came from."""

    codec: type[Codec]
    plugin: str  # the entry point's name
    distribution: str  # "name version" of the distribution that declared the entry point

    @property
    def builtin(self) -> bool:
        return self.distribution.split(" ")[0] == BUILTIN_DISTRIBUTION


class Registry:
    """The codecs available in this process, by name."""

    def __init__(self, codecs: dict[str, RegisteredCodec]) -> None:
        self._codecs = codecs
        self._warned_uncompiled: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self._codecs

    def __iter__(self) -> Iterator[RegisteredCodec]:
        return iter(self._codecs.values())

    def names(self) -> list[str]:
        return list(self._codecs)

    def get(self, name: str) -> RegisteredCodec:
        try:
            return self._codecs[name]
        except KeyError:
            available = ", ".join(self._codecs) or "none"
            raise UsageError(f"unknown codec {name!r} (available: {available})") from None

    def create(self, spec: str) -> Codec:
        """Build a codec from command-line syntax, `name` or `name:key=value,...`."""
        name, options = parse_codec_spec(spec)
        return self._instantiate(self.get(name).codec, options)

    def require(self, name: str, version: int) -> RegisteredCodec:
        """The installed codec that reads payload `version` of codec `name`, or
        MissingCodecError saying what to install."""
        found = self._codecs.get(name)
        if found is None:
            raise MissingCodecError(
                f"the archive needs codec {name!r}, which is not installed "
                f"(install the plugin that provides it; `pyarc codecs` lists what is installed)"
            )
        codec = found.codec
        if not codec.reads(version):
            read = codec.versions_read()
            reads = ("version " if len(read) == 1 else "versions ") + ", ".join(map(str, read))
            remedy = ("written by a newer release: upgrade the plugin that provides it"
                      if version > codec.version else "which no installed plugin reads")
            raise MissingCodecError(
                f"the archive needs codec {name!r} payload version {version}, {remedy} "
                f"(the installed {name!r}, {found.distribution}, reads {reads})"
            )
        return found

    def for_block(self, name: str, version: int, options: dict[str, str]) -> Codec:
        """Build the decoder for a block written by codec `name` at payload `version`."""
        found = self.require(name, version)
        # A block records its codec's complete options: defaults must not fill gaps silently.
        expected = {spec.name for spec in found.codec.option_specs}
        if set(options) != expected:
            missing = ", ".join(sorted(expected - set(options))) or "none"
            unexpected = ", ".join(sorted(set(options) - expected)) or "none"
            raise UsageError(f"the block's options are not those of codec {name!r} "
                             f"(missing: {missing}; unexpected: {unexpected})")
        return self._instantiate(found.codec, options)

    def _instantiate(self, codec: type[Codec], options: dict[str, Any]) -> Codec:
        if codec.name not in self._warned_uncompiled and kernel_status(codec) == "uncompiled":
            self._warned_uncompiled.add(codec.name)
            warnings.warn(
                f"codec {codec.name!r} runs uncompiled (pure Python, far slower); "
                f"reinstall pyarc with a C compiler available to compile its kernels",
                KernelWarning,
                stacklevel=3,
            )
        return codec(**options)


def _warn(message: str) -> None:
    """One warning line, even when a plugin's exception text spans several; in strict mode,
    an error."""
    message = " ".join(message.split())
    if os.environ.get(STRICT_VARIABLE, "") not in ("", "0"):
        raise PluginError(f"{message} ({STRICT_VARIABLE} is set)")
    warnings.warn(message, PluginWarning, stacklevel=3)


def _disabled(entry_point: importlib.metadata.EntryPoint, label: str) -> bool:
    """Whether DISABLE_VARIABLE names this plugin, or all third-party ones and it is one."""
    names = {name.strip() for name in os.environ.get(DISABLE_VARIABLE, "").split(",")}
    third_party = label.split(" ")[0] != BUILTIN_DISTRIBUTION
    return entry_point.name in names or (THIRD_PARTY in names and third_party)


def _distribution_label(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "unknown"
    return f"{dist.metadata['Name']} {dist.version}"


def _check_codec_class(candidate: Any) -> type[Codec]:
    """Raise TypeError/ValueError explaining why `candidate` is not a usable codec class."""
    if not (isinstance(candidate, type) and issubclass(candidate, Codec)):
        raise TypeError(f"{candidate!r} is not a subclass of archiver.Codec")
    name = getattr(candidate, "name", None)
    if not isinstance(name, str) or not CODEC_NAME.fullmatch(name):
        raise ValueError(f"codec name {name!r} is invalid (lower case, [a-z0-9_-], <= 32 chars)")
    problem = version_problem(candidate)
    if problem:
        raise ValueError(f"codec {name!r}: {problem}")
    specs = candidate.option_specs
    if len(specs) > MAX_OPTIONS or len({spec.name for spec in specs}) != len(specs):
        raise ValueError(f"codec {name!r}: at most {MAX_OPTIONS} options, each named once")
    for spec in specs:
        if not isinstance(spec, Option):
            raise TypeError(f"codec {name!r}: option_specs must hold archiver.Option objects")
        if not OPTION_NAME.fullmatch(spec.name):
            raise ValueError(f"codec {name!r}: option name {spec.name!r} is invalid "
                             f"(lower case, [a-z0-9_], <= 32 chars)")
        spec.parse(spec.default)
    candidate()  # the defaults must form a valid configuration
    kernel_status(candidate)  # its kernels must import
    return candidate


def load_registry(
    entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
) -> Registry:
    """Load every plugin of the `pyarc.codecs` group (or the given entry points)."""
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=hookspecs.ENTRY_POINT_GROUP)
    # Built-ins first, so that a third-party plugin cannot shadow them; then a stable order.
    ordered = sorted(
        entry_points,
        key=lambda ep: (not _distribution_label(ep).startswith(BUILTIN_DISTRIBUTION + " "),
                        _distribution_label(ep), ep.name),
    )
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    codecs: dict[str, RegisteredCodec] = {}

    for entry_point in ordered:
        label = _distribution_label(entry_point)
        if _disabled(entry_point, label):
            continue
        where = f"plugin {entry_point.name!r} ({label})"
        try:
            module = entry_point.load()
            manager.register(module, name=entry_point.name)
        except Exception as error:  # an isolated plugin: report it and carry on
            _warn(f"{where} failed to load: {type(error).__name__}: {error}")
            continue

        def register(candidate: Any, *, _where: str = where, _ep: Any = entry_point,
                     _label: str = label) -> None:
            try:
                codec = _check_codec_class(candidate)
            except Exception as error:
                _warn(f"{_where} registered an invalid codec: {error}")
                return
            if codec.name in codecs:
                first = codecs[codec.name]
                _warn(f"{_where} registers codec {codec.name!r}, already provided by "
                      f"plugin {first.plugin!r} ({first.distribution}); ignored")
                return
            codecs[codec.name] = RegisteredCodec(codec, _ep.name, _label)

        for implementation in manager.hook.register_codecs.get_hookimpls():
            if implementation.plugin_name != entry_point.name:
                continue
            try:
                implementation.function(register=register)
            except Exception as error:
                _warn(f"{where} failed while registering codecs: "
                      f"{type(error).__name__}: {error}")
    return Registry(codecs)


@functools.cache
def registry() -> Registry:
    """The process-wide registry, loaded on first use."""
    return load_registry()
