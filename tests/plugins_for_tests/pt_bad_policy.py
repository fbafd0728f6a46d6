"""A plugin whose auto_candidates answer has the wrong shape (a string, not a list of specs)."""

from __future__ import annotations

from archiver import hookimpl


@hookimpl
def auto_candidates() -> dict[str, str]:
    return {"binary": "xorcodec"}
