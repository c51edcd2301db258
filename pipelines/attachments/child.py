"""The bounded child that reads one attachment: ``python -m pipelines.attachments.child KIND``.

The file's bytes come on stdin; a JSON object goes to stdout — ``{"text", "tables",
"method", "pages", "warnings"}`` or ``{"refused": kind, "message"}``.  The parent
(:func:`pipelines.attachments.extract_attachment`) starts it with an address-space
limit and a timeout, so a parser that loops or swells ends here, not in the crawl.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict

from .formats import MAX_IMAGE_PIXELS, Refused
from .readers import READERS


def main() -> int:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # a decompression bomb inside a PDF or docx too
    kind = sys.argv[1]
    body = sys.stdin.buffer.read()
    try:
        answer = asdict(READERS[kind](body))
    except Refused as exc:
        answer = {"refused": exc.kind, "message": exc.message}
    except Image.DecompressionBombError as exc:
        answer = {"refused": "too_many_pixels", "message": str(exc)}
    except MemoryError:
        answer = {"refused": "too_much_memory", "message": "the reader ran out of its memory limit"}
    except Exception as exc:  # a parser's error on a damaged file: its reason, not a traceback
        answer = {"refused": "malformed", "message": f"{type(exc).__name__}: {exc}"[:500]}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
