"""`cm`: context mixing, in the lineage of lpaq1 and zpaq's ICM chains.

Every byte is coded bit by bit with the shared binary range coder. Each bit is predicted by
context models (orders 0-6, words, sparse and record contexts for tables and binaries: how
many depends on `level`), each turning the bit history of its context into a probability, and
by a match model that follows the last long repeat; a gated logistic mixer combines them and
an APM refines the result (two in payload version 1). The model is model_kernel.py;
docs/cm.md explains it for students and spec/codecs/cm.md specifies every rule that both
sides compute.

Options (recorded in the block header, so the decoder builds the same model):
- `level`: 1 to 3 (default 2), how many context models: 1 is lpaq1's set (orders 1-4 and 6,
  words), 2 adds a sparse and a record context, 3 more for long contexts and columns;
- `memory`: the model's memory in MiB, 16 to 1024 (default 64): the hash table of the bit
  histories, the match model's table and the fixed tables (counters, mixer, APMs) together.
  Small blocks use less: the hash table never exceeds what the block could fill.

Payload, version 2: a kind byte (0: the range coder's output follows, starting with the block
size; 1: the data as it is, when modelling would not shrink it), or nothing for an empty block.
Version 1 had the same layout and another model (a 64-bit mixer, a second APM, larger
tables: spec/codecs/cm.md); pyarc still decodes it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import ClassVar

from archiver import Codec, Option, hookimpl
from pyarc_plugins.cm import model_kernel
from pyarc_plugins.coding.kind_byte import ModelledCodec

MIB = 1 << 20


class CmCodec(ModelledCodec):
    name = "cm"
    version = 2
    reads_older = frozenset({1})
    decode_rank = 90
    # At a fifth of ppm's speed, tried by auto only where a level names it (pack -9).
    tried_by_auto = False
    description = ("context mixing (lpaq1-style bit histories in hashed tables, match model, "
                   "gated logistic mixer, APMs), levels 1-3")
    option_specs = (
        Option("level", 2, "how many context models (1 fastest, 3 strongest)",
               minimum=1, maximum=3),
        Option("memory", 64, "model memory in MiB (hash tables and fixed tables)",
               minimum=16, maximum=1024),
    )
    kernels = ("pyarc_plugins.cm.model_kernel",)

    model_kernel: ClassVar[ModuleType] = model_kernel

    def settings(self, version: int) -> tuple[int, int, int]:
        return int(self.options["level"]), int(self.options["memory"]) * MIB, version


@hookimpl
def register_codecs(register: Callable[[type[Codec]], None]) -> None:
    register(CmCodec)
