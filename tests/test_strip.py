"""strip(): named rules, the line classifier, spans, seeds, corpora."""

from __future__ import annotations

import doctest
import gzip
import hashlib
import importlib
import json
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import newsdedup
from newsdedup import strip
from newsdedup.strip import RULES, line_model, strip_with

from .conftest import SEED_000, SEED_001, corpus_path

PARA = (
    "The council approved the budget on Tuesday after a debate that lasted most of the "
    "evening, and the mayor said the vote would allow the city to hire more teachers."
)
PARA2 = (
    "Opponents said the plan relied on optimistic revenue forecasts and warned that the "
    "city could face a shortfall next year if the economy slowed down as expected."
)


def test_doctests() -> None:
    assert doctest.testmod(importlib.import_module("newsdedup.strip")).failed == 0


def test_packaged_line_model_loads() -> None:
    lm = line_model()
    assert lm is not None
    assert 0.0 < lm.threshold < 1.0


def test_seed_000_keeps_everything_including_subheadings(seed_texts: tuple[str, str]) -> None:
    text = seed_texts[0]
    result = strip(text)
    assert result.removed == ()
    assert "Ahmad Massoud has stated that he is ready for a settlement" in result.text.splitlines()
    assert "Panjshir is well-known as an anti-Taliban stronghold" in result.text.splitlines()


def test_seed_001_removes_its_boilerplate_and_nothing_else(seed_texts: tuple[str, str]) -> None:
    text = seed_texts[1]
    result = strip(text)
    rules = [r.rule for r in result.removed]
    assert rules == ["repeated_headline", "translate_widget", "related_link", "related_link"]
    kept = [ln for ln in text.splitlines() if ln.strip()]
    removed = {r.start for r in result.removed}
    lines_at: dict[int, str] = {}
    pos = 0
    for raw in text.splitlines(keepends=True):
        lines_at[pos] = raw.rstrip("\r\n")
        pos += len(raw)
    expect = [ln for p, ln in lines_at.items() if ln.strip() and p not in removed]
    assert [ln for ln in result.text.splitlines() if ln.strip()] == expect
    assert len(expect) == len(kept) - 4


def test_pipeline_strips_the_seeds_boilerplate() -> None:
    result = newsdedup.cluster([str(SEED_000), str(SEED_001)])
    removed = result.documents[str(SEED_001)].removed
    assert [r.rule for r in removed] == [
        "repeated_headline",
        "translate_widget",
        "related_link",
        "related_link",
    ]
    assert result.documents[str(SEED_000)].removed == ()


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("READ: As the Afghan Taliban advances, the US says", "related_link"),
        ("Also read: Markets fall on rate fears", "related_link"),
        ("Related: Ten things to know", "related_link"),
        ("More from Business", "related_link"),
        ("Translate This News In", "translate_widget"),
        ("Share this", "share_widget"),
        ("Share on Facebook | Twitter | Email", "share_widget"),
        ("Follow us on Twitter and Instagram", "follow_us"),
        ("Sign up for our free daily newsletter", "newsletter"),
        ("By John Smith and Mary Jones", "byline"),
        ("Updated: January 14, 2008 10:21 AM EST", "datetime_line"),
        ("(Reporting by Will Dunham; Editing by Tom Brown)", "wire_trailer"),
        ("Photo: Getty Images", "photo_credit"),
        ("© 2008 The Associated Press. All rights reserved.", "copyright_footer"),
        ("All rights reserved. This material may not be published.", "copyright_footer_en"),
        ("Copyright Site A.", "copyright_notice"),
        ("Home > News > World > Europe", "nav_crumb"),
        ("12 Comments", "comments"),
        ("Leave a comment", "comments"),
        ("We use cookies to improve your experience on our site.", "cookie_notice"),
        ("Advertisement", "advertisement"),
        ("Tags: politics, elections, Iowa", "tags_line"),
        ("Privacy Policy | Terms of Use", "legal_links"),
    ],
)
def test_each_rule_removes_its_line(line: str, rule: str) -> None:
    text = f"{PARA}\n{line}\n{PARA2}"
    result = strip(text)
    assert [r.rule for r in result.removed] == [rule]
    assert result.text == f"{PARA}\n{PARA2}"


