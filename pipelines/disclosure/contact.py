"""The closing contact block for public supervision (联系电话；通信地址；邮政编码；电子邮箱).

A value that is a placeholder (``XX``, ``XXXX-XXXXXXX``, ``XXXX@XX.com``) is no value.
"""
from __future__ import annotations

import re

_LABEL = re.compile(r"(?:联系电话|监督电话|举报电话|通信地址|通讯地址|邮政信箱|邮政编码|电子邮箱|电子信箱)\s*[：:]")
_FIELDS = (  # (key, pattern, what a real value looks like)
    ("contact_phone", re.compile(r"(?:联系|监督|举报)电话\s*[：:]\s*([^；;。，,\n]{1,60})"), re.compile(r"\d")),
    ("contact_address", re.compile(r"(?:通信|通讯|联系|邮寄)地址\s*[：:]\s*([^；;。\n]{1,80})|邮政信箱\s*[：:]\s*([^；;。，,\n]{1,80})"),
     re.compile(r"[^X\s]")),
    ("contact_postcode", re.compile(r"邮政编码\s*[：:]\s*(\d{6})(?!\d)"), re.compile(r"\d{6}")),
    ("contact_email", re.compile(r"电子(?:邮箱|信箱|邮件)\s*[：:]\s*([A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"),
     re.compile(r"@")),
)
_PLACEHOLDER = re.compile(r"XX")


def contact(text: str) -> dict:
    found: dict = {"has_contact_block": bool(_LABEL.search(text))}
    for key, pattern, real in _FIELDS:
        match = pattern.search(text)
        value = next((g for g in match.groups() if g), "").strip() if match else ""
        found[key] = value if real.search(value) and not _PLACEHOLDER.search(value) else None
    return found
