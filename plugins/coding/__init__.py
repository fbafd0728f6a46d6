"""Coding primitives shared by the codecs: not a codec itself.

Each module is one idea, written in Cython's pure-Python mode (it runs as plain Python and is
compiled where a C compiler exists). Its `.pxd` file declares the C-level interface, so another
kernel can `cimport` it and call it at C speed:

    bitio_kernel          BitWriter / BitReader: bits, most significant first
    bitio_inline          their write, peek and skip as inline functions
    integer_codes_kernel  Elias gamma and delta codes, zigzag for signed integers
    prefix_code_kernel    static canonical prefix codes: codes from lengths, the length table,
                          the decoding table, bulk writing and reading of coded bytes
    package_merge_kernel  optimal length-limited code lengths
    prefix_code_sections  a prefix code as a section of a bit stream (huffman, lz77)
    rangecoder_kernel     RangeEncoder / RangeDecoder: frequencies and adaptive binary bits
    rangecoder_inline     the coder's steps as inline functions over a Coder, either of them
                          (code_bit, code_range, ...): one coding loop per model
    counters_inline       counters as inline functions over cells the caller owns
    apm_inline            secondary estimation (APM) as inline functions over a caller's table
    mixer_inline          the logistic mixer (stretch, squash, weights) as inline functions over
                          arrays the caller owns, and its tables
    frequencies_kernel    AdaptiveFrequencies: counts per context, cumulative via a Fenwick tree
    bithistory_inline     bit histories: a byte per context that counts its zeros and ones
    kind_byte             a modelled codec's first byte: modelled, or stored when that is smaller
    prefetch              a hint to the CPU to load a cache line ahead of its use
    large_tables          zeroed memory for a model's big tables, on huge pages where granted

What these write and compute, as far as a payload depends on it, is specified once in
spec/codecs/coding.md; the codecs' specs link to its sections.

From another kernel (see plugins/arithmetic/arithmetic_kernel.py):

    if cython.compiled:
        from cython.cimports.pyarc_plugins.coding.rangecoder_kernel import RangeEncoder
    else:
        from pyarc_plugins.coding.rangecoder_kernel import RangeEncoder
"""
