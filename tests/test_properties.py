"""Property tests (hypothesis) of the extract, clean and disclosure stages.

Any byte sequence or string gives a result or a recorded error — never an
exception escaping a stage — and cleaning removes only what a rule matched.
Each property runs 2,000 examples.
"""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines import RawDocument, StageError, process
from pipelines.clean import clean, normalise_space
from pipelines.disclosure import parse_disclosure
from pipelines.disclosure.totals import PARTITION
from pipelines.extract import Extracted, decode

EXAMPLES = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HAN_TEXT = st.lists(
    st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.sampled_from(list("，。：；（）“”、0123456789XＸ ．.\n\u3000一二三四五六七八九十")),
        st.sampled_from(["整改情况（已完成）：", "关于“", "”问题", "巡察", "巡视", "通报", "责任编辑：", "来源：", "原文链接:"]),
    ),
    max_size=200,
).map("".join)
ANY_TEXT = st.one_of(st.text(max_size=400), HAN_TEXT)

BODY = [
    "县委第一巡察组对县水利局党组开展了常规巡察，并反馈了巡察意见。",
    "针对巡察反馈的问题，局党组逐条制定整改措施，明确责任领导和完成时限。",
    "整改情况（已完成，并将长期坚持）：修订完善党组会议议事规则，规范重大事项决策程序。",
    "欢迎广大干部群众对巡察整改落实情况进行监督。联系电话：0571-1234567；邮政编码：310000。",
    "对X名相关责任人进行严肃处理，共清退返还金额X元。",
]
BOILERPLATE = [
    "责任编辑：梁斌 SF055", "(责编：汤诗瑶、丁涛)", "海量资讯、精准解读，尽在新浪财经APP", "上一篇: 某会议召开",
    "下一篇：某某活动启动", "京ICP备11019690号-100", "某某网 版权所有", "当前位置：首页 > 巡视巡察",
    "原文链接:https://www.example.cn/a/1.html", "仅供学习 禁止外传", "【字号：大 中 小】", "打印本页",
    "本站部分信息由相应民事主体自行提供。", "邮箱: a@b.cn 客服QQ : 12345",
]


def is_deletion_of(output: str, source: str) -> bool:
    """True when ``output`` can be made from ``source`` by deleting characters (ignoring spacing)."""
    remaining = iter(re.sub(r"\s", "", source))
    return all(char in remaining for char in re.sub(r"\s", "", output))


@EXAMPLES
@given(st.binary(max_size=3000))
def test_process_never_raises_on_bytes(body):
    result = process(RawDocument(url="https://example.org/a.html", body=body))
    assert (result.document is None) != (result.failure is None)
    if result.failure:
        assert result.failure.kind != "internal_error", result.failure.message


@EXAMPLES
@given(ANY_TEXT, st.sampled_from(["utf-8", "gb18030", "big5"]), st.sampled_from([None, "text/html", "text/plain; charset=gbk"]))
def test_process_never_raises_on_encoded_text(text, encoding, content_type):
    body = text.encode(encoding, errors="replace")
    result = process(RawDocument(url="file:///tmp/doc.txt", body=body, content_type=content_type))
    if result.failure:
        assert result.failure.kind != "internal_error", result.failure.message


@EXAMPLES
@given(st.binary(max_size=2000), st.sampled_from([None, "text/html; charset=gb2312", "text/html; charset=nonsense"]))
def test_decode_gives_text_or_a_stage_error(body, content_type):
    try:
        assert isinstance(decode(body, content_type), str)
    except StageError as exc:
        assert exc.kind == "undecodable"


@EXAMPLES
@given(st.lists(ANY_TEXT, max_size=12))
def test_cleaning_only_deletes(lines):
    result = clean(Extracted(format="text", lines=list(lines), meta={"page_title": "标题"}))
    sources = [normalise_space(line) for line in lines if normalise_space(line)]
    position = 0
    for paragraph in result.paragraphs:
        while position < len(sources) and not is_deletion_of(paragraph, sources[position]):
            position += 1
        assert position < len(sources), paragraph  # every output comes from an input, in order
        position += 1
    if not result.rules_fired:
        assert result.paragraphs == sources


@EXAMPLES
@given(st.lists(st.sampled_from(BOILERPLATE), max_size=8), st.randoms(use_true_random=False))
def test_injected_boilerplate_goes_and_the_body_stays(boilerplate, random):
    lines = list(BODY)
    for line in boilerplate:
        lines.insert(random.randint(0, len(lines)), line)
    result = clean(Extracted(format="text", lines=lines, meta={"page_title": "关于巡察整改情况的通报"}))
    assert result.paragraphs == BODY


@EXAMPLES
@given(ANY_TEXT, ANY_TEXT)
def test_disclosure_parser_never_raises_and_counts_add_up(title, body):
    parsed = parse_disclosure(title, body, "2023-10-09")
    if parsed is None:
        return
    disclosure, problems = parsed["disclosure"], parsed["problems"]
    assert disclosure["problems_itemised"] == len(problems)
    if disclosure["status_source"] in ("items", "selection"):
        by_status = sum(disclosure[k] for k in PARTITION)
        assert by_status == len(problems)
