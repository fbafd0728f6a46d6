# C-level interface of lzw_kernel.py.
cpdef bytes encode(const unsigned char[::1] data, int max_bits)
cpdef bytes decode(const unsigned char[::1] payload, Py_ssize_t size, int max_bits)
