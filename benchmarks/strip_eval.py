"""Boilerplate stripping: quality on L3S-GN1 and the article-extraction-benchmark.

Usage (from the repository root, venv with ``--group bench``)::

    .venv/bin/python benchmarks/strip_eval.py fit        # fit strip_model.json on the tune half
    .venv/bin/python benchmarks/strip_eval.py text       # text tasks (L3S page text, region)
    .venv/bin/python benchmarks/strip_eval.py html       # HTML tasks (AEB 181, L3S 621)
    .venv/bin/python benchmarks/strip_eval.py dedup      # dedup effect + speed share
    .venv/bin/python benchmarks/strip_eval.py all --out /tmp/strip_eval.json

Metric (the article-extraction-benchmark's own): word 4-gram shingles of ``\\w+``
tokens, per-page precision and recall (normalised tp/fp/fn), macro-averaged over
pages, F1 of the two averages. Line metrics are micro-averaged over all lines.

Split: an L3S page is in the *tune* half when the first hex digit of md5(id) is
even, else *held-out*. ``fit`` sees only the tune half; figures are reported for
held-out, tune and all pages.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import re
import statistics
import sys
import tarfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from newsdedup import strip as nd_strip  # noqa: E402
from newsdedup.strip import (  # noqa: E402
    STOPWORDS,
    _lines_with_offsets,
    base_features,
    context_features,
    line_model,
    rule_pass,
    rules_for,
)

CORPORA = Path(os.environ.get("NEWSDEDUP_CORPORA", ROOT.parent / "shared" / "corpora"))
L3S = CORPORA / "l3s-gn1"
AEB = CORPORA / "article-extraction-benchmark"
MODEL_PATH = ROOT / "src" / "newsdedup" / "strip_model.json"

# ------------------------------------------------------------------ metric

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    toks = _TOKEN_RE.findall(text or "")
    return Counter(
        tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1)) if toks[i : i + n]
    )


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    a, b = _shingles(true), _shingles(pred)
    tp = fp = fn = 0.0
    for k in set(a) | set(b):
        x, y = a.get(k, 0), b.get(k, 0)
        tp += min(x, y)
        fp += max(0, y - x)
        fn += max(0, x - y)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def token_prf(rows: list[tuple[float, float, float]]) -> dict[str, float]:
    def prec(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fp == 0 else tp / (tp + fp))

    def rec(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else (0.0 if tp == fn == 0 else tp / (tp + fn))

    p = statistics.mean([prec(*r) for r in rows if r[0] + r[1] > 0] or [0.0])
    r = statistics.mean([rec(*x) for x in rows if x[0] + x[2] > 0] or [0.0])
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def line_prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"line_precision": p, "line_recall": r, "line_f1": 2 * p * r / (p + r) if p + r else 0.0}


# ------------------------------------------------------------------ data


def is_tune(doc_id: str) -> bool:
    return int(hashlib.md5(doc_id.encode()).hexdigest()[0], 16) % 2 == 0


def load_l3s() -> list[dict[str, Any]]:
    """L3S pages: id, url, lines (non-empty block texts), labels (label per line)."""
    docs = []
    with gzip.open(L3S / "l3s-gn1-blocks.jsonl.gz", "rt", encoding="utf-8") as fh:
        for raw in fh:
            r = json.loads(raw)
            blocks = [(b[0], b[1].strip()) for b in r["blocks"] if b[1].strip()]
            docs.append(
                {
                    "id": r["id"],
                    "url": r["url"],
                    "lines": [t for _, t in blocks],
                    "labels": [lab for lab, _ in blocks],
                }
            )
    return docs


def region(doc: dict[str, Any]) -> dict[str, Any]:
    idx = [i for i, lab in enumerate(doc["labels"]) if lab == 2]
    a, b = idx[0], idx[-1] + 1
    return {**doc, "lines": doc["lines"][a:b], "labels": doc["labels"][a:b]}


# ------------------------------------------------------------------ fit


def _features(lines: list[str]) -> np.ndarray:
    rules = rules_for("en")
    lns = _lines_with_offsets("\n".join(lines))
    _nonempty, hits, _prefix, _t = rule_pass(lns, rules, None, None)
    return base_features(lines, hits, STOPWORDS["en"]), hits


def _fit_lr(
    x: np.ndarray, y: np.ndarray, l2: float, sample_w: np.ndarray | None = None
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    z1 = np.hstack([z, np.ones((len(z), 1))])
    sw = np.ones(len(y)) if sample_w is None else sample_w
    w = np.zeros(z1.shape[1])
    reg = np.full(z1.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(30):
        p = 1 / (1 + np.exp(-(z1 @ w)))
        g = z1.T @ (sw * (p - y)) + reg * w
        h = (z1 * (sw * p * (1 - p))[:, None]).T @ z1 + np.diag(reg + 1e-9)
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w[:-1], float(w[-1]), mean, scale


def _predict(
    x: np.ndarray, w: np.ndarray, b: float, mean: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    return 1 / (1 + np.exp(-(((x - mean) / scale) @ w + b)))


def extracted_docs(ids: set[str]) -> list[dict[str, Any]]:
    from newsdedup.html import extract_html

    out = []
    for key, html, gold in load_l3s_html():
        if key not in ids:
            continue
        _title, text = extract_html(html)
        lines = [s.strip() for s in text.split("\n") if s.strip()]
        g = " " + " ".join(_TOKEN_RE.findall(gold)) + " "
        labels = [2 if " " + " ".join(_TOKEN_RE.findall(s)) + " " in g else 0 for s in lines]
        if lines:
            out.append({"id": key, "lines": lines, "labels": labels, "kind": "extracted"})
    return out


def fit(args: argparse.Namespace) -> None:
    pages = [d for d in load_l3s() if is_tune(d["id"])]
    print(f"fit on {len(pages)} tune pages", file=sys.stderr)
    # each tune page three times: the full page text, its article region, and
    # its article lines alone (a clean article: short lines there are content)
    docs = []
    for d in pages:
        gold = [s for s, lab in zip(d["lines"], d["labels"], strict=True) if lab == 2]
        docs += [
            {**d, "kind": "page"},
            {**region(d), "kind": "region"},
            {**d, "lines": gold, "labels": [2] * len(gold), "kind": "clean"},
        ]
    if args.extracted:
        # and trafilatura's output for the same pages, a line labelled content
        # when its words occur in the gold article (what strip() sees on HTML input)
        docs += extracted_docs({d["id"] for d in pages})
    feats = []
    for d in docs:
        f, hits = _features(d["lines"])
        feats.append((f, np.asarray([lab == 2 for lab in d["labels"]], dtype=float), hits))
    # stage 1 on all tune pages; stage-2 inputs from 2-fold cross-fitted stage-1 scores
    x = np.vstack([f for f, _, _ in feats])
    y = np.concatenate([t for _, t, _ in feats])
    w1, b1, m1, s1 = _fit_lr(x, y, args.l2)
    fold = np.asarray([(int(hashlib.md5(d["id"].encode()).hexdigest()[1], 16)) % 2 for d in docs])
    p1_docs: list[np.ndarray] = [np.empty(0)] * len(docs)
    for k in (0, 1):
        tr = [i for i in range(len(docs)) if fold[i] != k]
        wk, bk, mk, sk = _fit_lr(
            np.vstack([feats[i][0] for i in tr]), np.concatenate([feats[i][1] for i in tr]), args.l2
        )
        for i in range(len(docs)):
            if fold[i] == k:
                p1_docs[i] = _predict(feats[i][0], wk, bk, mk, sk)
    x2 = np.vstack([context_features(f, p1_docs[i]) for i, (f, _, _) in enumerate(feats)])
    w2, b2, m2, s2 = _fit_lr(x2, y, args.l2)
    model = {
        "version": 1,
        "kind": "newsdedup.strip.LineModel",
        "fitted_on": "L3S-GN1 tune half (md5(id) first hex digit even), label 2 = content",
        "fitted": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "l2": args.l2,
        "threshold": 0.5,
        "mean1": m1.tolist(),
        "scale1": s1.tolist(),
        "w1": w1.tolist(),
        "b1": b1,
        "mean2": m2.tolist(),
        "scale2": s2.tolist(),
        "w2": w2.tolist(),
        "b2": b2,
    }
    # threshold: best line F1 on the tune pages (in-sample stage 2, full page text)
    from newsdedup.strip import LineModel

    lm = LineModel.from_json(model)
    # threshold: best mean line F1 over the full pages, the article regions
    # and (if fitted on them) trafilatura's outputs
    kinds = [k for k in ("page", "region", "extracted") if any(d["kind"] == k for d in docs)]
    best = (0.0, 0.5)
    for t in np.arange(0.2, 0.8, 0.02):
        f1s = []
        for kind in kinds:
            part = [f for f, d in zip(feats, docs, strict=True) if d["kind"] == kind]
            scores = np.concatenate([lm.scores(f) for f, _, _ in part])
            ruled = np.concatenate([[h is not None for h in hits] for _, _, hits in part])
            yk = np.concatenate([tk for _, tk, _ in part])
            keep = (scores >= t) & ~ruled
            tp = int((keep & (yk > 0)).sum())
            fp = int((keep & (yk == 0)).sum())
            fn = int((~keep & (yk > 0)).sum())
            f1s.append(line_prf(tp, fp, fn)["line_f1"])
        if sum(f1s) / len(f1s) > best[0]:
            best = (sum(f1s) / len(f1s), float(t))
    model["threshold"] = round(best[1], 2)
    print(
        f"threshold {model['threshold']} (tune mean line F1 {'/'.join(kinds)} {best[0]:.3f})",
        file=sys.stderr,
    )
    MODEL_PATH.write_text(json.dumps(model, separators=(",", ":")) + "\n", encoding="utf-8")
    line_model.cache_clear()


# ------------------------------------------------------------------ text tools


def _html_of_lines(lines: list[str]) -> str:
    from html import escape

    body = "\n".join(f"<p>{escape(s)}</p>" for s in lines)
    return f"<html><head><title></title></head><body>{body}</body></html>"


def _kept_lines(lines: list[str], out: str) -> list[bool]:
    """Which input lines a tool's output kept (a line is kept if its words occur in the output)."""
    norm_out = " ".join(_TOKEN_RE.findall(out))
    keep = []
    for s in lines:
        t = " ".join(_TOKEN_RE.findall(s))
        keep.append(bool(t) and t in norm_out)
    return keep


