# C-level interface of sequences_kernel.py: the bucket and repeat-offset rules, which
# parse_kernel cimports.

cdef unsigned int bucket(unsigned int value) noexcept nogil
cdef int extra_bits(unsigned int code) noexcept nogil
cdef void update_repeats(int[:] reps, Py_ssize_t source, Py_ssize_t target, Py_ssize_t value) noexcept nogil
