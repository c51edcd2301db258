"""captures.decoding: bodies de-chunked and decoded for every Content-Encoding, never past the cap;
a decompression bomb in a capture is refused within a second and a few megabytes, in an import."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import brotli
import pytest
from backports import zstd
from conftest import ROOT, query
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from captures.decoding import TooLarge, UnknownEncoding, decoded_body

PAGE = ("<html><head><title>整改情况通报</title></head><body>" + "<p>巡视整改进展情况。</p>" * 2000 + "</body></html>").encode()
ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstd.compress,
}
LIMIT = 1 << 20


def chunked(data: bytes, size: int = 1000) -> bytes:
    pieces = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


@pytest.mark.parametrize("coding", [*ENCODERS, "deflate-raw"])
def test_each_encoding_decodes_to_the_page(coding):
    if coding == "deflate-raw":  # what some servers send as deflate: no zlib wrapper
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        encoded, coding = compressor.compress(PAGE) + compressor.flush(), "deflate"
    else:
        encoded = ENCODERS[coding](PAGE)
    assert decoded_body(io.BytesIO(encoded), LIMIT, content_encoding=coding) == PAGE
    assert decoded_body(io.BytesIO(chunked(encoded)), LIMIT, chunked=True, content_encoding=coding.upper()) == PAGE


def test_codings_applied_in_turn_are_undone_last_first_and_identity_is_nothing():
    encoded = brotli.compress(gzip.compress(PAGE))
    assert decoded_body(io.BytesIO(encoded), LIMIT, content_encoding="gzip, identity, br") == PAGE
    assert decoded_body(io.BytesIO(chunked(PAGE)), LIMIT, chunked=True, content_encoding="identity") == PAGE


@pytest.mark.parametrize("coding", list(ENCODERS))
def test_a_bomb_stops_at_the_cap_in_every_encoding(coding):
    """64 MB of zeros behind each encoding: decoding stops one piece past the 1 MB cap."""
    bomb = ENCODERS[coding](bytes(64 << 20))
    with pytest.raises(TooLarge, match=rf"after decoding its Content-Encoding {coding}, past the cap of {LIMIT}") as refused:
        decoded_body(io.BytesIO(chunked(bomb, 4096)), LIMIT, chunked=True, content_encoding=coding)
    assert LIMIT < refused.value.size <= LIMIT + (1 << 16)


def test_an_oversized_plain_body_is_refused_before_it_is_read_whole():
    stream = io.BytesIO(bytes(LIMIT * 4))
    with pytest.raises(TooLarge):
        decoded_body(stream, LIMIT)
    assert stream.tell() == LIMIT + 1


def test_damaged_and_unknown_encodings_raise():
    with pytest.raises(zlib.error):
        decoded_body(io.BytesIO(b"\x1f\x8b\x08\x00" + bytes(40)), LIMIT, content_encoding="gzip")
    with pytest.raises(UnknownEncoding, match="'compress'"):
        decoded_body(io.BytesIO(PAGE), LIMIT, content_encoding="compress")


GIB = 1 << 30


@pytest.fixture(scope="module")
def bomb_capture(tmp_path_factory) -> Path:
    """A .warc.gz of a few KB: one page, Content-Encoding gzip over 2 GiB of zeros."""
    compressor, zeros = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(1 << 24)
    payload = b"".join(compressor.compress(zeros) for _ in range(2 * GIB // len(zeros))) + compressor.flush()
    path = tmp_path_factory.mktemp("bomb") / "bomb.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warc_record(
            "https://example.org/bomb.html", "response", payload=io.BytesIO(payload),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], protocol="HTTP/1.1")))
    return path


# Reads the capture in a fresh process; prints seconds and the peak RSS the reading added.
_MEASURE = textwrap.dedent("""
    import json, resource, sys, time
    from captures import CaptureReader
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    reader = CaptureReader([sys.argv[1]]).scan()
    pages = list(reader)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = reader.reports["bomb.warc.gz"]
    print(json.dumps({"seconds": seconds, "added_mb": (after - before) / 1024, "pages": len(pages),
                      "skipped": dict(report.skipped), "too_large": report.too_large}))
""")


@pytest.mark.slow
def test_a_decompression_bomb_is_refused_in_under_a_second_and_100_mb(bomb_capture, tmp_path):
    assert bomb_capture.stat().st_size < 8000
    measured = json.loads(subprocess.run(
        [sys.executable, "-c", _MEASURE, str(bomb_capture)], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout)
    assert measured["pages"] == 0 and measured["skipped"] == {"too_large": 1}
    assert measured["too_large"][0][0] == "https://example.org/bomb.html"
    assert "after decoding its Content-Encoding gzip" in measured["too_large"][0][1]
    assert measured["seconds"] < 1.0, measured
    assert measured["added_mb"] < 100, measured

    # The import records it as too_large and keeps its own WARC free of the decoded bytes.
    db = tmp_path / "archive.db"
    done = subprocess.run([sys.executable, "-m", "archive", "import", str(bomb_capture), "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    (failure,) = query(db, "select url, stage, kind, message from failures")
    assert (failure["url"], failure["stage"], failure["kind"]) == ("https://example.org/bomb.html", "read", "too_large")
    assert failure["message"].startswith("bomb.warc.gz: a payload over ")
    assert query(db, "select count(*) n from documents")[0]["n"] == 0
    assert sum(p.stat().st_size for p in (tmp_path / "warc").glob("*")) < 8000
