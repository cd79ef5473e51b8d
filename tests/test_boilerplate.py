"""learn_boilerplate(): per-source lines, syndication safety, JSON, Config and cluster()."""

from __future__ import annotations

import doctest
import importlib
import random

import pytest

import newsdedup
from newsdedup import BoilerplateModel, Config, ConfigError, InputError, learn_boilerplate, strip
from newsdedup.boilerplate import AUTO_MIN_DOCS, source_of
from newsdedup.types import Article

WORDS = [
    "council",
    "budget",
    "river",
    "storm",
    "election",
    "minister",
    "court",
    "police",
    "school",
    "hospital",
    "market",
    "company",
    "strike",
    "train",
    "bridge",
    "festival",
    "museum",
    "farmer",
    "harvest",
    "drought",
    "vaccine",
    "patient",
    "airport",
    "runway",
    "pilot",
    "union",
    "contract",
    "league",
    "coach",
    "striker",
    "goal",
    "season",
    "trial",
    "jury",
    "witness",
    "verdict",
    "reactor",
    "turbine",
    "solar",
    "grid",
    "tariff",
    "export",
    "import",
    "harbour",
    "ferry",
]

FOOTER = (
    "The Valley Courier is an independent newspaper that has served readers across the "
    "northern valley since 1921 and is owned by the people who write it every day."
)
FOOTER2 = (
    "Readers can reach the newsroom by telephone or by letter, and corrections are "
    "published on page two of the next edition as soon as the editors confirm them."
)


def _story(rng: random.Random, n: int = 40) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return "The " + " ".join(words) + "."


def test_doctests() -> None:
    assert doctest.testmod(importlib.import_module("newsdedup.boilerplate")).failed == 0


def _site_docs(rng: random.Random, source: str, n: int, footer: str) -> list[dict[str, str]]:
    return [
        {"id": f"{source}-{i}", "source": source, "text": f"{_story(rng)}\n{footer}"}
        for i in range(n)
    ]


def test_learns_a_sources_repeated_line_and_strip_removes_it() -> None:
    rng = random.Random(1)
    docs = _site_docs(rng, "courier", 5, FOOTER)
    model = learn_boilerplate(docs)
    assert model.lines_for("courier") == {newsdedup.normalize(FOOTER)}
    assert model.lines_for("COURIER ") == model.lines_for("courier")
    assert model.lines_for("other") is None
    text = docs[0]["text"]
    result = strip(text, source="courier", model=model)
    assert FOOTER not in result.text
    assert [r.rule for r in result.removed] == ["learned_boilerplate"]
    assert strip(text, source="elsewhere", model=model).text == text


def test_too_few_stories_teach_nothing() -> None:
    rng = random.Random(2)
    assert len(learn_boilerplate(_site_docs(rng, "courier", 2, FOOTER))) == 0


def test_a_passage_shared_across_sources_is_syndication_and_kept() -> None:
    rng = random.Random(3)
    wire = (
        "Rescue teams searched the flooded valley through the night as the river rose to "
        "its highest level in forty years, officials said on Sunday."
    )
    docs = [
        {"id": f"a{i}", "source": "alpha", "text": f"{_story(rng)}\n{wire}"} for i in range(4)
    ] + [{"id": "b0", "source": "beta", "text": f"{_story(rng)}\n{wire}"}]
    model = learn_boilerplate(docs)
    assert model.lines_for("alpha") is None


def test_one_sources_updates_of_one_story_are_not_boilerplate() -> None:
    rng = random.Random(4)
    lead = _story(rng)
    second = _story(rng)
    docs = [
        {"id": f"u{i}", "source": "alpha", "text": f"{lead}\n{second}\nUpdate number {i} added."}
        for i in range(5)
    ]
    model = learn_boilerplate(docs)
    assert model.lines_for("alpha") is None


