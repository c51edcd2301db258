"""The bounded child that reads one attachment: ``python -m pipelines.attachments.child KIND ADDRESS_SPACE``.

The file's bytes come on stdin; a JSON object goes to stdout — ``{"text", "tables",
"method", "pages", "warnings"}`` or ``{"refused": kind, "message"}``.  The parent
(:func:`pipelines.attachments.extract_attachment`) starts it with a timeout; it limits
its own address space to ADDRESS_SPACE bytes (LibreOffice, which it starts, inherits
the limit), so a parser that loops or swells ends here, not in the crawl.
"""
from __future__ import annotations

import json
import resource
import sys
from dataclasses import asdict

from .formats import MAX_IMAGE_PIXELS, Refused
from .readers import READERS


_OUT_OF_MEMORY = ("failed to map segment", "Cannot allocate memory", "bad_alloc", "std::bad_alloc")


def main() -> int:
    from PIL import Image

    kind, address_space = sys.argv[1], int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # a decompression bomb inside a PDF or docx too
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
        message = f"{type(exc).__name__}: {exc}"[:500]
        # A library that cannot map its code or a buffer under the limit says so in its own words.
        out_of_memory = any(words in str(exc) for words in _OUT_OF_MEMORY)
        answer = {"refused": "too_much_memory" if out_of_memory else "malformed", "message": message}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
