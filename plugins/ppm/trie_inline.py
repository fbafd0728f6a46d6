"""Reading the context trie's records (their layout is in trie_kernel.py), for kernels running
as plain Python: compiled kernels use the inline C versions in trie_kernel.pxd."""


def suffix(heap, c):
    return heap[2 * c]


def count(heap, c):
    return heap[2 * c + 1] & 0xFFFF


def order(heap, c):
    return (heap[2 * c + 1] >> 16) & 0xFF


def stats(heap, c):
    return c + 1 if heap[2 * c + 1] & 0xFFFF <= 1 else heap[2 * c + 2]


def summ(heap, c):
    return heap[2 * c + 3]


def sym(heap, s):
    return heap[2 * s] & 0xFF


def freq(heap, s):
    return heap[2 * s] >> 8


def child(heap, s):
    return heap[2 * s + 1]