def ours_text(lines: list[str]) -> tuple[str, list[bool]]:
    text = "\n".join(lines)
    res = nd_strip(text)
    removed_starts = {r.start for r in res.removed if r.rule != "wire_credit"}
    lns = [ln for ln in _lines_with_offsets(text) if ln.text.strip()]
    return res.text, [ln.start not in removed_starts for ln in lns]


def tool_text(name: str) -> Callable[[list[str]], tuple[str, list[bool]]]:
    if name == "ours":
        return ours_text
    if name == "keep_all":
        return lambda lines: ("\n".join(lines), [True] * len(lines))
    if name == "words>=10":

        def w10(lines: list[str]) -> tuple[str, list[bool]]:
            keep = [len(s.split()) >= 10 for s in lines]
            return "\n".join(s for s, k in zip(lines, keep, strict=True) if k), keep

        return w10

    def via_html(lines: list[str]) -> tuple[str, list[bool]]:
        out = HTML_TOOLS[name](_html_of_lines(lines)) or ""
        return out, _kept_lines(lines, out)

    return via_html


def run_text_task(
    docs: list[dict[str, Any]], tool: Callable[[list[str]], tuple[str, list[bool]]]
) -> tuple[dict[str, list[Any]], float]:
    rows: dict[str, list[Any]] = {}
    t0 = time.perf_counter()
    for d in docs:
        out, keep = tool(d["lines"])
        gold = "\n".join(s for s, lab in zip(d["lines"], d["labels"], strict=True) if lab == 2)
        tp = sum(1 for k, lab in zip(keep, d["labels"], strict=True) if k and lab == 2)
        fp = sum(1 for k, lab in zip(keep, d["labels"], strict=True) if k and lab != 2)
        fn = sum(1 for k, lab in zip(keep, d["labels"], strict=True) if not k and lab == 2)
        rows[d["id"]] = [tp_fp_fn(gold, out), (tp, fp, fn)]
    return rows, time.perf_counter() - t0


