"""Secondary estimation (an adaptive probability map, APM): a model's probability, refined, in
a table that the caller owns (spec/codecs/coding.md, section "APM").

A model's probability p is often biased in ways that depend on a context it did not see (how
long the current run is, which node of a byte it codes). An APM learns, per context, the
function from p to the probability actually observed: the range of p is cut into BUCKETS - 1
equal intervals, each end of each interval holds an adaptive estimate (BUCKETS entries a
context, contiguous in the table), and the refined probability is the linear interpolation
between the two ends around p. Learning moves both ends towards the coded bit at the rate
2**-shift, which the model fixes.

The map starts as the identity (it returns p until it has learned otherwise). Probabilities
are of a 0, in units of 2**-16, and the result stays in [1, 2**16 - 1] like its inputs. A model
keeps the slot of each refine (apm_slot: the context's entry below p) until it learns the bit
coded with it:

    slot = apm_slot(p0, context)
    p = apm_refine(table, slot, p0)
    ... code a bit with p ...
    apm_learn(table, slot, bit, shift)

Compiled kernels cimport the inline C versions of apm_slot, apm_refine and apm_learn from
apm_inline.pxd; these are the same arithmetic for kernels running as plain Python. apm_table
builds the table for both.
"""

from array import array

BUCKETS = 33
STEP_BITS = 11  # 2**16 / (BUCKETS - 1) = 2**11
ONE = 1 << 16


def apm_table(contexts: int) -> array:
    """The entries of `contexts` identity maps: entry j of each is min(max(j * 2048, 1), 65535)."""
    ramp = [min(max(j << STEP_BITS, 1), ONE - 1) for j in range(BUCKETS)]
    return array("H", ramp) * contexts


def apm_slot(p0, context):
    return context * BUCKETS + (p0 >> STEP_BITS)


def apm_refine(table, slot, p0):
    weight = p0 & ((1 << STEP_BITS) - 1)
    return (table[slot] * ((1 << STEP_BITS) - weight) + table[slot + 1] * weight) >> STEP_BITS


def apm_learn(table, slot, bit, shift):
    target = 0 if bit else ONE - 1
    for index in (slot, slot + 1):
        value = table[index]
        if target > value:
            table[index] = value + ((target - value) >> shift)
        else:
            table[index] = value - ((value - target) >> shift)