@pytest.mark.parametrize(
    "line",
    [
        "Share prices rose sharply in early trading on Monday.",
        "Comments by the minister angered opposition leaders.",
        "By the end of the week the river had burst its banks.",
        "Read the full report, officials said, before voting.",
        "More than 200 people were evacuated from the area.",
        "Copyright law is changing across the European Union.",
        "Follow the money, the investigators told the committee.",
        "From there the team went home to prepare for the final.",
    ],
)
def test_rules_keep_content_that_mentions_their_keywords(line: str) -> None:
    text = f"{PARA}\n{line}\n{PARA2}"
    assert strip(text).text == text


@pytest.mark.parametrize(
    ("line", "rest"),
    [
        ("WASHINGTON (AP) — The Senate voted on Tuesday.", "The Senate voted on Tuesday."),
        ("LONDON (Reuters) - Shares fell in early trade.", "Shares fell in early trade."),
        ("(AFP) - Talks resumed in Geneva.", "Talks resumed in Geneva."),
    ],
)
def test_wire_credit_prefix_is_cut_and_the_sentence_kept(line: str, rest: str) -> None:
    result = strip(line)
    assert result.text == rest
    (removal,) = result.removed
    assert removal.rule == "wire_credit"
    assert line[removal.start : removal.end] == removal.text
    assert line[removal.end :] == rest


def test_rules_apply_only_to_short_lines() -> None:
    long_line = "Read: " + " ".join(["word"] * 40)
    assert strip(long_line).removed == ()


def test_title_line_is_protected_and_copies_removed() -> None:
    text = "Ceasefire talks\nCeasefire talks\n" + PARA
    result = strip(text, title="Ceasefire talks")
    assert result.text == "Ceasefire talks\n" + PARA
    assert [r.rule for r in result.removed] == ["repeated_headline"]


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="'language' parameter of strip"):
        strip("text", language="xx")


def test_non_str_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="expects a str"):
        strip(b"bytes")  # type: ignore[arg-type]


def test_model_never_strips_a_text_to_nothing() -> None:
    text = "Scores\nArsenal 2 Chelsea 1\nLiverpool 0 Everton 0\nLeeds 3 Hull 2\nFulham 1 Stoke 1"
    result = strip(text)
    assert result.text.strip() != ""


def test_threshold_zero_is_rules_only() -> None:
    text = "Menu\nNews\nSport\nWeather\n" + PARA + "\nShare this"
    rules_only = strip_with(text, threshold=0)
    assert {r.rule for r in rules_only.removed} <= {
        rule.name for rules in RULES.values() for rule in rules
    }
    assert "line_model" in {r.rule for r in strip(text).removed}


def test_non_english_text_is_left_to_the_language_neutral_rules() -> None:
    text = "\n".join(
        [
            "Die Regierung hat am Dienstag den Haushalt beschlossen und",
            "die Opposition kritisierte die Pläne scharf im Parlament",
            "Weitere Informationen folgen",
            "© 2024 Zeitung GmbH",
            "Der Minister sagte, die Ausgaben würden steigen",
        ]
    )
    result = strip(text)
    assert [r.rule for r in result.removed] == ["copyright_footer"]


line_st = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(line_st, st.sampled_from([PARA, PARA2, "READ: x", "Share this", ""])), max_size=12
    )
)
def test_removals_are_spans_of_the_original_and_account_for_every_line(lines: list[str]) -> None:
    text = "\n".join(lines)
    result = strip(text)
    last = -1
    for r in result.removed:
        assert text[r.start : r.end] == r.text
        assert r.start > last
        last = r.start
    assert strip(text) == result  # deterministic
    kept = [ln for ln in result.text.splitlines() if ln.strip()]
    n_nonempty = sum(1 for ln in text.splitlines() if ln.strip())
    whole = sum(1 for r in result.removed if r.rule != "wire_credit")
    assert len(kept) == n_nonempty - whole


