"""Loading codec plugins from the `pyarc.codecs` entry points, each one isolated.

A plugin that fails to import, whose hook raises, or that registers something that is not a
valid codec produces one warning naming it; every other codec keeps working. When two plugins
register the same codec name, the first wins (pyarc's own built-ins load first) and the second
is reported.

The process-wide registry (`registry()`) loads plugins when they are first needed, so that a
command that reads an archive imports only the codecs it decodes: a codec of pyarc's own is
loaded from the plugin of its name that `pyarc_plugins.PLUGINS` lists (each built-in plugin is
named after its codec), without reading any distribution's metadata (importing
importlib.metadata and scanning the installed packages costs a sixth of `pyarc list`'s
start-up); anything else (a third-party codec, the list of all codecs, the policy hooks) reads
the entry points and loads every plugin, in the same order as an eager load, so that what wins
is the same.

Control, by environment variable:
- PYARC_DISABLE_PLUGINS: plugin (entry point) names to skip, comma-separated; `third-party`
  skips every plugin not shipped with pyarc.
- PYARC_STRICT_PLUGINS=1: a plugin problem is an error (PluginError), not a warning: for
  deployments that must not run with a codec silently missing.
"""

from __future__ import annotations

import functools
import importlib
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from archiver import __version__, hookspecs
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
from archiver.levels import CODED_LEVELS, DEFAULT_LEVEL

if TYPE_CHECKING:  # (imported at run time only where the entry points are read)
    from importlib.metadata import EntryPoint

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
    #: The place of its plugin in the loading order: of two plugins that register one name,
    #: the one with the smaller rank wins, whichever was loaded first.
    rank: int = 0

    @property
    def builtin(self) -> bool:
        return self.distribution.split(" ")[0] == BUILTIN_DISTRIBUTION