def test_json_round_trip_and_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(5)
    model = learn_boilerplate(
        _site_docs(rng, "courier", 4, FOOTER) + _site_docs(rng, "herald", 4, FOOTER2)
    )
    assert sorted(model.sources) == ["courier", "herald"]
    again = BoilerplateModel.from_json(model.to_json())
    assert dict(again.sources) == dict(model.sources)
    assert again.documents == model.documents == 8
    path = tmp_path / "bp.json"
    model.save(path)
    assert path.read_text(encoding="utf-8").lstrip().startswith("{")
    assert dict(BoilerplateModel.load(path).sources) == dict(model.sources)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "invalid JSON"),
        ('{"format": "other", "version": 1}', "not a boilerplate model"),
        ('{"format": "newsdedup.BoilerplateModel", "version": 99, "sources": {}}', "version 99"),
        (
            '{"format": "newsdedup.BoilerplateModel", "version": 1, "sources": {"a": "x"}}',
            "sources",
        ),
    ],
)
def test_bad_model_files_raise_input_error(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        BoilerplateModel.from_json(text)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"min_docs": 1}, "min_docs"),
        ({"min_share": 1.5}, "min_share"),
        ({"syndication_min_words": 0}, "syndication_min_words"),
    ],
)
def test_learn_parameters_are_validated(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ConfigError, match=f"'{name}' parameter of learn_boilerplate"):
        learn_boilerplate([], **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("article", "expected"),
    [
        (Article(id="1", text="x", source="Reuters"), "reuters"),
        (Article(id="1", text="x", url="https://www.Example.com/a/b"), "example.com"),
        (Article(id="feeds/courier/a.txt", text="x"), "feeds/courier"),
        (Article(id="42", text="x"), None),
    ],
)
def test_source_of(article: Article, expected: str | None) -> None:
    assert source_of(article) == expected


def test_config_accepts_a_model_and_rejects_other_values() -> None:
    model = BoilerplateModel()
    assert Config(boilerplate=model).boilerplate is model
    assert Config(boilerplate="off").boilerplate == "off"
    with pytest.raises(ConfigError, match="'boilerplate' parameter of Config"):
        Config(boilerplate="sometimes")


