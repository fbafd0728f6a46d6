# Compiler settings of the cm kernel (an augmenting .pxd: Cython reads it with model_kernel.py;
# pure Python ignores it). GCC's loop vectoriser turns the kernel's 64-bit multiply-adds (the
# mixer's dot product and learning over 64-bit weights, the counters' updates) into SSE2
# sequences that run slower than scalar code: without it the kernel codes about 7% faster
# (Calgary-14, level 2). The arithmetic, and so the payload, is the same either way.
cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__)
    #pragma GCC optimize ("no-tree-vectorize")
    #endif
    """
