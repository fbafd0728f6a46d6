"""Run the pyarc CLI as another user: `python tests/as_user.py UID UMASK ARGS...`.

The tests run as root here, and root ignores permission bits, so tests of what an ordinary user
meets (an unreadable file, the umask on extraction) run pyarc in a child that drops to `UID`.
It drops *after* importing pyarc, its plugins and what they import: the interpreter itself may
live where an unprivileged user cannot read (/root/.pyenv), so nothing may be imported later.
"""

import concurrent.futures.thread  # noqa: F401 (archiver.blocks imports it lazily)
import importlib.metadata  # noqa: F401 (pydantic's plugin loader imports it lazily)
import os
import sys

import pydivsufsort  # noqa: F401 (bwt's encoder imports it lazily)
import typer._adapters  # noqa: F401 (imported lazily to convert arguments: pydantic)
import typer.rich_utils  # noqa: F401 (help and error messages import it lazily)

import archiver.cli
import archiver.extract  # noqa: F401 (this and the next three: archiver.api imports them lazily)
import archiver.salvage  # noqa: F401
import archiver.sources  # noqa: F401
import archiver.writer  # noqa: F401
from archiver.plugins import registry

registry().load_all()  # imports every codec plugin and its kernels
uid, umask, *args = sys.argv[1:]
os.umask(int(umask, 8))
if int(uid) != os.geteuid():
    os.setgroups([])
    os.setgid(int(uid))
    os.setuid(int(uid))
sys.argv = ["pyarc", *args]
archiver.cli.run()
