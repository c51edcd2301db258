"""The two anti-bot pages the mirror serves in place of content.

* The CCDI JavaScript cookie challenge: a ~1 KB page whose script computes a
  short hex value from a seed, stores it as cookie ``C3VK`` and reloads the
  page.  Only a client that runs the script (a real browser) gets past it;
  the mirror checks the cookie against :func:`challenge_cookie_value`.
* The slider CAPTCHA (vendor ``seccaptcha.haplat.net``), which nothing
  automated gets past: a crawler must recognise it and stop that site.

Both are answered with status 200, as the real site does, so a crawler that
only looks at status codes would store them as documents.
"""

from __future__ import annotations

CHALLENGE_COOKIE = "C3VK"


def challenge_cookie_value(seed: str) -> str:
    """The cookie value the challenge script computes for ``seed``.

    32-bit FNV-1a over the seed's characters, low 24 bits as 6 hex digits —
    the same arithmetic as the page's script (``Math.imul`` keeps it 32-bit).
    """
    h = 0x811C9DC5
    for ch in seed:
        h ^= ord(ch)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return f"{h & 0xFFFFFF:06x}"


def _js_hex(text: str) -> str:
    # The real page hides every string literal as \xNN escapes.
    return "".join(f"\\x{b:02x}" for b in text.encode("ascii"))


def challenge_page(seed: str) -> bytes:
    """The interstitial: only a script, no article text, as on ccdi.gov.cn."""
    names = _js_hex("document"), _js_hex("cookie"), _js_hex(CHALLENGE_COOKIE + "=")
    script = (
        f'var _$dq=["{names[0]}","{names[1]}","{names[2]}","\\x3b\\x20path=/\\x3b\\x20max-age=300\\x3b"];'
        f'var _$sd="{_js_hex(seed)}";'
        "var _$oo=[\"\\x6f\\x6e\\x4d\\x6f\\x75\\x73\\x65\\x4d\\x6f\\x76\\x65\",\"\\x62\\x6f\\x64\\x79\"];"
        "function _$hk(s){var h=0x811c9dc5;for(var i=0;i<s.length;i++){h^=s.charCodeAt(i);"
        "h=Math.imul(h,0x01000193)>>>0;}return(\"00000\"+(h&0xffffff).toString(16)).slice(-6);}"
        "window[_$dq[0]][_$dq[1]]=_$dq[2]+_$hk(_$sd)+_$dq[3];"
        'window.open(location.href,"_self");'
    )
    return f"<script>{script}</script>\n".encode("ascii")


CAPTCHA_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>安全验证</title>
<link rel="stylesheet" href="https://seccaptcha.haplat.net/static/css/slide.css">
<script src="https://seccaptcha.haplat.net/static/js/comImageValidate.min.js"></script>
</head>
<body class="captchaPage">
<div id="captchaPage">
  <p class="tip">访问过于频繁，请拖动下方滑块完成拼图后继续访问</p>
  <div id="comImageValidate" class="comImageValidate">
    <div class="validate-bg"><img class="bg-img" alt=""><img class="block-img" alt=""></div>
    <div class="validate-bar"><span class="slider-btn">&gt;&gt;</span><span class="slider-txt">向右滑动完成验证</span></div>
  </div>
</div>
<script>
  new ComImageValidate({el: "#comImageValidate", server: "https://seccaptcha.haplat.net/api/v1/verify",
    onSuccess: function () { location.reload(); }});
</script>
</body></html>
""".encode("utf-8")
