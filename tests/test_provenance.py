"""One record per text across republishers (dedupe stage), with the copies view."""

import random
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.db import Archive
from archive.importer import import_paths, raw_document_for
from pipelines import RawDocument, process

MIRROR = Path(__file__).resolve().parents[1] / "crawler" / "mirror" / "sites"
FIXTURES = Path(__file__).parent / "fixtures" / "provenance"

HEBEI_CCDI = "https://www.ccdi.gov.cn/yaowenn/202110/t20211027_253108.html"
HEBEI_SINA = "https://finance.sina.com.cn/roll/2021-10-28/doc-iktzscyy2216354.shtml"
HEBEI_PEOPLE = "https://politics.people.com.cn/n1/2021/1028/c1001-32266401.html"
JILIN_CCDI = "https://www.ccdi.gov.cn/toutiaon/202110/t20211027_253131.html"
CCPIT_CCDI = "https://www.ccdi.gov.cn/yaowenn/202110/t20211022_252640.html"
CCPIT_12371 = "https://www.12371.cn/2021/10/23/ARTI1634958315436218.shtml"


def mirrored(url: str) -> RawDocument:
    path = MIRROR / url.split("://", 1)[1]
    return RawDocument(url=url, body=path.read_bytes(), content_type="text/html", fetched_at="2021-11-01T00:00:00+00:00")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    with Archive(tmp_path_factory.mktemp("provenance") / "a.db") as archive:
        # Copies arrive before the original: the canonical record must move to it.
        aggregator = raw_document_for(FIXTURES / "aggregator_traditional.txt")
        for raw in (mirrored(HEBEI_SINA), aggregator, mirrored(HEBEI_PEOPLE), mirrored(JILIN_CCDI),
                    mirrored(CCPIT_12371), mirrored(HEBEI_CCDI), mirrored(CCPIT_CCDI)):
            assert archive.save(process(raw)) == "new"
        archive.aggregator_url = aggregator.url
        yield archive


def canonical(archive, url):
    return archive.document_for_url(url)["canonical_id"]


def test_republished_copies_group_under_the_ccdi_original(archive):
    ccdi_id = archive.document_for_url(HEBEI_CCDI)["id"]
    for url in (HEBEI_SINA, HEBEI_PEOPLE, archive.aggregator_url, HEBEI_CCDI):
        assert canonical(archive, url) == ccdi_id, url


def test_copies_view_lists_who_republished_it(archive):
    ccdi_id = archive.document_for_url(HEBEI_CCDI)["id"]
    rows = list(archive.db.query("select * from copies where canonical_id = ? order by published_at", [ccdi_id]))
    assert [(r["publisher"], r["published_at"], r["editor"], r["is_canonical"]) for r in rows] == [
        ("中央纪委国家监委网站", "2021-10-27T18:00:00+08:00", None, 1),
        ("新浪财经", "2021-10-28T08:01:00+08:00", "梁斌", 0),
        ("人民网", "2021-10-28T08:18:00+08:00", "王珂园、刘军涛", 0),
        # A traditional-character copy's metadata is kept as the page prints it, like its text.
        ("廉政資訊網", "2021-10-29", None, 0),
    ]
    assert rows[-1]["original_url"] == HEBEI_CCDI
    assert {r["canonical_title"] for r in rows} == {"中共河北省委关于十九届中央第六轮巡视整改进展情况的通报"}


def test_reports_of_the_same_round_stay_apart(archive):
    groups = {canonical(archive, url) for url in (HEBEI_CCDI, JILIN_CCDI, CCPIT_CCDI)}
    assert len(groups) == 3
    assert canonical(archive, JILIN_CCDI) == archive.document_for_url(JILIN_CCDI)["id"]


def test_a_12371_copy_groups_with_its_ccdi_original(archive):
    assert canonical(archive, CCPIT_12371) == archive.document_for_url(CCPIT_CCDI)["id"]


def test_fold_makes_traditional_and_simplified_equal():
    from pipelines.dedupe import fold

    assert fold("中共河北省委關於巡視整改進展情況的通報（全文）") == fold("中共河北省委关于巡视整改进展情况的通报 全文")


def test_signature_is_datasketchs_default_minhash():
    """Signatures are stored: the faster hashing must give datasketch's own values."""
    from datasketch import MinHash

    from pipelines.dedupe import NUM_PERM, SCHEME, SHINGLE, fold, signature

    text = "中共某县委关于巡察整改进展情况的通报。一、整改落实情况：已完成，并将长期坚持。" * 20
    folded = fold(text)
    reference = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    reference.update_batch([folded[i : i + SHINGLE].encode("utf-8") for i in range(len(folded) - SHINGLE + 1)])
    assert signature(text).tolist() == reference.hashvalues.astype("uint64").tolist()


