"""The pluggy hooks through which every codec, built-in or third-party, joins pyarc, and
through which pyarc's own plugins set the policy that the core does not name codecs for.

A plugin is a module named by an entry point in the group `pyarc.codecs`:

    # pyproject.toml of the plugin's distribution
    [project.entry-points."pyarc.codecs"]
    mycodec = "mypackage.pyarc_plugin"

    # mypackage/pyarc_plugin.py
    from archiver import hookimpl

    @hookimpl
    def register_codecs(register):
        register(MyCodec)          # a subclass of archiver.Codec

A plugin implements any of the hooks; docs/plugins.md describes each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pluggy

PROJECT = "pyarc"
ENTRY_POINT_GROUP = "pyarc.codecs"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_codecs(register: Callable[[type[Any]], None]) -> None:
    """Call `register(codec_class)` once for each codec this plugin provides."""


@hookspec
def auto_candidates(level: int) -> Mapping[str, Sequence[str]]:
    """The codec specs (`name` or `name:key=value,...`) that `--codec auto` tries at compression
    `level` (1 fastest .. 9 smallest; archiver/levels.py) on a block of each kind group, by
    group ("text", "binary", "executable", "compressed": the groups of archiver/grouping.py),
    in the order given after the candidates of plugins loaded before. An implementation may
    leave out the `level` parameter: its answer then holds at every level. A group no plugin
    names, and every block when --auto-codecs is given, gets every installed codec that
    `tried_by_auto`."""
    raise NotImplementedError  # a specification: only implementations are called


@hookspec
def metadata_codecs() -> Sequence[str]:
    """The codecs that compress an archive's tables and its index (auto over them). Only the
    answers of pyarc's own plugins count, and only pyarc's own codecs, so that listing an
    archive never needs a third-party plugin; they should decode fast, since `pyarc list`
    decodes the whole index. None at all: the tables are stored."""
    raise NotImplementedError
