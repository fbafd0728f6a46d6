# C-level interface of arithmetic_kernel.py.
cpdef bytes encode(const unsigned char[:] data, int order, unsigned int increment)
cpdef bytes decode(const unsigned char[:] payload, Py_ssize_t size, int order, unsigned int increment)
