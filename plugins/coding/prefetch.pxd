# A hint to the CPU to start loading a cache line that the kernel will read soon (GCC and
# Clang; elsewhere it does nothing). Kernels cimport it when compiled; pure Python has no use
# for it.
cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define pyarc_prefetch(address) __builtin_prefetch(address)
    #else
    #define pyarc_prefetch(address) ((void)0)
    #endif
    """
    void prefetch "pyarc_prefetch"(const void *address) noexcept nogil