def _corpus() -> tuple[list[dict[str, str]], tuple[str, str]]:
    """Four sites, each with a long prose footer on every story; one story syndicated
    from site 0 to site 1 (each copy with its own site's footer). A footer is 62 of
    a story's 90 words (0.69): long enough to make a site's stories look alike, and
    under MAX_LEARNED_SHARE (0.7), so it is learned (at 0.76, with 12-word stories,
    a site's stories would be taken for copies of one story)."""
    rng = random.Random(7)
    footers = [  # site names in lower case: no names or figures that differ between copies
        f"{FOOTER} our {tag} edition is printed overnight. {FOOTER2}"
        for tag in ("morning", "evening", "weekend", "online")
    ]
    docs = []
    for k in range(4):
        for i in range(AUTO_MIN_DOCS // 4 + 2):
            docs.append(
                {
                    "id": f"s{k}-{i:02d}",
                    "source": f"site{k}",
                    "title": f"Report on the {rng.choice(WORDS)} and the {rng.choice(WORDS)}",
                    "text": f"{_story(rng, 20)}\n{footers[k]}",
                }
            )
    shared = _story(rng, 60)
    title = "Rescue teams search the flooded valley"
    for k in (0, 1):
        docs.append(
            {"id": f"s{k}-wire", "source": f"site{k}", "title": title,
             "text": f"{shared}\n{footers[k]}"}
        )
    return docs, ("s0-wire", "s1-wire")


def _linked(result: newsdedup.Clusters) -> set[tuple[str, ...]]:
    return {c.members for c in result.clusters if len(c.members) > 1}


def test_cluster_learns_per_source_boilerplate_by_default() -> None:
    docs, wire = _corpus()
    off = newsdedup.cluster(docs, boilerplate="off", rewrite=False)
    # without learning, a site's footer makes its unrelated stories look alike
    assert any(len(group) > 2 for group in _linked(off))
    auto = newsdedup.cluster(docs, rewrite=False)
    assert _linked(auto) == {wire}
    removed = auto.documents["s2-00"].removed
    assert [r.rule for r in removed] == ["learned_boilerplate"]


def test_cluster_accepts_a_saved_model() -> None:
    docs, wire = _corpus()
    model = BoilerplateModel.from_json(learn_boilerplate(docs).to_json())
    few = [d for d in docs if d["id"] in wire or d["id"] in ("s0-00", "s0-01", "s1-00")]
    assert len(few) < AUTO_MIN_DOCS  # too few to learn from: the saved model does the work
    result = newsdedup.cluster(few, boilerplate=model, rewrite=False)
    assert _linked(result) == {wire}
    assert any(len(g) > 2 for g in _linked(newsdedup.cluster(few, rewrite=False)))


def test_auto_learning_skips_inputs_without_a_repeated_source() -> None:
    """Records with no source, URL or file path teach nothing: the run does not
    learn (the full learner agrees: its model is empty)."""
    from newsdedup.boilerplate import learn_for_run, learn_from_articles
    from newsdedup.config import Config

    arts = [newsdedup.Article(
        id=f"d{k}", title=f"Title {k} of a story",
        text=f"Brought to you by the Harbour Town Gazette team\nStory number {k} about a thing "
             "that happened in the town today.") for k in range(30)]
    assert len(learn_from_articles(arts)) == 0
    assert learn_for_run(arts, Config()) is None
    sourced = [newsdedup.Article(id=a.id, title=a.title, text=a.text, source="site")
               for a in arts]
    model = learn_for_run(sourced, Config())
    assert model is not None and len(model) >= 1


def _copies(rng: random.Random, n: int = 5) -> tuple[str, list[str]]:
    """A long story (a title and ten paragraphs) and ``n`` copies of it from one
    source, each with a long line of its own: copy ``i`` has paragraph ``i``
    edited (an update) and its own footer naming the site it ran on."""
    title = "Rescue teams search the flooded valley through the night"
    body = [_story(rng, 30) for _ in range(10)]
    copies = []
    for i in range(n):
        lines = list(body)
        lines[i] += f" This paragraph was updated at {10 + i} o'clock with new figures."
        site = ["Daily Bugle", "Metro Times", "Gazette", "Herald", "Courier", "Tribune"][i % 6]
        lines.append(f"Follow the {site} on social media for more updates from the region.")
        copies.append("\n".join(lines))
    return title, copies


def test_copies_of_one_story_with_lines_of_their_own_are_not_boilerplate() -> None:
    """Each copy has a long line no other has, so each is a story of its own to the
    story guard; the story's lines are then in five "stories" but make up most of
    every document they are in: they are not learned, and the copies cluster."""
    rng = random.Random(8)
    title, copies = _copies(rng)
    docs: list[dict[str, str]] = [
        {"id": f"copy-{i}", "source": "agency", "title": title, "text": text}
        for i, text in enumerate(copies)
    ]
    docs += [{"id": f"other-{i}", "text": _story(rng, 25)} for i in range(AUTO_MIN_DOCS)]
    assert learn_boilerplate(docs).lines_for("agency") is None
    result = newsdedup.cluster(docs)
    assert result.cluster_of("copy-0").members == tuple(f"copy-{i}" for i in range(5))
    assert all(d.removed == () or all(r.rule != "learned_boilerplate" for r in d.removed)
               for d in result.documents.values())


def test_copies_in_one_directory_cluster(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file's source is its directory: sites' copies of one wire story saved in
    one directory beside unrelated articles are found as copies."""
    rng = random.Random(9)
    title, copies = _copies(rng, 6)
    folder = tmp_path / "wire"
    folder.mkdir()
    for i, text in enumerate(copies):
        (folder / f"copy_{i}.txt").write_text(f"{title}\n{text}\n", encoding="utf-8")
    for i in range(AUTO_MIN_DOCS):
        (folder / f"other_{i:02d}.txt").write_text(f"Headline {i}\n{_story(rng, 40)}\n",
                                                   encoding="utf-8")
    result = newsdedup.cluster(str(folder))
    first = str(folder / "copy_0.txt")
    assert len(result.cluster_of(first).members) == 6
    assert result.documents[first].removed == () or all(
        r.rule != "learned_boilerplate" for r in result.documents[first].removed)


def test_a_footer_shared_by_different_stories_is_learned_beside_copies() -> None:
    """The guard drops lines that make up most of their documents, not a footer:
    a source's footer under many different stories is learned even when the
    source also sends copies of one story (whose lines are not learned), and
    under briefs half its length too (it is 2/3 of each brief)."""
    rng = random.Random(10)
    title, copies = _copies(rng)
    docs = [{"id": f"copy-{i}", "source": "courier", "title": title, "text": f"{t}\n{FOOTER}"}
            for i, t in enumerate(copies)]
    docs += _site_docs(rng, "courier", 8, FOOTER)
    n_footer = len(newsdedup.normalize(FOOTER2).split())  # 30 words
    briefs = [{"id": f"brief-{i}", "source": "herald",
               "text": " ".join(rng.choice(WORDS) for _ in range(n_footer // 2)) + f"\n{FOOTER2}"}
              for i in range(6)]
    model = learn_boilerplate(docs + briefs)
    assert model.lines_for("courier") == frozenset({newsdedup.normalize(FOOTER)})
    assert model.lines_for("herald") == frozenset({newsdedup.normalize(FOOTER2)})


def test_the_learned_share_bound() -> None:
    """Around MAX_LEARNED_SHARE: briefs of 10 words under a 20-word footer (2/3 of
    each) teach it; briefs of 5 words (0.8 of each) do not."""
    from newsdedup.boilerplate import MAX_LEARNED_SHARE

    footer = ("Subscribe to the Harbour Gazette today and read every story we publish "
              "online in print and in our weekly newsletter")
    assert len(footer.split()) == 20
    assert 2 / 3 < MAX_LEARNED_SHARE < 0.8
    rng = random.Random(11)
    for n_words, learned in ((10, True), (5, False)):
        docs = [{"id": f"b{i}", "source": "gazette",
                 "text": " ".join(rng.choice(WORDS) for _ in range(n_words)) + f"\n{footer}"}
                for i in range(6)]
        got = learn_boilerplate(docs).lines_for("gazette")
        assert (got == frozenset({newsdedup.normalize(footer)})) if learned else got is None


def test_a_footer_a_network_of_sites_shares_is_learned() -> None:
    # A long footer under many different stories of many sources is not
    # syndicated text: it was kept as such, and chained the stories into one
    # cluster. A passage shared across sources by a few documents stays kept
    # (test_a_passage_shared_across_sources_is_syndication_and_kept).
    rng = random.Random(9)
    footer = ("This story is brought to you by the regional news network of twelve local "
              "papers, which share their reporting, photographs and opinion pages every "
              "day across the whole of the valley and the coast.")
    docs = [{"id": f"n{k}-{i}", "source": f"paper{k}", "text": f"{_story(rng, 45)}\n{footer}"}
            for k in range(12) for i in range(5)]
    model = learn_boilerplate(docs)
    for k in range(12):
        assert newsdedup.normalize(footer) in (model.lines_for(f"paper{k}") or ())
    result = newsdedup.cluster(docs, rewrite=False)
    assert all(len(c.members) == 1 for c in result.clusters)


def test_model_files_with_wrong_values_are_clear_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    good = json.loads(BoilerplateModel(sources={"planet": frozenset({"share this"})}).to_json())
    for field_name, value in (("min_docs", "abc"), ("min_docs", None), ("min_docs", -5),
                              ("min_docs", 2.7), ("min_share", [1]), ("min_share", 7),
                              ("min_share", float("nan")), ("documents", -1),
                              ("version", True)):
        bad = dict(good, **{field_name: value})
        with pytest.raises(InputError, match=f"{field_name}|version"):
            BoilerplateModel.from_json(json.dumps(bad))
    # a source key a hand-edited file wrote in capitals is found (lines_for lower-cases)
    edited = dict(good, sources={"Planet": ["share this"]})
    assert BoilerplateModel.from_json(json.dumps(edited)).lines_for("planet") == {"share this"}
    latin = tmp_path / "m.json"
    latin.write_bytes(b'{"format": "\xff"}')
    with pytest.raises(InputError, match="invalid UTF-8"):
        BoilerplateModel.load(latin)