def summarise(rows: dict[str, list[Any]], ids: list[str]) -> dict[str, float]:
    toks = [rows[i][0] for i in ids]
    out = token_prf(toks)
    if rows[ids[0]][1] is not None:
        tp = sum(rows[i][1][0] for i in ids)
        fp = sum(rows[i][1][1] for i in ids)
        fn = sum(rows[i][1][2] for i in ids)
        out.update(line_prf(tp, fp, fn))
    return out


# ------------------------------------------------------------------ html tools


def _trafilatura_default(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html) or ""


def _justext(html: str) -> str:
    import justext

    paras = justext.justext(html.encode("utf-8"), justext.get_stoplist("English"))
    return "\n".join(p.text for p in paras if not p.is_boilerplate)


def _readability(html: str) -> str:
    import lxml.html
    from readability import Document

    summary = Document(html).summary(html_partial=True)
    if not summary.strip():
        return ""
    return lxml.html.fromstring(summary).text_content()


def _ours_html(html: str) -> str:
    from newsdedup.html import html_to_text

    return html_to_text(html).text


def _ours_extract_only(html: str) -> str:
    """Our extraction (trafilatura and readability-lxml by agreement), not stripped."""
    from newsdedup.html import extract_html

    return extract_html(html)[1]


def _trafilatura_news(html: str) -> str:
    """trafilatura alone with our settings (``TRAFILATURA_SETTINGS``)."""
    import trafilatura

    from newsdedup.html import TRAFILATURA_SETTINGS, untable

    doc = trafilatura.bare_extraction(html, **TRAFILATURA_SETTINGS)
    return untable(getattr(doc, "text", None) or "") if doc is not None else ""


