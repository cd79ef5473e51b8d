"""Render speed benchmark results (bench.py JSON) as the speed section of docs/benchmarks.md.

    python benchmarks/speed/report.py benchmarks/out/speed-10k.json [more.json ...]

Only the text between ``<!-- BEGIN speed -->`` and ``<!-- END speed -->`` is replaced.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- BEGIN speed -->", "<!-- END speed -->"

LABELS = {
    "newsdedup-sig": "newsdedup signature stage (normalise + `Signer.sign_texts`, 1 process)",
    "newsdedup-core": "newsdedup copy tier, no stripping (2 worker processes; sig = read + "
    "prepare)",
    "newsdedup-core-strip": "newsdedup copy tier with `strip()` (2 worker processes; sig = "
    "read + prepare)",
    "newsdedup": "newsdedup `cluster(threshold=0.8, rewrite=False)` (syndication path, defaults)",
    "newsdedup-full": "newsdedup `cluster(threshold=0.8)` (with the rewrite signal)",
    "datasketch": "datasketch as users write it (`MinHash` + `update` per shingle, `MinHashLSH`)",
    "datasketch-xxh": "datasketch, xxhash + `MinHash.bulk` + `insertion_session`",
    "rensa": "rensa (`RMinHash` bulk, `RMinHashLSH`, estimated-J check)",
    "text-dedup": "text-dedup MinHash (in process, `num_proc=2`)",
    "datatrove": "datatrove MinHash stages 1-3 (local executor, 2 tasks)",
}
PEERS = ["rensa", "datasketch-xxh", "datasketch", "text-dedup", "datatrove"]


def _f(x: Any, fmt: str = "{:.1f}") -> str:
    return "–" if x is None else fmt.format(x)


def _rate(n: int, s: float | None) -> float | None:
    return None if not s else n / s


def _paired_ratio(mine: list[float | None], theirs: list[float | None]) -> float | None:
    """Median over repeats of theirs[i] / mine[i] (runs i were made back to back); the
    ratio of medians when one side has fewer runs."""
    pairs = [(a, b) for a, b in zip(mine, theirs, strict=False) if a and b]
    if len(pairs) == min(len(mine), len(theirs)) and pairs:
        return statistics.median(b / a for a, b in pairs)
    a = statistics.median([x for x in mine if x]) if any(mine) else None
    b = statistics.median([x for x in theirs if x]) if any(theirs) else None
    return b / a if a and b else None


def render(reports: list[dict[str, Any]]) -> str:
    sizes: dict[str, dict[str, Any]] = {}
    meta = reports[-1]
    for rep in reports:
        for n, block in rep["sizes"].items():
            sizes.setdefault(n, {"tools": {}, "corpus": block["corpus"], "date": rep["date"],
                                 "command": rep["command"]})
            sizes[n]["tools"].update(block["tools"])
    m = meta["machine"]
    out = [
        "## Speed against the peers (issue 6)",
        "",
        f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB, "
        f"Python {m.get('python')}, {m.get('platform')}. The machine may be shared (the "
        "1-minute load average is given per table), so absolute seconds can be inflated and "
        "noisy; compare the ratios, which pair runs made back to back.",
        "",
        "Corpus: `benchmarks/speed/corpus.py` (real BBC, Reuters-21578 and WikiRef articles; "
        "35 % of documents re-publish an earlier story with 0-4 % word edits, credit lines, "
        "cut tails or changed headlines; about 434 words per document; deterministic by seed; "
        "written to `~/.cache/newsdedup-bench`). Task for every tool: word 5-shingles, 128 "
        "permutations, threshold 0.8, JSONL (title + text) to groups of duplicates. Set-up: "
        "`bash benchmarks/speed/setup.sh` (peers in `benchmarks/.venv-*`), then `make bench`.",
        "",
        "Columns: *sig docs/s* is the signature stage (texts in memory to one MinHash per "
        "document, tokenising and shingling included); *total s* is the tool's own end-to-end "
        "time from the JSONL file to groups (median of the runs) and *docs/s* the documents "
        "per second it gives; *peak MiB* is the peak of the "
        "summed PSS (proportional set size) of the tool's whole process tree; *recall* is "
        "how many of the grouped pairs that any tool found with exact 5-shingle Jaccard "
        ">= 0.8 (newsdedup's normalised tokens) this tool has in one group; *sig x* is "
        "newsdedup's signature docs/s divided by the tool's; *total x* is the tool's total "
        "time divided by newsdedup's.",
        "",
    ]
    for n in sorted(sizes, key=int):
        block = sizes[n]
        tools = block["tools"]
        nd_sig = tools.get("newsdedup-sig", {}).get("sig_s")
        nd_sig_rate = _rate(int(n), nd_sig)
        out += [
            f"### {int(n):,} articles",
            "",
            f"Command: `{block['command']}`; {block['date']}.",
            "",
            "| tool | version | runs | sig docs/s | total s | docs/s | peak MiB | pairs | groups "
            "| recall (found/true) | sig x | total x (vs newsdedup / copy tier) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        loads = [x for t in tools.values() for x in (t.get("load_avg") or []) if x is not None]
        if loads:
            out.insert(len(out) - 3, f"Load average (1 min) at the end of each run: "
                       f"{min(loads):.1f}-{max(loads):.1f} on 2 cores.")
        for tool in LABELS:
            t = tools.get(tool)
            if t is None:
                continue
            if "error" in t:
                reason = t["error"].strip().splitlines()[-1][:300] if t["error"] else "failed"
                out.append(f"| {LABELS[tool]} | – | 0 | – | – | – | – | – | – | – | – | "
                           f"did not finish: {reason} |")
                continue
            rate = _rate(int(n), t.get("sig_s"))
            rec = t.get("recall")
            rec_s = f"{rec['found']}/{rec['true_pairs_union']}" if rec else "–"
            nd_sig_runs = tools.get("newsdedup-sig", {}).get("all_sig_s", [])
            sig_x = "–"
            if rate and nd_sig_rate and tool in PEERS:
                sig_x = _f(_paired_ratio(nd_sig_runs, t.get("all_sig_s", [])), "{:.2f}")
            tot = t.get("total_s")
            tot_x = "–"
            if tot and tool in PEERS:
                parts = [
                    _f(_paired_ratio(tools.get(ref, {}).get("all_total_s", []),
                                     t.get("all_total_s", [])), "{:.2f}")
                    if tools.get(ref, {}).get("total_s") else "–"
                    for ref in ("newsdedup", "newsdedup-core")
                ]
                tot_x = " / ".join(parts)
            out.append(
                f"| {LABELS[tool]} | {t.get('version')} | {t['runs']} | {_f(rate, '{:,.0f}')} | "
                f"{_f(tot)} | {_f(_rate(int(n), tot), '{:,.0f}')} | "
                f"{_f(t.get('peak_tree_rss_mib'), '{:,.0f}')} | "
                f"{_f(t.get('pairs'), '{}')} | {_f(t.get('groups'), '{}')} | {rec_s} | "
                f"{sig_x} | {tot_x} |"
            )
        for msg in tools.get("newsdedup", {}).get("stages") or []:
            out += ["", f"newsdedup `cluster()` stages (DEBUG log of the last run): {msg}."]
        stages = tools.get("newsdedup-core", {}).get("stages")
        if stages:
            out += ["", "newsdedup copy tier stages (last run): " + ", ".join(
                f"{k} {v:.2f} s" if isinstance(v, float) else f"{k} {v}"
                for k, v in stages.items()) + "."]
        out.append("")
    return "\n".join(out)


def write_docs(report: dict[str, Any] | list[dict[str, Any]], extra: str = "") -> None:
    reports = report if isinstance(report, list) else [report]
    text = DOC.read_text(encoding="utf-8")
    a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:a] + "\n" + render(reports) + extra + "\n" + text[b:], encoding="utf-8")


def main() -> None:
    reports = [json.loads(Path(p).read_text()) for p in sys.argv[1:]]
    extra_path = ROOT / "benchmarks" / "speed" / "notes.md"
    extra = "\n" + extra_path.read_text(encoding="utf-8") if extra_path.exists() else ""
    write_docs(reports, extra)
    print(f"updated {DOC}")


if __name__ == "__main__":
    main()
