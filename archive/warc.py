"""Reading one captured record back out of the archive's WARC files."""

from __future__ import annotations

from pathlib import Path

from warcio.archiveiterator import ArchiveIterator


def record_bytes(warc_dir: str | Path, warc_file: str, record_id: str) -> bytes | None:
    """The stored bytes of record ``record_id`` in ``warc_file`` (a gzip member for .warc.gz), else None.

    ``warc_file`` is relative to ``warc_dir`` and must stay inside it.
    """
    root = Path(warc_dir).resolve()
    path = (root / warc_file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        for record in records:
            if record.rec_headers.get_header("WARC-Record-ID") != record_id:
                continue
            record.content_stream().read()
            offset, length = records.get_record_offset(), records.get_record_length()
            stream.seek(offset)
            return stream.read(length)
    return None