HTML_TOOLS: dict[str, Callable[[str], str]] = {
    "ours": _ours_html,
    "ours_extract_only": _ours_extract_only,
    "trafilatura_news": _trafilatura_news,
    "trafilatura": _trafilatura_default,
    "justext": _justext,
    "readability": _readability,
}


def load_aeb() -> list[tuple[str, str, str]]:
    gt = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for key in sorted(gt):
        raw = gzip.decompress((AEB / "html" / f"{key}.html.gz").read_bytes())
        out.append((key, raw.decode("utf-8", errors="replace"), gt[key].get("articleBody", "")))
    return out


def load_l3s_html() -> list[tuple[str, str, str]]:
    gold = {}
    with gzip.open(L3S / "l3s-gn1-blocks.jsonl.gz", "rt", encoding="utf-8") as fh:
        for raw in fh:
            r = json.loads(raw)
            gold[r["id"]] = r["text"]
    out = []
    with tarfile.open(L3S / "l3s-gn1-html.tar.gz") as tar:
        for m in tar.getmembers():
            if not m.isfile() or "/original/" not in "/" + m.name or not m.name.endswith(".html"):
                continue
            uid = Path(m.name).stem
            key = uid if uid in gold else f"urn:uuid:{uid}"
            if key not in gold:
                continue
            fh = tar.extractfile(m)
            assert fh is not None
            out.append((key, fh.read().decode("utf-8", errors="replace"), gold[key]))
    out.sort()
    return out