@dataclass(frozen=True)
class Policy:
    """What the plugins' policy hooks answered (hookspecs.auto_candidates, metadata_codecs)."""

    #: Level -> kind group -> the codec specs `auto` tries on its blocks at that level, in the
    #: order given (archiver/levels.py).
    auto: Mapping[int, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    #: The codecs for tables and the index, as pyarc's own plugins name them.
    metadata: tuple[str, ...] = ()


class Registry:
    """The codecs available in this process, by name; plugins still `pending` are loaded when
    a codec they may provide is asked for (see the module's docstring)."""

    def __init__(self, codecs: dict[str, RegisteredCodec], policy: Policy | None = None,
                 pending: Sequence[_Plugin] = (),
                 discover: Callable[[], list[_Plugin]] | None = None) -> None:
        self._codecs = dict(codecs)
        #: Each plugin's answers to the policy hooks, with its rank.
        self.answers: list[tuple[int, Policy]] = [(0, policy)] if policy else []
        self._pending = list(pending)
        #: Reads the entry points, when that is deferred until a plugin not yet pending is
        #: needed: every plugin, of which those already pending (or loaded) are dropped.
        self._discover = discover
        self._known = {(plugin.name, plugin.builtin) for plugin in pending}
        self._lock = threading.RLock()
        self._warned_uncompiled: set[str] = set()

    def __reduce__(self) -> tuple[Callable[[], Registry], tuple[()]]:
        """Pickled as "the process-wide registry" of whoever unpickles it: a worker process or
        a Dask worker decodes with the plugins installed there (archiver/executors.py)."""
        return registry, ()

    def _load(self, plugins: Iterable[_Plugin]) -> None:
        for plugin in list(plugins):
            if plugin in self._pending:
                self._pending.remove(plugin)
                plugin.load(self)

    def _everything_pending(self) -> list[_Plugin]:
        """The plugins still pending, once the entry points have been read."""
        if self._discover is not None:
            discover, self._discover = self._discover, None
            self._pending.extend(plugin for plugin in discover()
                                 if (plugin.name, plugin.builtin) not in self._known)
            self._pending.sort(key=lambda plugin: plugin.rank)
        return self._pending

    def load_all(self) -> None:
        """Load every plugin still pending."""
        if self._pending or self._discover:
            with self._lock:
                self._load(self._everything_pending())

    def _find(self, name: str) -> RegisteredCodec | None:
        """The codec `name`, loading its built-in plugin, or else every plugin, if need be."""
        if name not in self._codecs and (self._pending or self._discover):
            with self._lock:
                self._load(plugin for plugin in self._pending
                           if plugin.builtin and plugin.name == name)
                if name not in self._codecs:
                    self._load(self._everything_pending())
        return self._codecs.get(name)

    def add(self, found: RegisteredCodec) -> None:
        """Register a codec; of two with one name, the plugin ranked first wins, the other is
        reported."""
        first = self._codecs.get(found.codec.name)
        if first is not None:
            if first.rank > found.rank:
                first, found = found, first
                self._codecs[first.codec.name] = first
            _warn(f"plugin {found.plugin!r} ({found.distribution}) registers codec "
                  f"{found.codec.name!r}, already provided by plugin {first.plugin!r} "
                  f"({first.distribution}); ignored")
            return
        self._codecs[found.codec.name] = found

    def __contains__(self, name: str) -> bool:
        return self._find(name) is not None

    def __iter__(self) -> Iterator[RegisteredCodec]:
        self.load_all()
        return iter(sorted(self._codecs.values(), key=lambda found: found.rank))

    def names(self) -> list[str]:
        return [found.codec.name for found in self]

    def get(self, name: str) -> RegisteredCodec:
        found = self._find(name)
        if found is None:
            available = ", ".join(self.names()) or "none"
            raise UsageError(f"unknown codec {name!r} (available: {available})")
        return found

    def create(self, spec: str) -> Codec:
        """Build a codec from command-line syntax, `name` or `name:key=value,...`."""
        name, options = parse_codec_spec(spec)
        return self._instantiate(self.get(name).codec, options)

    def require(self, name: str, version: int) -> RegisteredCodec:
        """The installed codec that reads payload `version` of codec `name`, or
        MissingCodecError saying what to install."""
        found = self._find(name)
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

    @property
    def policy(self) -> Policy:
        """The plugins' answers to the policy hooks, joined in their loading order."""
        self.load_all()
        auto: dict[int, dict[str, tuple[str, ...]]] = {}
        metadata: tuple[str, ...] = ()
        for _, answer in sorted(self.answers, key=lambda item: item[0]):
            for level, groups in answer.auto.items():
                joined = auto.setdefault(level, {})
                for group, specs in groups.items():
                    joined[group] = joined.get(group, ()) + tuple(specs)
            metadata += tuple(answer.metadata)
        return Policy(auto, metadata)

    def auto_candidates(self, group: str, level: int = DEFAULT_LEVEL) -> list[str]:
        """The codec specs the plugins give `auto` at `level` for a block of kind `group` whose
        codec is installed ([] when there is none: `auto` then tries every installed codec
        that is `tried_by_auto`)."""
        return [spec for spec in self.policy.auto.get(level, {}).get(group, ())
                if parse_codec_spec(spec)[0] in self._codecs]

    def tried_by_auto(self) -> list[str]:
        """The installed codecs `auto` tries where no level names its candidates."""
        return [found.codec.name for found in self if found.codec.tried_by_auto]

    def metadata_codecs(self) -> list[str]:
        """The codecs that compress tables and the index: those pyarc's own plugins name, and
        only pyarc's own codecs, so that listing an archive never needs a third-party plugin
        ([] when there is none: the tables are stored)."""
        return [name for name in self.policy.metadata
                if name in self._codecs and self._codecs[name].builtin]


def _warn(message: str) -> None:
    """One warning line, even when a plugin's exception text spans several; in strict mode,
    an error."""
    message = " ".join(message.split())
    if os.environ.get(STRICT_VARIABLE, "") not in ("", "0"):
        raise PluginError(f"{message} ({STRICT_VARIABLE} is set)")
    warnings.warn(message, PluginWarning, stacklevel=3)


def _is_builtin(label: str) -> bool:
    return label.split(" ")[0] == BUILTIN_DISTRIBUTION


def _disabled(name: str, label: str) -> bool:
    """Whether DISABLE_VARIABLE names this plugin, or all third-party ones and it is one."""
    names = {name.strip() for name in os.environ.get(DISABLE_VARIABLE, "").split(",")}
    return name in names or (THIRD_PARTY in names and not _is_builtin(label))


def _distribution_label(entry_point: EntryPoint) -> str:
    """"name version" of the distribution that declares the entry point ("unknown": none)."""
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


@dataclass(eq=False)
class _Plugin:
    """One entry point (its name and how to import its object), to be loaded into a registry
    once."""

    name: str
    import_object: Callable[[], Any]
    label: str
    rank: int
    manager: pluggy.PluginManager

    @property
    def builtin(self) -> bool:
        return _is_builtin(self.label)

    def load(self, registry: Registry) -> None:
        """Import the plugin and call its hooks: its codecs and policy join `registry`."""
        where = f"plugin {self.name!r} ({self.label})"
        try:
            module = self.import_object()
            self.manager.register(module, name=self.name)
        except Exception as error:  # an isolated plugin: report it and carry on
            _warn(f"{where} failed to load: {type(error).__name__}: {error}")
            return

        def register(candidate: Any) -> None:
            try:
                codec = _check_codec_class(candidate)
            except Exception as error:
                _warn(f"{where} registered an invalid codec: {error}")
                return
            registry.add(RegisteredCodec(codec, self.name, self.label, self.rank))

        self._call(where, "registering codecs", "register_codecs", register=register)
        auto = {level: self._call(where, "giving auto's candidates", "auto_candidates",
                                  level=level)
                for level in CODED_LEVELS}
        # Only pyarc's own plugins choose the metadata codecs (see Registry.metadata_codecs).
        metadata = (self._call(where, "naming the metadata codecs", "metadata_codecs")
                    if self.builtin else [])
        if any(auto.values()) or metadata:
            try:
                registry.answers.append((self.rank, _policy(auto, metadata)))
            except (TypeError, UsageError) as error:
                _warn(f"{where} gave an invalid policy: {error}")

    def _call(self, where: str, doing: str, hook: str, **arguments: Any) -> list[Any]:
        """The answers of this plugin's implementations of `hook` (one that raises: none)."""
        answers = []
        for implementation in getattr(self.manager.hook, hook).get_hookimpls():
            if implementation.plugin_name != self.name:
                continue
            try:  # (an implementation may take fewer arguments than the hook gives)
                answers.append(implementation.function(
                    **{name: arguments[name] for name in implementation.argnames}))
            except Exception as error:
                _warn(f"{where} failed while {doing}: {type(error).__name__}: {error}")
        return answers


def _specs(value: Any, what: str) -> tuple[str, ...]:
    """A list of codec specs, checked: TypeError, or UsageError for a spec that does not
    parse."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{what} must be a list of codec specs, not {value!r}")
    for spec in value:
        if not isinstance(spec, str):
            raise TypeError(f"{what}: {spec!r} is not a codec spec")
        parse_codec_spec(spec)
    return tuple(value)


def _policy(auto: Mapping[int, list[Any]], metadata: list[Any]) -> Policy:
    """One plugin's answers to auto_candidates (at each level) and metadata_codecs, checked."""
    levels: dict[int, dict[str, tuple[str, ...]]] = {}
    for level, answers in auto.items():
        groups = levels.setdefault(level, {})
        for answer in answers:
            if not isinstance(answer, Mapping):
                raise TypeError(f"auto_candidates must return a mapping, not {answer!r}")
            for group, specs in answer.items():
                groups[str(group)] = (groups.get(str(group), ())
                                      + _specs(specs, f"group {group!r}"))
    names = tuple(name for answer in metadata for name in _specs(answer, "metadata_codecs"))
    return Policy(levels, names)


def installed_entry_points(group: str = hookspecs.ENTRY_POINT_GROUP) -> list[EntryPoint]:
    """The entry points of `group` of the installed distributions."""
    import importlib.metadata

    return list(importlib.metadata.entry_points(group=group))


def load_registry(entry_points: Iterable[EntryPoint] | None = None, *,
                  lazy: bool = False) -> Registry:
    """A registry of every plugin of the `pyarc.codecs` group (or of the given entry points),
    loaded now, or each when it is first needed (`lazy`: see the module's docstring)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)

    def plugins(entry_points: Iterable[EntryPoint]) -> list[_Plugin]:
        labelled = [(entry_point, _distribution_label(entry_point))
                    for entry_point in entry_points]
        # Built-ins first, so that a third-party plugin cannot shadow them; then a stable
        # order (that _shipped_plugins gives pyarc's own plugins too).
        labelled.sort(key=lambda item: (not _is_builtin(item[1]), item[1], item[0].name))
        return [_Plugin(entry_point.name, entry_point.load, label, rank, manager)
                for rank, (entry_point, label) in enumerate(labelled, start=1)
                if not _disabled(entry_point.name, label)]

    if entry_points is not None:
        registry = Registry({}, pending=plugins(entry_points))
    elif lazy:
        registry = Registry({}, pending=_shipped_plugins(manager),
                            discover=lambda: plugins(installed_entry_points()))
    else:
        registry = Registry({}, pending=plugins(installed_entry_points()))
    if not lazy:
        registry.load_all()
    return registry


def _shipped_plugins(manager: pluggy.PluginManager) -> list[_Plugin]:
    """pyarc's own plugins, as its entry points declare them (pyarc_plugins.PLUGINS, which a
    test holds to the installed entry points), ranked as load_registry ranks them."""
    from pyarc_plugins import PLUGINS

    label = f"{BUILTIN_DISTRIBUTION} {__version__}"
    return [_Plugin(name, functools.partial(importlib.import_module, module), label, rank,
                    manager)
            for rank, (name, module) in enumerate(sorted(PLUGINS.items()), start=1)
            if not _disabled(name, label)]


@functools.cache
def registry() -> Registry:
    """The process-wide registry: each plugin loaded when first needed."""
    return load_registry(lazy=True)