def test_the_signature_of_a_long_text_is_datasketchs_in_bounded_memory():
    """A 2 MB text (~600,000 distinct shingles, more than a hundred blocks of hashes): the same
    values as datasketch, and a few MB of work (all hashes permuted at once took 380 MB)."""
    import random
    import tracemalloc

    from datasketch import MinHash

    from pipelines.dedupe import NUM_PERM, SCHEME, SHINGLE, fold, signature

    rng = random.Random(7)
    text = "".join(chr(0x4E00 + rng.randrange(6000)) for _ in range(700_000))
    folded = fold(text)
    reference = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    reference.update_batch([folded[i : i + SHINGLE].encode("utf-8") for i in range(len(folded) - SHINGLE + 1)])
    tracemalloc.start()
    try:
        values = signature(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert values.tolist() == reference.hashvalues.astype("uint64").tolist()
    assert peak < 30e6, peak


def test_the_install_compiled_the_shingle_hashes():
    """README command 1 compiles pipelines/_shingles.c; without it signatures cost twice the CPU."""
    from pipelines import dedupe

    assert dedupe._compiled_shingle_hashes is not None


@pytest.mark.parametrize("text", ["", "整", "整改", "整改落实", "整改落实情况", "ab𠀀𪚥cé" * 3, "x" * 40])
def test_compiled_shingle_hashes_are_datasketchs_on_short_and_wide_texts(text):
    from datasketch import MinHash

    from pipelines._shingles import shingle_hashes
    from pipelines.dedupe import NUM_PERM, SCHEME, SHINGLE, _shingle_hashes, fold, signature

    folded = fold(text)
    reference = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    reference.update_batch([folded[i : i + SHINGLE].encode("utf-8") for i in range(max(1, len(folded) - SHINGLE + 1))])
    assert signature(text).tolist() == reference.hashvalues.astype("uint64").tolist()
    assert set(np.frombuffer(shingle_hashes(text, SHINGLE), dtype="<u4").tolist()) == set(_shingle_hashes(text).tolist())


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=120))
def test_compiled_and_hashlib_shingle_hashes_agree_on_any_text(text):
    from pipelines._shingles import shingle_hashes
    from pipelines.dedupe import SHINGLE, _shingle_hashes

    assert set(np.frombuffer(shingle_hashes(text, SHINGLE), dtype="<u4").tolist()) == set(_shingle_hashes(text).tolist())


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=60), st.integers(min_value=1, max_value=13))
def test_both_sha1_paths_give_hashlibs_first_four_bytes_of_every_shingle(text, width):
    """The CPU's SHA extensions (used where present) and the portable SHA-1 give the
    digest of every shingle, in order, for every width a block holds (up to 52 bytes)."""
    import hashlib

    from pipelines._shingles import shingle_hashes

    count = max(1, len(text) - width + 1)
    expected = b"".join(hashlib.sha1(text[i : i + width].encode("utf-8")).digest()[:4] for i in range(count))
    assert shingle_hashes(text, width, True) == expected
    assert shingle_hashes(text, width) == expected


def test_the_shingle_hashes_use_the_cpus_sha_extensions_where_it_has_them():
    from pipelines import _shingles

    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    assert _shingles.sha_extensions == ("sha_ni" in flags and "sse4_1" in flags)


# --- the canonical copy does not depend on the order or time of an import ---------

TIED_TEXTS = 110  # per folder: over PARALLEL_FROM, so one-call imports run in worker processes


def _tied_copies(folder: Path) -> tuple[Path, Path]:
    """Two folders holding the same texts under other names: every pair ties on its date."""
    rng = random.Random(25)
    han = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]
    first, second = folder / "first", folder / "second"
    for copy in (first, second):
        copy.mkdir()
    for number in range(TIED_TEXTS):
        body = "".join(rng.choice(han) for _ in range(400))
        text = f"第{number}号巡察整改情况通报\n\n2023-06-02 作者:佚名 来源: 廉政在线\n\n  {body}。\n"
        (first / f"a{number:03d}.txt").write_text(text, encoding="utf-8")
        (second / f"b{number:03d}.txt").write_text(text, encoding="utf-8")
    return first, second


def _canonical_urls(path: Path) -> dict[str, str]:
    with Archive(path) as archive:
        return {
            url: canonical_url
            for url, canonical_url in archive.db.execute(
                "select d.url, c.url from documents d join documents c on c.id = d.canonical_id"
            )
        }


def test_the_canonical_copy_is_the_same_whatever_the_order_and_time_of_the_import(tmp_path):
    first, second = _tied_copies(tmp_path)
    imports = {
        "first, then second a second later": [[first], [second]],
        "second, then first a second later": [[second], [first]],
        "both at once, in worker processes": [[second, first]],
    }
    canonicals = {}
    for name, calls in imports.items():
        path = tmp_path / f"{len(canonicals)}.db"
        with Archive(path) as archive:
            for number, paths in enumerate(calls):
                if number:
                    time.sleep(1.1)  # a later second: the import time differs between the copies
                import_paths(paths, archive)
        canonicals[name] = _canonical_urls(path)
    reference = canonicals["first, then second a second later"]
    assert len(reference) == 2 * TIED_TEXTS and len(set(reference.values())) == TIED_TEXTS
    for name, chosen in canonicals.items():
        assert chosen == reference, name