def _tokens_f1(gold: str, pred: str) -> tuple[float, float]:
    def sh(t: str) -> Counter[tuple[str, ...]]:
        toks = re.findall(r"\w+", t)
        return Counter(tuple(toks[i : i + 4]) for i in range(max(1, len(toks) - 3)))

    a, b = sh(gold), sh(pred)
    tp = sum((a & b).values())
    return tp / max(1, sum(b.values())), tp / max(1, sum(a.values()))


@pytest.mark.corpora
def test_l3s_held_out_page_text_quality() -> None:
    """Regression guard on held-out L3S pages (benchmark: token F1 0.93, line F1 0.86)."""
    path = corpus_path("l3s-gn1", "l3s-gn1-blocks.jsonl.gz")
    precisions, recalls = [], []
    tp = fp = fn = 0
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for raw in fh:
            r = json.loads(raw)
            if int(hashlib.md5(r["id"].encode()).hexdigest()[0], 16) % 2 == 0:
                continue  # tune half
            blocks = [(b[0], b[1].strip()) for b in r["blocks"] if b[1].strip()]
            lines = [t for _, t in blocks]
            result = strip("\n".join(lines))
            gone = {x.start for x in result.removed if x.rule != "wire_credit"}
            pos = 0
            for label, t in blocks:
                kept = pos not in gone
                tp += kept and label == 2
                fp += kept and label != 2
                fn += (not kept) and label == 2
                pos += len(t) + 1
            p, rc = _tokens_f1("\n".join(t for lab, t in blocks if lab == 2), result.text)
            precisions.append(p)
            recalls.append(rc)
            if len(precisions) == 120:
                break
    p = sum(precisions) / len(precisions)
    rc = sum(recalls) / len(recalls)
    assert 2 * p * rc / (p + rc) >= 0.88
    line_p, line_r = tp / (tp + fp), tp / (tp + fn)
    assert 2 * line_p * line_r / (line_p + line_r) >= 0.78


@pytest.mark.corpora
def test_bbc_articles_lose_almost_nothing() -> None:
    path = corpus_path("bbc-news", "bbc-news.jsonl.gz")
    words = removed = 0
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for i, raw in enumerate(fh):
            if i == 400:
                break
            r = json.loads(raw)
            full = f"{r['title']}\n{r['text']}"
            result = strip(full, title=r["title"])
            words += len(full.split())
            removed += sum(len(x.text.split()) for x in result.removed)
    assert removed / words < 0.01


WIRE = """GERMAN BANK SEES HIGHER GOLD PRICE FOR 1987
Gold is expected to continue its rise
this year due to renewed inflationary pressures, especially in
the U.S., Hamburg-based Vereins- und Westbank AG said.
    It said in a statement the stabilisation of crude oil
prices and the Organisation of Petroleum Exporting Countries'
efforts to achieve further firming of the price led to growing
inflationary pressures in the U.S.
    The offering was managed
by Merrill Lynch Capital Markets and Salomon Brothers Inc. The
EPA officials said the trend of the yen was 6-11/16 pct.
    Use of physical gold should rise this year due to increased
industrial demand and higher expected coin production, the bank
said.
"""


def test_hard_wrapped_wire_copy_loses_nothing() -> None:
    """Fixed-width wire text: fragments of wrapped sentences are not boilerplate."""
    import importlib

    strip_module = importlib.import_module("newsdedup.strip")
    s = strip(WIRE)
    assert s.removed == ()
    assert s.text.splitlines()[0] == "GERMAN BANK SEES HIGHER GOLD PRICE FOR 1987"
    groups = strip_module.paragraph_groups([ln for ln in WIRE.splitlines() if ln.strip()])
    assert groups[:3] == [[0], [1, 2, 3], [4, 5, 6, 7]]


def test_wire_credit_needs_a_separator() -> None:
    line = "Shares of CANADIAN PACIFIC (CP) rose 2 pct on the day after the bid."
    assert strip(line).removed == ()
    assert strip("OTTAWA (CP) - The minister said on Monday the plan stands.").text == (
        "The minister said on Monday the plan stands."
    )
