"""Valid third-party codecs (and deliberately buggy decoders) registered through the public hook.

`xorcodec` is the well-behaved one: run-length coding (which shrinks repetitive test data, so
the block encoder keeps it instead of falling back to `store`), then every byte XORed with a
fixed key. `levelcodec` does the same with the `level` option as the key; its payload starts
with the level it was made with, and `decode` refuses a payload whose level differs from its
own option: a round trip therefore proves that the block header carried the option.
"""

from __future__ import annotations

from archiver import Codec, CodecError, Option, hookimpl


def rle(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and j - i < 255 and data[j] == data[i]:
            j += 1
        out += bytes((j - i, data[i]))
        i = j
    return bytes(out)


def unrle(payload: bytes, size: int) -> bytes:
    if len(payload) % 2:
        raise CodecError("rle payload has odd length")
    out = bytearray()
    for k in range(0, len(payload), 2):
        count = payload[k]
        if count == 0 or len(out) + count > size:
            raise CodecError("rle run is empty or overflows the block")
        out += bytes([payload[k + 1]]) * count
    if len(out) != size:
        raise CodecError("rle payload is too short")
    return bytes(out)


class XorCodec(Codec):
    """No options: run-length coding, then every byte XORed with a fixed key."""

    name = "xorcodec"
    version = 1
    description = "test codec: run-length coding, then XOR with 0x5a"
    key = 0x5A

    def encode(self, data: bytes) -> bytes:
        return bytes(b ^ self.key for b in rle(data))

    def decode(self, payload: bytes, size: int) -> bytes:
        return unrle(bytes(b ^ self.key for b in payload), size)


class LevelCodec(Codec):
    """Options: like xorcodec, but the key is the `level` option, and the payload starts with
    the level it was made with so that decode() can check it was given the same option."""

    name = "levelcodec"
    version = 1
    description = "test codec: run-length coding, then XOR with the level"
    option_specs = (
        Option("level", 5, "the XOR key", minimum=1, maximum=9),
        Option("flavor", "plain", "does nothing", choices=("plain", "fancy")),
    )
    #: the option values seen by decode(), for the tests to inspect
    decoded_with: list[dict] = []

    def encode(self, data: bytes) -> bytes:
        key = int(self.options["level"])
        return bytes([key]) + bytes(b ^ key for b in rle(data))

    def decode(self, payload: bytes, size: int) -> bytes:
        LevelCodec.decoded_with.append(dict(self.options))
        key = int(self.options["level"])
        if not payload or payload[0] != key:
            raise CodecError(f"levelcodec: payload made with another level than {key}")
        return unrle(bytes(b ^ key for b in payload[1:]), size)


class _Shrinks(Codec):
    """Encodes to the first half of the data, so the block encoder keeps it over `store`."""

    def encode(self, data: bytes) -> bytes:
        return bytes(data[: len(data) // 2])


class Expander(Codec):
    name = "expander"
    description = "test codec: makes every block larger"

    def encode(self, data: bytes) -> bytes:
        return bytes(data) + b"\0" * 16

    def decode(self, payload: bytes, size: int) -> bytes:
        raise AssertionError("never called: expanded blocks are stored")


class Crasher(_Shrinks):
    name = "crasher"

    def decode(self, payload: bytes, size: int) -> bytes:
        return bytes([1 // (len(payload) - len(payload))])  # ZeroDivisionError


class ShortDecoder(_Shrinks):
    name = "shortdec"

    def decode(self, payload: bytes, size: int) -> bytes:
        return b"x" * (size - 1)


class LongDecoder(_Shrinks):
    name = "longdec"

    def decode(self, payload: bytes, size: int) -> bytes:
        return b"x" * (size + 1)


class NoneDecoder(_Shrinks):
    name = "nonedec"

    def decode(self, payload: bytes, size: int) -> bytes:
        return None  # type: ignore[return-value]  # a buggy decoder


class Liar(_Shrinks):
    name = "liar"

    def decode(self, payload: bytes, size: int) -> bytes:
        return b"x" * size  # the right length, the wrong data


class KernelCodec(Codec):
    name = "kernelcodec"
    kernels = ("pt_plain_kernel",)

    def encode(self, data: bytes) -> bytes:
        import pt_plain_kernel

        return pt_plain_kernel.invert(data)

    def decode(self, payload: bytes, size: int) -> bytes:
        import pt_plain_kernel

        return pt_plain_kernel.invert(payload)


ALL = (XorCodec, LevelCodec, Expander, Crasher, ShortDecoder, LongDecoder, NoneDecoder, Liar,
       KernelCodec)


@hookimpl
def register_codecs(register):  # type: ignore[no-untyped-def]
    for codec in ALL:
        register(codec)
