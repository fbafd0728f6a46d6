"""The pluggy hook through which every codec, built-in or third-party, joins pyarc.

A plugin is a module named by an entry point in the group `pyarc.codecs`:

    # pyproject.toml of the plugin's distribution
    [project.entry-points."pyarc.codecs"]
    mycodec = "mypackage.pyarc_plugin"

    # mypackage/pyarc_plugin.py
    from archiver import hookimpl

    @hookimpl
    def register_codecs(register):
        register(MyCodec)          # a subclass of archiver.Codec
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "pyarc"
ENTRY_POINT_GROUP = "pyarc.codecs"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_codecs(register: Callable[[type[Any]], None]) -> None:
    """Call `register(codec_class)` once for each codec this plugin provides."""
