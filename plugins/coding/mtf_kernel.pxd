# C-level interface of mtf_kernel.py, for kernels that cimport it.
cpdef bytes mtf_encode(const unsigned char[:] data)
cpdef bytes mtf_decode(const unsigned char[:] ranks)
