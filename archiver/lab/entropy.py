"""How far can a source be compressed? The measures behind `pyarc entropy`.

Three kinds of number, which must not be confused:

- H0, the order-0 empirical entropy: -sum p(x) log2 p(x) over the byte frequencies. A true
  lower bound for any code that gives each byte value a fixed code (Huffman, order-0
  arithmetic) built for this data, tables aside.
- H1..Hk, the empirical conditional entropies given the k bytes before: descriptive only. They
  are computed from counts the decoder does not have, and a model with 256**k contexts is not
  free to describe: on 1 MB of random bytes H3 is about 4 bits per byte, yet nothing compresses
  it.
- Adaptive code lengths: what a coder that learns as it goes (an arithmetic coder under an
  adaptive order-k model, each context's counts starting from nothing) spends, exactly. Each is
  achievable, so each is an upper bound on the best achievable; the shortest is our estimate.
  The order-k models here use the Krichevsky-Trofimov estimator (counts + 1/2), and the
  context-model codecs (ppm, bwt and cm, else arithmetic) add the code lengths of tuned ones.

The estimate of the achievable size is therefore min(adaptive code lengths, 8 bits per byte:
storing), which random data meets at 8 and text far below H0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from archiver.errors import PyarcError, UsageError
from archiver.plugins import Registry
from archiver.plugins import registry as default_registry

if TYPE_CHECKING:
    import numpy as np
# numpy is imported inside the functions that count: importing this module stays cheap.

#: The Krichevsky-Trofimov estimator: p(x | context) = (n(x) + 1/2) / (n + 256/2).
KT_PRIOR = 0.5
#: Contexts are packed into 64 bits with the symbol: up to 7 bytes of context.
MAX_ORDER = 7
DEFAULT_ORDER = 4
#: Context-model codecs whose payload size is an adaptive code length: every one installed is
#: measured; FALLBACK_MODEL_CODEC only when none is.
MODEL_CODECS = ("ppm", "bwt", "cm")
FALLBACK_MODEL_CODEC = "arithmetic"


@dataclass
class Measure:
    """One measure: its name, bits per byte, and what it means."""

    name: str
    bits_per_byte: float
    meaning: str


@dataclass
class EntropyReport:
    size: int
    h0: float
    empirical: list[Measure] = field(default_factory=list)  # H1..Hk
    adaptive: list[Measure] = field(default_factory=list)  # achievable code lengths
    achievable_bits_per_byte: float = 8.0
    reasoning: str = ""

    @property
    def achievable_bytes(self) -> int:
        return math.ceil(self.achievable_bits_per_byte * self.size / 8)

    def as_dict(self) -> dict[str, object]:
        result = asdict(self)
        result["achievable_bytes"] = self.achievable_bytes
        return result


def _context_keys(symbols: np.ndarray, order: int) -> np.ndarray:
    """For each position, the `order` bytes before it packed into an integer (bytes before
    the start count as zeros)."""
    import numpy as np
    keys = np.zeros(len(symbols), dtype=np.uint64)
    for back in range(1, order + 1):
        shifted = np.zeros(len(symbols), dtype=np.uint64)
        shifted[back:] = symbols[:-back]
        keys |= shifted << np.uint64(8 * (back - 1))
    return keys


def _group_sizes(keys: np.ndarray) -> np.ndarray:
    """How often each distinct key occurs."""
    import numpy as np
    return np.unique(keys, return_counts=True)[1].astype(np.float64)


def _counts_before(keys: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions have the same key."""
    import numpy as np
    order = np.argsort(keys, kind="stable")  # stable: equal keys stay in position order
    ranked = keys[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(keys)]))
    before = np.empty(len(keys), dtype=np.int64)
    before[order] = np.arange(len(keys)) - group_start
    return before


