# The logistic mixer (spec/codecs/coding.md, section "Mixer") as inline functions over arrays
# the caller owns: its squash and stretch tables (mixer_inline.squash_table / stretch_table), its
# weights (WEIGHT_BITS fractional bits, a set of n for each context the caller tells apart) and
# the n inputs of the decision being coded. Inline, because mixing is a few multiplications in a
# model's innermost loop. Kernels running as plain Python use mixer_inline.py, the same
# arithmetic; the tests that compare compiled and pure payloads check that the two agree.
#
# 2047 below is mixer_inline's STRETCH_MAX and 16 its WEIGHT_BITS (the .py module's constants
# cannot be cimported).
# cython: boundscheck=False, wraparound=False


cdef inline int stretch(const short[::1] table, unsigned int p, int bits) noexcept nogil:
    """ln(p / (1 - p)), in 1/256 units, of a probability p / 2**bits (its top 12 bits)."""
    return table[p >> (bits - 12)]


cdef inline int squash(const int[::1] table, long long x) noexcept nogil:
    """The probability (in the table's bits) whose stretch is x, -2047 <= x <= 2047."""
    return table[x + 2048]


cdef inline long long mix_dot(const long long[::1] weights, Py_ssize_t base,
                              const int[::1] inputs, int n) noexcept nogil:
    """The weights base .. base + n - 1 applied to the n inputs: their sum (in stretch units),
    clamped to the squash table's domain."""
    cdef long long x = 0
    cdef int i
    for i in range(n):
        x += weights[base + i] * inputs[i]
    x >>= 16
    if x > 2047:
        return 2047
    if x < -2047:
        return -2047
    return x


cdef inline long long mix_error(unsigned int p, unsigned int bit, int bits) noexcept nogil:
    """How far the mixed probability of a 0, p / 2**bits, was from the bit coded."""
    return ((<long long>(bit == 0)) << bits) - p


cdef inline void mix_learn(long long[::1] weights, Py_ssize_t base, const int[::1] inputs,
                           int n, long long err, int shift) noexcept nogil:
    """Move each weight of the set by err x its input >> shift (gradient descent on coding
    cost)."""
    cdef int i
    for i in range(n):
        weights[base + i] += (err * inputs[i]) >> shift


# The 16-bit mixer: SSE2 where the compiler targets it (every x86-64), the same integer
# arithmetic in plain C elsewhere. Exact in 32 bits: |input| <= 2047, |weight| <= 32768 and at
# most 32 inputs give sums below 2**31; pmaddwd's pairs below 2**28; a step within 16 bits
# keeps mulhi(input, step) + 1 within +-1025. Inputs are the model's 32-bit array, packed to 16
# bits (exactly, being within +-2047). `width` is a multiple of 8. The shift by 14 in mix16_dot
# is WEIGHT16_BITS (mixer_inline.py).
cdef extern from *:
    """
    #if defined(__SSE2__) || defined(_M_X64)
    #include <emmintrin.h>
    #define PYARC_MIX16_SSE2 1
    #endif

    static inline int pyarc_mix16_dot(const short *w, const int *x, Py_ssize_t width) {
        Py_ssize_t i;
    #ifdef PYARC_MIX16_SSE2
        __m128i sum = _mm_setzero_si128();
        for (i = 0; i < width; i += 8) {
            __m128i in = _mm_packs_epi32(_mm_loadu_si128((const __m128i *)(x + i)),
                                         _mm_loadu_si128((const __m128i *)(x + i + 4)));
            sum = _mm_add_epi32(sum, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(w + i)), in));
        }
        sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4E));
        sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xB1));
        return _mm_cvtsi128_si32(sum);
    #else
        int sum = 0;
        for (i = 0; i < width; i++)
            sum += w[i] * x[i];
        return sum;
    #endif
    }

    static inline void pyarc_mix16_learn(short *w, const int *x, Py_ssize_t width, int step) {
        Py_ssize_t i;
    #ifdef PYARC_MIX16_SSE2
        const __m128i s = _mm_set1_epi16((short)step), one = _mm_set1_epi16(1);
        for (i = 0; i < width; i += 8) {
            __m128i in = _mm_packs_epi32(_mm_loadu_si128((const __m128i *)(x + i)),
                                         _mm_loadu_si128((const __m128i *)(x + i + 4)));
            __m128i d = _mm_srai_epi16(_mm_add_epi16(_mm_mulhi_epi16(in, s), one), 1);
            _mm_storeu_si128((__m128i *)(w + i),
                             _mm_adds_epi16(_mm_loadu_si128((const __m128i *)(w + i)), d));
        }
    #else
        for (i = 0; i < width; i++) {
            int v = w[i] + ((((x[i] * step) >> 16) + 1) >> 1);
            w[i] = (short)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
        }
    #endif
    }
    """
    int pyarc_mix16_dot(const short *w, const int *x, Py_ssize_t width) nogil
    void pyarc_mix16_learn(short *w, const int *x, Py_ssize_t width, int step) nogil


cdef inline long long mix16_dot(const short[::1] weights, Py_ssize_t base, const int[::1] inputs,
                                Py_ssize_t width) noexcept nogil:
    """The 16-bit set at base applied to the inputs (`width` of them, a multiple of 8), in
    stretch units, clamped to the squash table's domain."""
    cdef long long x = pyarc_mix16_dot(&weights[base], &inputs[0], width) >> 14
    if x > 2047:
        return 2047
    if x < -2047:
        return -2047
    return x


cdef inline void mix16_learn(short[::1] weights, Py_ssize_t base, const int[::1] inputs,
                             Py_ssize_t width, int step) noexcept nogil:
    """Move each weight of the 16-bit set by round(input x step / 2**17), saturating."""
    pyarc_mix16_learn(&weights[base], &inputs[0], width, step)
