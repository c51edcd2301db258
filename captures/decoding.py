"""An HTTP body as the server meant it — de-chunked and decoded — never past a cap.

A captured response keeps the bytes that came off the wire, so its body may be
``Transfer-Encoding: chunked`` and compressed (``Content-Encoding: gzip``,
``deflate``, ``br``, ``zstd``, or several in turn).  Decoding is where a small
record becomes a huge page: 4.5 KB of gzip hold 2 GiB of zeros.  :func:`decoded_body`
decodes in pieces of :data:`PIECE` bytes and stops as soon as the decoded size
passes the cap (:class:`TooLarge`), so a decompression bomb costs a few
megabytes and milliseconds, whatever it would expand to.  The crawl's side of
the same cap is Scrapy's ``HttpCompressionMiddleware`` with ``DOWNLOAD_MAXSIZE``.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

import brotli
from backports import zstd
from warcio.bufferedreaders import ChunkedDataReader

PIECE = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
# What a damaged compressed body raises while it is decoded.
DECODING_ERRORS = (zlib.error, brotli.error, zstd.ZstdError, EOFError)


class TooLarge(Exception):
    """The body decodes to more than the cap; ``size`` is what was decoded when it stopped."""

    def __init__(self, size: int, limit: int, encodings: list[str]):
        how = f" after decoding its Content-Encoding {', '.join(encodings)}" if encodings else ""
        super().__init__(f"over {size} bytes{how}, past the cap of {limit}")
        self.size = size


class UnknownEncoding(ValueError):
    """A Content-Encoding no decoder here reads."""


def encodings_of(content_encoding: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` header, in the order they were applied."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    return [c for c in codings if c and c != "identity"]


def decoded_body(stream: BinaryIO, limit: int, chunked: bool = False, content_encoding: str | None = None) -> bytes:
    """The body read from ``stream`` (raw bytes, at most ``limit`` + 1 of them read),
    de-chunked when ``chunked``, then decoded codings last-applied first.

    Raises :class:`TooLarge` past ``limit`` bytes at any step, :class:`UnknownEncoding`,
    and one of :data:`DECODING_ERRORS` on damaged compressed data."""
    encodings = encodings_of(content_encoding)
    body = (ChunkedDataReader(stream) if chunked else stream).read(limit + 1)
    if len(body) > limit:
        raise TooLarge(len(body), limit, [])
    for coding in reversed(encodings):
        body = _decode(body, coding, _Output(limit, encodings))
    return body


class _Output:
    """Decoded pieces, refused as soon as they pass the limit."""

    def __init__(self, limit: int, encodings: list[str]):
        self.limit, self.encodings = limit, encodings
        self.pieces: list[bytes] = []
        self.size = 0

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            raise TooLarge(self.size, self.limit, self.encodings)
        self.pieces.append(piece)

    def joined(self) -> bytes:
        body = b"".join(self.pieces)
        self.pieces, self.size = [], 0
        return body


def _decode(body: bytes, coding: str, output: _Output) -> bytes:
    if coding in ("gzip", "x-gzip"):
        # A gzip body may be several members one after the other.
        while body:
            body = _inflate(zlib.decompressobj(31), body, output)
            if not body.startswith(_GZIP_MAGIC):
                break
    elif coding == "deflate":
        try:
            _inflate(zlib.decompressobj(), body, output)
        except zlib.error:  # raw deflate without the zlib wrapper, as some servers send
            output.joined()
            _inflate(zlib.decompressobj(-zlib.MAX_WBITS), body, output)
    elif coding == "br":
        decompressor = brotli.Decompressor()
        piece = decompressor.process(body, output_buffer_limit=PIECE)
        while piece:
            output.add(piece)
            piece = b"" if decompressor.is_finished() else decompressor.process(b"", output_buffer_limit=PIECE)
    elif coding == "zstd":
        decompressor = zstd.ZstdDecompressor()
        piece = decompressor.decompress(body, PIECE)
        while True:
            output.add(piece)
            if decompressor.eof or decompressor.needs_input:
                break
            piece = decompressor.decompress(b"", PIECE)
    else:
        raise UnknownEncoding(f"Content-Encoding {coding!r} is not one this archive decodes")
    return output.joined()


def _inflate(decompressor, data: bytes, output: _Output) -> bytes:
    """Decode one zlib/gzip stream piece by piece; returns the bytes after its end."""
    while not decompressor.eof:
        piece = decompressor.decompress(data, PIECE)
        data = decompressor.unconsumed_tail
        if not piece and not data:
            break  # the stream stops before its end: what it held is kept
        output.add(piece)
    return decompressor.unused_data