def run_html_task(
    pages: list[tuple[str, str, str]], name: str
) -> tuple[dict[str, list[Any]], float]:
    rows: dict[str, list[Any]] = {}
    fn = HTML_TOOLS[name]
    t0 = time.perf_counter()
    for key, html, gold in pages:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn(html)
        except Exception as err:  # a tool failing on a page scores 0 on it
            print(f"  {name} failed on {key}: {type(err).__name__}", file=sys.stderr)
            out = ""
        rows[key] = [tp_fp_fn(gold, out), None]
    return rows, time.perf_counter() - t0


# ------------------------------------------------------------------ reports


def _fmt(d: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.3f}" for k, v in d.items())


def text_report(tools: list[str]) -> dict[str, Any]:
    docs = load_l3s()
    held = [d["id"] for d in docs if not is_tune(d["id"])]
    tune = [d["id"] for d in docs if is_tune(d["id"])]
    out: dict[str, Any] = {"pages": {"held_out": len(held), "tune": len(tune), "all": len(docs)}}
    for task, task_docs in (
        ("l3s_page_text", docs),
        ("l3s_article_region", [region(d) for d in docs]),
    ):
        for name in tools:
            rows, secs = run_text_task(task_docs, tool_text(name))
            res = {
                split: summarise(rows, ids)
                for split, ids in (("held_out", held), ("tune", tune), ("all", held + tune))
            }
            res["seconds"] = secs
            out.setdefault(task, {})[name] = res
            print(
                f"{task:20} {name:12} held-out {_fmt(res['held_out'])} "
                f"| all {_fmt(res['all'])} ({secs:.1f}s)"
            )
    return out