def _keys(symbols: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """For each position, its context key (_context_keys) and that key with the byte."""
    import numpy as np
    contexts = _context_keys(symbols, order)
    return contexts, (contexts << np.uint64(8)) | symbols.astype(np.uint64)


def empirical_entropy(symbols: np.ndarray, order: int) -> float:
    """H_order, bits per byte: the entropy of a byte given the `order` bytes before it, from
    this data's own counts (order 0: H0)."""
    import numpy as np
    n = len(symbols)
    if n == 0:
        return 0.0
    contexts, joint_keys = _keys(symbols, order)
    joint, marginal = _group_sizes(joint_keys), _group_sizes(contexts)
    bits = float(np.sum(marginal * np.log2(marginal)) - np.sum(joint * np.log2(joint)))
    return max(bits, 0.0) / n


def order0(data: bytes) -> float:
    """H0 of `data`, bits per byte: the bound of codes that give each byte value one code."""
    import numpy as np
    return empirical_entropy(np.frombuffer(data, dtype=np.uint8), 0)


def adaptive_code_length(symbols: np.ndarray, order: int) -> float:
    """Bits per byte an arithmetic coder spends under an adaptive order-`order` model whose
    every context starts empty and learns by the KT estimator (exact, not an estimate)."""
    import numpy as np
    n = len(symbols)
    if n == 0:
        return 0.0
    contexts, joint_keys = _keys(symbols, order)
    seen_symbol, seen_context = _counts_before(joint_keys), _counts_before(contexts)
    probability = (seen_symbol + KT_PRIOR) / (seen_context + 256 * KT_PRIOR)
    return float(-np.sum(np.log2(probability))) / n


def estimate(data: bytes, max_order: int = DEFAULT_ORDER, registry: Registry | None = None,
             model_codecs: tuple[str, ...] = MODEL_CODECS) -> EntropyReport:
    """All the measures for `data`, and the estimate of its achievable size."""
    import numpy as np
    if not 0 <= max_order <= MAX_ORDER:
        raise UsageError(f"order {max_order} is outside 0..{MAX_ORDER}")
    symbols = np.frombuffer(data, dtype=np.uint8)
    report = EntropyReport(size=len(data), h0=order0(data))
    if not data:
        report.achievable_bits_per_byte = 0.0
        report.reasoning = "empty input"
        return report
    for order in range(1, max_order + 1):
        report.empirical.append(Measure(
            f"H{order}", empirical_entropy(symbols, order),
            "descriptive only, not a bound: ignores the cost of the model"))
    for order in range(max_order + 1):
        report.adaptive.append(Measure(
            f"adaptive order {order}", adaptive_code_length(symbols, order),
            "achievable: adaptive model, KT estimator"))
    report.adaptive += _model_code_lengths(data, registry or default_registry(), model_codecs)
    best = min(report.adaptive, key=lambda measure: measure.bits_per_byte)
    if best.bits_per_byte >= 8.0:
        report.achievable_bits_per_byte = 8.0
        report.reasoning = (f"no model beats 8 bits per byte (best: {best.name}, "
                            f"{best.bits_per_byte:.3f}): incompressible, store it")
    else:
        report.achievable_bits_per_byte = best.bits_per_byte
        report.reasoning = (f"{best.name} codes it in {best.bits_per_byte:.3f} bits per byte, "
                            f"which a coder attains: an upper bound on the best achievable")
    return report


def _model_code_lengths(data: bytes, registry: Registry,
                        names: tuple[str, ...]) -> list[Measure]:
    """The payload size of each installed context-model codec (or of the fallback), as
    measures."""
    installed = [name for name in names if name in registry.names()]
    if not installed and FALLBACK_MODEL_CODEC in registry.names():
        installed = [FALLBACK_MODEL_CODEC]
    measures = []
    for name in installed:
        try:
            payload = registry.create(name).encode(data)
        except PyarcError:
            continue
        measures.append(Measure(f"{name} model", 8 * len(payload) / len(data),
                                f"achievable: the {name} codec's payload"))
    return measures
