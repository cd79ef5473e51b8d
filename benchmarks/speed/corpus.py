"""Build deterministic benchmark corpora of news articles from ../shared/corpora.

Real BBC, Reuters and WikiRef articles are the material. Each generated document
is either a *new story* or a *copy* of an earlier story:

* a new story starts from one real article (extended with sentences of another
  real article when it is shorter than a length drawn from the BBC length
  distribution), then half of its sentences are swapped for sentences of other
  real articles, so two stories built on the same base article stay far apart
  (Jaccard about 0.15);
* a copy (``COPY_RATE`` of the documents) re-publishes a story with light
  random edits: word substitutions, deletions and insertions at a rate drawn
  from 0-4 % (so copies land on both sides of Jaccard 0.8), sometimes a
  credit line, sometimes the last sentences cut (an excerpt), sometimes a
  changed headline.

Usage::

    python benchmarks/speed/corpus.py --docs 100000 --seed 1 [--out DIR]

writes ``DIR/news-100000-s1.jsonl`` (default DIR: ~/.cache/newsdedup-bench) and
prints its path. The same (docs, seed) always gives the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve()
CORPORA = Path(
    os.environ.get("NEWSDEDUP_CORPORA", HERE.parents[3] / "shared" / "corpora")
)
DEFAULT_OUT = Path(
    os.environ.get("NEWSDEDUP_BENCH_DIR", Path.home() / ".cache" / "newsdedup-bench")
)
COPY_RATE = 0.35
SOURCES = ("bbc", "reuters", "ap", "afp", "guardian", "cnn", "nyt", "local-herald")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
CREDITS = (
    "Reporting by {a}; Editing by {b}",
    "(Reporting by {a})",
    "Additional reporting by {a} and {b}.",
    "This story was first published by {src}.",
)
NAMES = ("Jane Smith", "Ali Khan", "Maria Lopez", "Tom Brown", "Wei Zhang", "Sara Ahmed")


def _paragraphs(text: str) -> list[list[str]]:
    """Paragraphs (blank-line separated, hard wraps joined) as lists of sentences."""
    paras = []
    for block in re.split(r"\n\s*\n|\n {3,}", text):
        flat = " ".join(block.split())
        if flat:
            paras.append([s for s in _SENT.split(flat) if s])
    return paras


def load_base() -> list[tuple[str, list[list[str]]]]:
    """(title, paragraphs) of every usable real article, in a fixed order."""
    base = []
    for rel in (
        "bbc-news/bbc-news.jsonl.gz",
        "reuters21578/reuters21578.jsonl.gz",
        "wikiref220/wikiref220.jsonl.gz",
    ):
        with gzip.open(CORPORA / rel, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                text = rec.get("text") or ""
                if len(text.split()) < 40:
                    continue
                base.append((rec.get("title") or "", _paragraphs(text)))
    return base


def _edit_words(text: str, rate: float, rng: random.Random, vocab: list[str]) -> str:
    if rate <= 0:
        return text
    out = []
    for w in text.split(" "):
        r = rng.random()
        if r < rate / 3:
            continue  # deletion
        if r < 2 * rate / 3:
            out.append(rng.choice(vocab))  # substitution
            continue
        out.append(w)
        if r < rate:
            out.append(rng.choice(vocab))  # insertion
    return " ".join(out)


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.base = load_base()
        self.sentences = [s for _, ps in self.base for p in ps for s in p]
        self.vocab = sorted({w for s in self.sentences[:20000] for w in s.split()})
        self.lengths = [sum(len(s.split()) for p in ps for s in p) for _, ps in self.base[:2225]]
        self.stories: list[tuple[str, list[list[str]]]] = []

    def new_story(self) -> tuple[str, list[list[str]]]:
        rng = self.rng
        title, paras = rng.choice(self.base)
        paras = [list(p) for p in paras]
        target = rng.choice(self.lengths)
        words = sum(len(s.split()) for p in paras for s in p)
        while words < target:
            _, more = rng.choice(self.base)
            for p in more:
                paras.append(list(p))
                words += sum(len(s.split()) for s in p)
                if words >= target:
                    break
        for p in paras:
            for k in range(len(p)):
                if rng.random() < 0.5:
                    p[k] = rng.choice(self.sentences)
        return title, paras

    def copy_of(self, story: tuple[str, list[list[str]]]) -> tuple[str, str]:
        rng = self.rng
        title, paras = story
        paras = [list(p) for p in paras]
        if rng.random() < 0.15 and len(paras) > 3:  # excerpt: cut the tail
            paras = paras[: max(2, int(len(paras) * rng.uniform(0.5, 0.9)))]
        rate = rng.choice((0.0, 0.0, 0.005, 0.01, 0.02, 0.03, 0.04))
        body = "\n\n".join(_edit_words(" ".join(p), rate, rng, self.vocab) for p in paras)
        if rng.random() < 0.3:
            body += "\n\n" + rng.choice(CREDITS).format(
                a=rng.choice(NAMES), b=rng.choice(NAMES), src=rng.choice(SOURCES)
            )
        if rng.random() < 0.3:
            title = title.upper() if rng.random() < 0.5 else title + " - update"
        return title, body

    def documents(self, n: int):
        rng = self.rng
        for i in range(n):
            if self.stories and rng.random() < COPY_RATE:
                # Copies favour recent stories (news syndication happens within days).
                back = min(int(rng.expovariate(1 / 200)), len(self.stories) - 1)
                k = len(self.stories) - 1 - back
                title, text = self.copy_of(self.stories[k])
            else:
                story = self.new_story()
                self.stories.append(story)
                title, text = story[0], "\n\n".join(" ".join(p) for p in story[1])
            yield {"id": f"doc{i:07d}", "title": title, "text": text,
                   "source": SOURCES[rng.randrange(len(SOURCES))]}


def build(n: int, seed: int = 1, out_dir: Path = DEFAULT_OUT) -> Path:
    """Write the corpus (if absent) and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"news-{n}-s{seed}.jsonl"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for rec in Generator(seed).documents(n):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    tmp.rename(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    print(build(args.docs, args.seed, args.out))


if __name__ == "__main__":
    main()