def html_report(tools: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for task, loader in (("aeb", load_aeb), ("l3s_html", load_l3s_html)):
        pages = loader()
        ids = [k for k, _, _ in pages]
        held = [k for k in ids if not is_tune(k)]
        tune = [k for k in ids if is_tune(k)]
        for name in tools:
            rows, secs = run_html_task(pages, name)
            res: dict[str, Any] = {"all": summarise(rows, ids)}
            if task == "l3s_html":
                res["held_out"] = summarise(rows, held)
                res["tune"] = summarise(rows, tune)
            res["seconds"] = secs
            out.setdefault(task, {})[name] = res
            print(
                f"{task:10} {name:12} "
                + " | ".join(f"{k} {_fmt(v)}" for k, v in res.items() if k != "seconds")
                + f" ({secs:.1f}s)"
            )
    return out


def _pairs_above(texts: dict[str, str], threshold: float) -> set[tuple[str, str]]:
    """Every pair whose exact 5-shingle Jaccard or containment is >= threshold (brute force)."""
    from newsdedup.normalize import normalize
    from newsdedup.shingle import Shingler, tokenize

    sh = Shingler(5)
    sets = {}
    for k, t in texts.items():
        toks = tokenize(normalize(t))
        if len(toks) >= 5:
            sets[k] = set(sh.shingles(toks).tolist())
    post: dict[int, list[str]] = {}
    for k, ss in sets.items():
        for h in ss:
            post.setdefault(h, []).append(k)
    shared: Counter[tuple[str, str]] = Counter()
    for ks in post.values():
        if 1 < len(ks) < 300:
            ks.sort()
            for i in range(len(ks)):
                for j in range(i + 1, len(ks)):
                    shared[(ks[i], ks[j])] += 1
    out = set()
    for (a, b), inter in shared.items():
        na, nb = len(sets[a]), len(sets[b])
        if inter / (na + nb - inter) >= threshold or inter / min(na, nb) >= 0.8:
            out.add((a, b))
    return out


def dedup_report() -> dict[str, Any]:
    """Cross-site copies on L3S page text.

    Gold: pairs whose gold article texts are copies (5-shingle Jaccard >= 0.5 or
    containment >= 0.8). Two views: the text similarity alone (the same rule on
    page text, unstripped vs stripped: what stripping does) and the full
    pipeline (``cluster(..., rewrite=False)``, co-membership of clusters).
    """
    import itertools

    import newsdedup

    docs = load_l3s()
    url = {d["id"]: d["url"] for d in docs}
    page = {d["id"]: "\n".join(d["lines"]) for d in docs}
    gold_text = {
        d["id"]: "\n".join(s for s, lab in zip(d["lines"], d["labels"], strict=True) if lab == 2)
        for d in docs
    }
    gold = _pairs_above(gold_text, 0.5)
    out: dict[str, Any] = {"gold_pairs": sorted(gold)}

    def score(name: str, got: set[tuple[str, str]], secs: float | None = None) -> None:
        res = {
            "pairs": len(got),
            "gold": len(gold),
            "found": len(got & gold),
            "extra": len(got - gold),
            "missed": [[url[a], url[b]] for a, b in sorted(gold - got)],
            "extra_pairs": [[url[a], url[b]] for a, b in sorted(got - gold)],
        }
        if secs is not None:
            res["seconds"] = secs
        out[name] = res
        print(f"dedup {name:22} gold {len(gold)} found {len(got & gold)} extra {len(got - gold)}")

    score("similarity_no_strip", _pairs_above(page, 0.5))
    score("similarity_strip", _pairs_above({k: nd_strip(t).text for k, t in page.items()}, 0.5))
    recs = [{"id": d["id"], "text": page[d["id"]], "url": d["url"]} for d in docs]
    for name, opts in (("pipeline_no_strip", {"strip": False}), ("pipeline_strip", {})):
        t0 = time.perf_counter()
        res = newsdedup.cluster(recs, rewrite=False, **opts)
        secs = time.perf_counter() - t0
        got = {p for c in res.clusters for p in itertools.combinations(sorted(c.members), 2)}
        score(name, got, secs)
    return out


def speed_report(repeats: int = 3) -> dict[str, Any]:
    """Share of the core pipeline's time spent in strip(), on BBC News text input."""
    import newsdedup

    path = CORPORA / "bbc-news" / "bbc-news.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        recs = [json.loads(x) for x in fh]
    recs = [{"id": r["id"], "title": r.get("title"), "text": r["text"]} for r in recs]
    on, off, strip_only = [], [], []
    arts = [newsdedup.Article(id=str(r["id"]), title=r["title"], text=r["text"]) for r in recs]
    for _ in range(repeats):
        t0 = time.perf_counter()
        newsdedup.cluster(recs, strip=True)
        on.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        newsdedup.cluster(recs, strip=False)
        off.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for a in arts:
            nd_strip(a.full_text, title=a.title)
        strip_only.append(time.perf_counter() - t0)
    res = {
        "docs": len(recs),
        "pipeline_strip_on_s": statistics.median(on),
        "pipeline_strip_off_s": statistics.median(off),
        "strip_only_s": statistics.median(strip_only),
    }
    res["strip_share_of_pipeline"] = res["strip_only_s"] / res["pipeline_strip_on_s"]
    res["strip_cost_vs_no_strip"] = res["pipeline_strip_on_s"] / res["pipeline_strip_off_s"] - 1
    print(
        "speed "
        + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items())
    )
    return res


def environment() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    vers = {}
    for pkg in ("newsdedup", "trafilatura", "jusText", "readability-lxml", "lxml", "numpy"):
        try:
            vers[pkg] = version(pkg)
        except PackageNotFoundError:
            vers[pkg] = None
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "versions": vers,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("what", choices=("fit", "text", "html", "dedup", "speed", "all"))
    ap.add_argument("--tools", default="ours,trafilatura,justext,readability")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument(
        "--no-extracted",
        dest="extracted",
        action="store_false",
        help="fit on L3S block text only (not on trafilatura's output too)",
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    if args.what == "fit":
        fit(args)
        return 0
    tools = args.tools.split(",")
    report: dict[str, Any] = {"environment": environment()}
    if args.what in ("text", "all"):
        report["text"] = text_report(["keep_all", "words>=10", *tools])
    if args.what in ("html", "all"):
        report["html"] = html_report(tools)
    if args.what in ("dedup", "all"):
        report["dedup"] = dedup_report()
    if args.what in ("speed", "all"):
        report["speed"] = speed_report()
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
