"""Build the newsdedup quality evaluation set from ../shared/corpora (deterministic by seed).

    python benchmarks/evalset.py --out /tmp/newsdedup-eval [--seed 1] [--bases 160]

Writes ``articles.jsonl`` (id, title, text, source, published) and ``truth.json``
(format: :mod:`newsdedup.evaluate`) to ``--out`` (outside the repository: the
texts are the publishers' copyright and are not shipped).

What is in it:

* **Base stories**: BBC News articles (chosen so that no two chosen articles
  share a passage: word 5-shingle containment < 0.05 between any two; source
  "bbc") and WikiRef220 articles (news from many outlets; no source, since the
  corpus does not say which).
* **Generated copies** of each base story (1-3 of these kinds, by seeded RNG):
  ``near_duplicate`` syndicated copies (another site's header/footer
  boilerplate, a re-written headline, one sentence dropped or a typo fixed);
  ``near_duplicate`` updates (an added paragraph, a revised figure);
  ``containment`` excerpts and wire trims (the first 25-60 % of the article,
  optionally with a "continue reading" stub); ``rewrite`` spun rewrites
  (synonym substitution of 60-90 % of the substitutable words, function words
  included, clauses moved, attributions flipped, negations contracted,
  sentences reordered within paragraphs, 10-25 % of the sentences dropped, a
  paragraph moved, headline spun).
* **Hard negatives** (all singletons in the truth): the base stories grouped by
  BBC category and by WikiRef topic (``same_topic``), and Reuters-21578
  template look-alikes (``template``): groups of stories whose bodies share
  at least half of their word 5-shingles but whose headlines carry different
  ticker symbols (``<XYZ>``: different companies; a "CORRECTED" headline, which
  may fix the ticker, is not counted), or whose headlines are
  identical and which were filed at least 3 days apart with different figures
  (recurring reports such as "FED ADDS RESERVES VIA CUSTOMER REPURCHASES").
* **Real pairs read by hand** (``benchmarks/data/rewrites_judged.json``: rewrite links
  of BBC News, WikiRef220 and L3S-GN1 judged by reading them): the pairs judged *different*
  (another event of one running story: a follow-up, a reaction) are hard negatives
  (``running_story``), the pairs judged *same* (one event told twice) are ``rewrite``
  positives; *unclear* pairs are left out. Their stories are added as
  ``story/<corpus>/<id>`` (and are never base stories), each under an outlet of its
  own (``SITES``; the two sides of a pair never share one), so that each pair is
  judged as two outlets' stories (the same-source bar, which catches one outlet's
  follow-ups when ``source`` is given, does not decide them), and without a
  publication date (the corpora have none; two dated stories more than
  ``max_hours_apart`` apart are not linked as rewrites).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from datetime import datetime, timedelta
from pathlib import Path

CORPORA = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora"
JUDGED_REWRITES = Path(__file__).resolve().parent / "data" / "rewrites_judged.json"

SYNONYMS = {
    "said": ["stated", "noted", "declared", "remarked"], "says": ["states", "notes", "claims"],
    "big": ["large", "huge", "major"], "large": ["big", "sizeable", "huge"],
    "small": ["little", "minor", "modest"], "new": ["fresh", "latest", "novel"],
    "old": ["former", "previous", "earlier"], "show": ["reveal", "indicate", "display"],
    "shows": ["reveals", "indicates", "demonstrates"], "help": ["assist", "aid", "support"],
    "start": ["begin", "launch", "commence"], "started": ["began", "launched", "commenced"],
    "end": ["finish", "close", "conclude"], "ended": ["finished", "concluded", "closed"],
    "buy": ["purchase", "acquire"], "bought": ["purchased", "acquired"],
    "sell": ["offload", "market"], "sold": ["offloaded", "marketed"],
    "rise": ["increase", "climb", "growth"], "rose": ["climbed", "increased", "grew"],
    "fall": ["drop", "decline", "decrease"], "fell": ["dropped", "declined", "slid"],
    "important": ["key", "significant", "crucial"], "main": ["chief", "principal", "primary"],
    "many": ["numerous", "several", "a lot of"], "most": ["the majority of", "nearly all"],
    "very": ["extremely", "highly", "really"], "also": ["additionally", "too", "as well"],
    "however": ["but", "nevertheless", "yet"], "because": ["since", "as"],
    "about": ["around", "roughly", "approximately"], "before": ["prior to", "ahead of"],
    "after": ["following", "once"], "during": ["throughout", "in the course of"],
    "get": ["obtain", "receive", "gain"], "got": ["obtained", "received", "gained"],
    "make": ["create", "produce"], "made": ["created", "produced"],
    "want": ["wish", "desire", "seek"], "wants": ["wishes", "seeks", "desires"],
    "think": ["believe", "reckon", "feel"], "thought": ["believed", "felt"],
    "people": ["individuals", "persons", "citizens"], "company": ["firm", "business"],
    "firm": ["company", "business"], "government": ["administration", "authorities"],
    "country": ["nation", "state"], "problem": ["issue", "difficulty"],
    "problems": ["issues", "difficulties"], "plan": ["scheme", "proposal"],
    "plans": ["schemes", "proposals", "intends"], "deal": ["agreement", "pact"],
    "meeting": ["gathering", "session"], "job": ["post", "position", "role"],
    "jobs": ["posts", "positions", "roles"], "money": ["cash", "funds"],
    "quickly": ["rapidly", "swiftly", "fast"], "hard": ["difficult", "tough"],
    "good": ["fine", "positive", "strong"], "bad": ["poor", "negative", "weak"],
    "best": ["finest", "top", "greatest"], "told": ["informed", "said to"],
    "added": ["continued", "went on"], "expected": ["anticipated", "predicted"],
    "week": ["seven days"], "recent": ["latest", "current"], "officials": ["authorities"],
    "chief": ["head", "boss", "leader"], "leader": ["head", "chief"], "win": ["victory", "triumph"],
    "won": ["secured", "clinched", "earned"], "lost": ["forfeited", "dropped"],
    "need": ["require", "must have"], "needs": ["requires"], "use": ["employ", "utilise"],
    "used": ["employed", "utilised"], "find": ["discover", "locate"],
    "found": ["discovered", "located"],
    "claim": ["assert", "allege"], "claimed": ["asserted", "alleged"],
    "support": ["back", "endorse"],
    "increase": ["rise", "boost"], "decision": ["ruling", "verdict"], "major": ["big", "key"],
    "number": ["figure", "amount"], "around": ["about", "roughly"], "set": ["poised", "due"],
    "likely": ["probable", "expected"], "public": ["general"],
    "announced": ["revealed", "unveiled"],
    "reported": ["stated", "disclosed"], "believe": ["think", "feel"], "despite": ["in spite of"],
    "including": ["such as", "among them"], "warned": ["cautioned", "alerted"],
    "called": ["urged", "asked"], "agreed": ["accepted", "consented"], "face": ["confront"],
    "faces": ["confronts"], "market": ["marketplace"], "business": ["trade", "commerce"],
    "already": ["by now", "previously"], "early": ["initial", "premature"],
    "high": ["elevated", "steep"], "low": ["weak", "reduced"], "fight": ["battle", "struggle"],
    "attack": ["assault", "strike"], "killed": ["slain", "left dead"], "try": ["attempt", "seek"],
    "tried": ["attempted", "sought"], "move": ["step", "shift"], "allow": ["permit", "let"],
}

SYNONYMS.update({
    "the": ["the", "the", "this", "that"], "a": ["a", "one"], "is": ["is", "remains"],
    "was": ["was", "had been"], "were": ["were", "had been"], "has": ["has", "possesses"],
    "have": ["have", "possess"], "will": ["will", "is set to", "is going to"],
    "would": ["would", "could"], "can": ["can", "is able to"], "could": ["could", "might"],
    "on": ["on", "upon"], "in": ["in", "within"], "at": ["at"], "for": ["for", "on behalf of"],
    "with": ["with", "alongside"], "from": ["from", "out of"], "by": ["by", "through"],
    "but": ["however", "yet", "though"], "and": ["and", "as well as", "plus"],
    "year": ["twelve months", "annum"], "years": ["decades", "seasons"],
    "time": ["period", "moment"],
    "day": ["date"], "first": ["initial", "opening"], "last": ["final", "previous"],
    "next": ["following", "coming"], "group": ["organisation", "body"], "world": ["globe"],
    "city": ["town", "metropolis"], "police": ["officers", "law enforcement"],
    "report": ["study", "account"], "week": ["seven days"], "month": ["four weeks"],
    "team": ["side", "squad"], "game": ["match", "contest"], "match": ["game", "fixture"],
    "player": ["athlete"], "players": ["athletes"], "minister": ["secretary"],
    "party": ["movement"], "election": ["vote", "poll"], "court": ["tribunal"],
    "case": ["matter", "lawsuit"], "film": ["movie", "picture"], "music": ["songs"],
    "price": ["cost", "rate"], "prices": ["costs", "rates"], "sales": ["turnover", "revenue"],
    "profit": ["earnings", "gain"], "profits": ["earnings", "gains"], "shares": ["stock"],
    "growth": ["expansion", "increase"], "economy": ["economic system"],
    "users": ["customers", "consumers"], "system": ["scheme", "setup"],
    "technology": ["tech"], "service": ["facility", "provision"], "services": ["facilities"],
    "work": ["labour", "effort"], "working": ["labouring", "operating"], "take": ["accept", "grab"],
    "took": ["accepted", "grabbed"], "give": ["provide", "offer"], "gave": ["provided", "offered"],
    "go": ["proceed", "head"], "went": ["proceeded", "headed"], "come": ["arrive"],
    "came": ["arrived"], "see": ["view", "witness"], "saw": ["witnessed", "viewed"],
    "know": ["understand", "realise"], "keep": ["retain", "maintain"], "put": ["place", "set"],
    "ask": ["request"], "asked": ["requested", "enquired"], "hit": ["struck"],
    "month's": ["the month's"],
    "likely": ["probable"], "able": ["capable"], "still": ["yet", "even now"], "now": ["currently"],
    "just": ["merely", "only"], "more": ["further", "additional"], "less": ["fewer", "lower"],
    "well": ["effectively"], "against": ["versus", "opposed to"], "while": ["whilst", "as"],
    "if": ["should", "in case"], "than": ["compared with"], "over": ["above", "more than"],
    "under": ["below", "less than"], "between": ["among"], "into": ["inside"],
})

HEADERS = [
    "Home | News | World | Business | Sport",
    "Advertisement",
    "Share this article",
    "Sign up for our daily newsletter",
    "By Staff Reporter | Updated",
]
FOOTERS = [
    "Copyright {site} {year}. All rights reserved.",
    "Follow {site} on Twitter and Facebook for the latest news.",
    "This article originally appeared on a wire service and was republished by {site}.",
    "Comments are closed for this story.",
    "Related: More stories from {site}",
]
SITES = ["Daily Planet", "Metro Herald", "Northern Echo Online", "City Wire", "Globe Times",
         "Valley News", "Coastal Courier", "The Evening Post"]
ADDED = [
    "A spokesman said further details would be announced later this week.",
    "Officials declined to comment further when contacted on Tuesday.",
    "The report is expected to be debated again next month.",
    "Analysts said the decision could have wider consequences for the sector.",
]

_SENT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")
_SHINGLE_RE = re.compile(r"\w+")


def read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    toks = _SHINGLE_RE.findall(text.lower())
    return {tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)}


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def sentences(par: str) -> list[str]:
    return [s for s in _SENT_RE.split(par) if s.strip()]


def spin_words(text: str, rng: random.Random, rate: float) -> str:
    def sub(m: re.Match[str]) -> str:
        w = m.group()
        alts = SYNONYMS.get(w.lower())
        if not alts or rng.random() > rate:
            return w
        alt = rng.choice(alts)
        return alt[0].upper() + alt[1:] if w[0].isupper() else alt

    return re.sub(r"[A-Za-z]+", sub, text)


_CONTRACT = [("does not", "doesn't"), ("did not", "didn't"), ("will not", "won't"),
             ("it is", "it's"), ("is not", "isn't"), ("they are", "they're"),
             ("has not", "hasn't"), ("that is", "that's"), ("we are", "we're")]


def restructure(sentence: str, rng: random.Random) -> str:
    """Clause-level spinning: move a trailing clause to the front, flip an
    attribution ("X said" / "said X"), contract or expand negations."""
    s = sentence.strip()
    end = s[-1] if s and s[-1] in ".!?" else ""
    body = s[:-1] if end else s
    parts = body.split(", ")
    if len(parts) >= 2 and rng.random() < 0.5:
        k = rng.randrange(1, len(parts))
        moved = ", ".join(parts[k:])
        rest = ", ".join(parts[:k])
        body = moved[:1].upper() + moved[1:] + ", " + rest[:1].lower() + rest[1:]
    m = re.match(r"^(.*?)(?:,)? ([A-Z][\w. ]{0,40}) (said|says)$", body)
    if m and rng.random() < 0.7:
        body = f"According to {m.group(2)}, {m.group(1)[:1].lower()}{m.group(1)[1:]}"
    for long, short in _CONTRACT:
        if rng.random() < 0.7:
            body = body.replace(long, short) if long in body else body.replace(short, long)
    return body + end


def make_rewrite(title: str, text: str, rng: random.Random) -> tuple[str, str]:
    rate = rng.uniform(0.6, 0.9)
    drop = rng.uniform(0.10, 0.25)
    out_pars = []
    for par in paragraphs(text):
        sents = sentences(par)
        kept = [s for s in sents if rng.random() > drop] or sents[:1]
        for k in range(len(kept) - 1):  # reorder: swap some neighbours
            if rng.random() < 0.3:
                kept[k], kept[k + 1] = kept[k + 1], kept[k]
        out_pars.append(" ".join(spin_words(restructure(s, rng), rng, rate) for s in kept))
    if len(out_pars) > 2 and rng.random() < 0.5:  # move a paragraph
        p = out_pars.pop(rng.randrange(1, len(out_pars)))
        out_pars.insert(rng.randrange(1, len(out_pars) + 1), p)
    return spin_words(title, rng, 0.8), "\n\n".join(out_pars)


def make_syndicated(title: str, text: str, rng: random.Random, site: str) -> tuple[str, str]:
    pars = paragraphs(text)
    if len(pars) > 3 and rng.random() < 0.5:
        pars.pop(rng.randrange(1, len(pars)))
    head = rng.sample(HEADERS, rng.randint(1, 2))
    foot = [f.format(site=site, year=2005) for f in rng.sample(FOOTERS, rng.randint(1, 2))]
    new_title = title if rng.random() < 0.5 else f"{title} - {site}"
    return new_title, "\n".join(head) + "\n\n" + "\n\n".join(pars) + "\n\n" + "\n".join(foot)


def make_update(title: str, text: str, rng: random.Random) -> tuple[str, str]:
    pars = paragraphs(text)
    pars.insert(rng.randrange(1, len(pars) + 1), rng.choice(ADDED))
    body = "\n\n".join(pars)
    nums = list(re.finditer(r"\b\d+\b", body))
    if nums:  # a revised figure
        m = rng.choice(nums)
        body = body[: m.start()] + str(int(m.group()) + rng.randint(1, 9)) + body[m.end() :]
    return ("UPDATE: " + title) if rng.random() < 0.5 else title, body


def make_excerpt(title: str, text: str, rng: random.Random, site: str) -> tuple[str, str] | None:
    pars = paragraphs(text)
    words = sum(len(p.split()) for p in pars)
    share = rng.uniform(0.25, 0.6)
    out, n = [], 0
    for p in pars:
        if n >= share * words and n >= 60:
            break
        out.append(p)
        n += len(p.split())
    if n >= 0.9 * words or n < 40:
        return None
    body = "\n\n".join(out)
    if rng.random() < 0.5:
        body += f"\n\nContinue reading the full story at {site}"
    return title, body


def reuters_templates(rng: random.Random, max_groups: int) -> list[list[dict]]:
    recs = [r for r in read_jsonl_gz(CORPORA / "reuters21578" / "reuters21578.jsonl.gz")
            if r.get("text") and r.get("title")]
    by_body: dict[tuple[str, ...], list[dict]] = {}
    for r in recs:  # group by the first 6 body words: the template candidates
        key = tuple(_SHINGLE_RE.findall(r["text"].lower())[:6])
        if len(key) == 6:
            by_body.setdefault(key, []).append(r)
    groups = []
    ticker = re.compile(r"<([A-Z.]+)>")
    for key in sorted(by_body):
        rs = by_body[key]
        if len(rs) < 2 or len(rs) > 400:
            continue
        rs = sorted(rs, key=lambda r: r["id"])
        sh = {r["id"]: shingles(r["text"]) for r in rs}
        chosen: list[dict] = []
        for r in rs:
            ok = True
            for c in chosen:
                a, b = sh[r["id"]], sh[c["id"]]
                jac = len(a & b) / max(1, len(a | b))
                ta, tb = set(ticker.findall(r["title"])), set(ticker.findall(c["title"]))
                figs_a = set(re.findall(r"\d+(?:[.,/-]\d+)*", r["text"]))
                figs_b = set(re.findall(r"\d+(?:[.,/-]\d+)*", c["text"]))
                corrected = "CORRECT" in (r["title"] + c["title"]).upper()
                differ_company = bool(ta and tb and not (ta & tb)) and not corrected
                days = abs((datetime.fromisoformat(reuters_date(r["date"]))
                            - datetime.fromisoformat(reuters_date(c["date"]))).days)
                differ_day = r["title"] == c["title"] and days >= 3 and figs_a != figs_b
                if not (jac >= 0.5 and (differ_company or differ_day)):
                    ok = False
                    break
            if ok:
                chosen.append(r)
            if len(chosen) >= 4:
                break
        if len(chosen) >= 2:
            groups.append(chosen)
    rng.shuffle(groups)
    return groups[:max_groups]


def reuters_date(text: str) -> str:
    """ISO form of a Reuters DATE ("26-FEB-1987 15:01:01.79"; a few have double
    spaces, junk after the time or an impossible hour, which falls back to midnight)."""
    m = re.match(r"\s*(\d{1,2}-[A-Z]{3}-\d{4})\s+(\d+):(\d{2}):(\d{2})", text.upper())
    if m is None:
        raise ValueError(f"unparsable Reuters date {text!r}")
    day = datetime.strptime(m.group(1), "%d-%b-%Y")
    h, mi, se = int(m.group(2)), int(m.group(3)), int(m.group(4))
    if h > 23:
        h = mi = se = 0
    return day.replace(hour=h, minute=mi, second=se).isoformat()


def build(seed: int, n_bases: int) -> tuple[list[dict], dict]:
    rng = random.Random(seed)
    bbc = read_jsonl_gz(CORPORA / "bbc-news" / "bbc-news.jsonl.gz")
    wiki = read_jsonl_gz(CORPORA / "wikiref220" / "wikiref220.jsonl.gz")
    rng.shuffle(bbc)
    chosen: list[dict] = []
    chosen_sh: list[set[tuple[str, ...]]] = []
    judged = json.loads(JUDGED_REWRITES.read_text(encoding="utf-8"))
    in_judged = {(c, x) for c in ("bbc", "wikiref") for p in judged[c]["pairs"] for x in p[:2]}
    for r in bbc:
        if len(chosen) >= n_bases:
            break
        if ("bbc", r["id"]) in in_judged:
            continue
        sh = shingles(r["title"] + " " + r["text"])
        if len(sh) < 80:
            continue
        if any(len(sh & o) >= 0.05 * min(len(sh), len(o)) for o in chosen_sh):
            continue
        chosen.append(r)
        chosen_sh.append(sh)
    wiki_bases = [w for w in wiki if not w.get("noise") and len(w["text"].split()) >= 150]
    rng.shuffle(wiki_bases)
    wiki_bases = [w for w in wiki_bases if ("wikiref", w["id"]) not in in_judged][: n_bases // 3]
    docs: list[dict] = []
    clusters: list[list[str]] = []
    relations: dict[str, str] = {}
    neg_topic: dict[str, list[str]] = {}
    t0 = datetime(2005, 3, 1, 8, 0)
    for k, r in enumerate(chosen + wiki_bases):
        is_bbc = k < len(chosen)
        base_id = f"{'bbc' if is_bbc else 'wiki'}/{r['id']}"
        when = t0 + timedelta(hours=rng.randint(0, 24 * 60))
        title, text = r["title"].strip(), r["text"].strip()
        # a WikiRef220 story's outlet is unknown (the corpus does not say; they are many)
        docs.append({"id": base_id, "title": title, "text": text, "published": when.isoformat()}
                    | ({"source": "bbc"} if is_bbc else {}))
        neg_topic.setdefault(("bbc:" if is_bbc else "wiki:") + r["label"], []).append(base_id)
        cluster = [base_id]
        kinds = rng.sample(["syndicated", "update", "excerpt", "rewrite"], rng.randint(1, 3))
        for kind in kinds:
            site = rng.choice(SITES)
            made: tuple[str, str] | None
            if kind == "syndicated":
                made, rel = make_syndicated(title, text, rng, site), "near_duplicate"
            elif kind == "update":
                made, rel = make_update(title, text, rng), "near_duplicate"
            elif kind == "excerpt":
                made, rel = make_excerpt(title, text, rng, site), "containment"
            else:
                made, rel = make_rewrite(title, text, rng), "rewrite"
            if made is None:
                continue
            vid = f"{base_id}~{kind}"
            docs.append({"id": vid, "title": made[0], "text": made[1], "source": site,
                         "published": (when + timedelta(hours=rng.randint(0, 20))).isoformat()})
            cluster.append(vid)
            relations[vid] = rel
        clusters.append(cluster)
    templates = reuters_templates(rng, max_groups=max(10, n_bases // 4))
    neg_template = []
    for g in templates:
        ids = []
        for r in g:
            did = f"reuters/{r['id']}"
            docs.append({"id": did, "title": r["title"], "text": r["text"], "source": "reuters",
                         "published": reuters_date(r["date"])})
            clusters.append([did])
            ids.append(did)
        neg_template.append(ids)
    neg_running = judged_pairs(rng, judged, bbc, wiki, docs, clusters, relations)
    truth = {
        "clusters": [c for c in clusters if c],
        "relations": relations,
        "negatives": {
            "same_topic": [g for g in neg_topic.values() if len(g) > 1],
            "template": neg_template,
            "running_story": neg_running,
        },
    }
    docs.sort(key=lambda d: d["id"])
    return docs, truth


def judged_pairs(
    rng: random.Random, judged: dict, bbc: list[dict], wiki: list[dict], docs: list[dict],
    clusters: list[list[str]], relations: dict[str, str],
) -> list[list[str]]:
    """Adds the stories of the hand-judged pairs (module docstring) to ``docs``,
    ``clusters`` and ``relations``; returns the ``running_story`` negatives."""
    l3s = read_jsonl_gz(CORPORA / "l3s-gn1" / "l3s-gn1-blocks.jsonl.gz")
    records = {("bbc", r["id"]): r for r in bbc} | {("wikiref", r["id"]): r for r in wiki}
    records |= {("l3s", r["id"]): r for r in l3s}
    source: dict[str, str] = {}
    cluster_of: dict[str, list[str]] = {}
    negatives: list[list[str]] = []
    for corpus in ("bbc", "wikiref", "l3s"):
        for a, b, label, _why in judged[corpus]["pairs"]:
            if label == "unclear":
                continue
            ids = []
            for key in ((corpus, a), (corpus, b)):
                did = f"story/{corpus}/{key[1]}"
                if did not in source:
                    r = records[key]
                    taken = {source[i] for i in ids}
                    source[did] = rng.choice([x for x in SITES if x not in taken])
                    docs.append({"id": did, "title": (r["title"] or "").strip(),
                                 "text": r["text"].strip(), "source": source[did]})
                    cluster_of[did] = [did]
                    clusters.append(cluster_of[did])
                ids.append(did)
            if label == "different":
                negatives.append(ids)
                continue
            ca, cb = cluster_of[ids[0]], cluster_of[ids[1]]
            if ca is cb:
                continue
            for m in cb:  # one story: the second side's cluster joins the first's
                relations.setdefault(m, "rewrite")
                ca.append(m)
                cluster_of[m] = ca
            cb.clear()
    return negatives


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bases", type=int, default=160, help="BBC base stories (WikiRef: a third)")
    args = ap.parse_args()
    if Path(__file__).resolve().parent.parent in args.out.resolve().parents:
        ap.error("--out must be outside the repository (the texts are not ours to ship)")
    docs, truth = build(args.seed, args.bases)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "articles.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    kinds: dict[str, int] = {}
    for v in truth["relations"].values():
        kinds[v] = kinds.get(v, 0) + 1
    print(f"{len(docs)} articles, {len(truth['clusters'])} true clusters, variants {kinds}, "
          f"{len(truth['negatives']['template'])} template groups, "
          f"{len(truth['negatives']['running_story'])} running-story pairs -> {args.out}")


if __name__ == "__main__":
    main()
