"""A third-party plugin that answers the policy hooks: auto candidates for binary blocks (taken,
after pyarc's own) and metadata codecs (ignored: only pyarc's own plugins choose them)."""

from __future__ import annotations

from archiver import hookimpl


@hookimpl
def auto_candidates() -> dict[str, list[str]]:
    return {"binary": ["xorcodec"], "text": ["nosuchcodec"]}


@hookimpl
def metadata_codecs() -> list[str]:
    return ["xorcodec"]
