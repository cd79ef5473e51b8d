"""Speed benchmark: newsdedup and its peers on the same corpora, in the same run.

    bash benchmarks/speed/setup.sh          # once: peers in benchmarks/.venv-*
    python benchmarks/speed/bench.py --docs 10000 100000 --repeat 3 [--tools ...] [--write-docs]

For each corpus size it builds (or reuses) the corpus (``corpus.py``, outside
the repository), runs every tool ``--repeat`` times in a fresh subprocess
(``run_tool.py``, with the tool's own virtual environment), and records:

* the tool's own timers (read, signature stage, LSH + groups, total);
* wall time of the subprocess and its peak memory: the peak of the summed
  PSS of the whole process tree (sampled every 50 ms; PSS shares pages that
  forked workers and libraries share, so multi-process tools are not counted
  twice);
* pairs and groups found, and against the union of all tools' grouped pairs
  whose exact Jaccard (newsdedup's 5-shingle sets of the normalised text) is
  >= 0.8: how many each tool has in one group (recall against the union).

Medians over the repeats go to ``benchmarks/out/speed-<date>.json`` and, with
``--write-docs``, to the speed section of docs/benchmarks.md (between the
``<!-- BEGIN speed -->`` / ``<!-- END speed -->`` markers only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

VENVS = {
    "newsdedup": ROOT / ".venv",
    "newsdedup-full": ROOT / ".venv",
    "newsdedup-sig": ROOT / ".venv",
    "newsdedup-core": ROOT / ".venv",
    "newsdedup-core-strip": ROOT / ".venv",
    "datasketch": ROOT / "benchmarks" / ".venv-datasketch",
    "datasketch-xxh": ROOT / "benchmarks" / ".venv-datasketch",
    "rensa": ROOT / "benchmarks" / ".venv-rensa",
    "text-dedup": ROOT / "benchmarks" / ".venv-textdedup",
    "datatrove": ROOT / "benchmarks" / ".venv-datatrove",
}
DEFAULT_TOOLS = ["newsdedup-sig", "newsdedup", "rensa", "datasketch-xxh", "datasketch",
                 "text-dedup", "datatrove"]
THRESHOLD = 0.8


def _tree_pss(root: int) -> int:
    """Summed PSS (bytes) of ``root`` and all its descendants.

    PSS splits pages shared between processes (forked workers, shared
    libraries) among them, so the sum is the tree's real footprint.
    """
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total


def _sample_pause(cost: float) -> float:
    """Seconds to wait before the next memory sample after one that took ``cost``.

    Reading the PSS of a process tree of a few GiB takes 35-50 ms of CPU
    (``smaps_rollup`` walks every page table); sampled every 50 ms, that is
    40 % of a core taken from the tool, which hurts a tool whose workers use
    both cores and not a one-process tool, which leaves the sampler the other
    core. So the sampler uses at most a tenth of a core (and samples at least
    every 50 ms when sampling is cheap): a peak that lasts less than about half
    a second may be missed."""
    return max(0.05, 9 * cost)


def run_once(tool: str, path: Path, groups_out: Path, timeout: float) -> dict:
    py = VENVS[tool] / "bin" / "python"
    if not py.exists():
        return {"tool": tool, "error": f"{py} missing: run benchmarks/speed/setup.sh"}
    env = dict(os.environ, PYTHONHASHSEED="0", HF_DATASETS_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false")
    t0 = time.perf_counter()
    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([str(py), str(HERE / "run_tool.py"), tool, str(path), str(groups_out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
                            start_new_session=True)
    peak = 0
    while proc.poll() is None:
        s0 = time.perf_counter()
        peak = max(peak, _tree_pss(proc.pid))
        if time.perf_counter() - t0 > timeout:
            os.killpg(proc.pid, 9)  # the tool and every worker it started
            proc.wait()
            return {"tool": tool, "error": f"timeout: stopped after {timeout:.0f} s",
                    "wall": time.perf_counter() - t0}
        time.sleep(_sample_pause(time.perf_counter() - s0))
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"tool": tool, "error": (err or out)[-2000:], "wall": wall}
    res = json.loads(lines[-1])
    res["wall"] = wall
    res["cpu"] = cpu  # user + system seconds of the tool's whole process tree
    res["peak_tree_rss"] = peak
    return res


def exact_pairs(path: Path, groups_files: dict[str, Path]) -> dict[str, dict]:
    """Recall of each tool against the union of grouped pairs with exact J >= 0.8."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    from newsdedup import _native
    from newsdedup.normalize import normalize_fast
    from newsdedup.sign import SignatureSpec, Signer

    ids, texts = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            ids.append(rec["id"])
            title = rec.get("title") or ""
            texts.append(f"{title}\n{rec['text']}" if title else rec["text"])
    pos = {d: i for i, d in enumerate(ids)}
    batch, _ = Signer(SignatureSpec()).sign_texts([normalize_fast(t) for t in texts])
    del texts
    tool_pairs: dict[str, set[tuple[int, int]]] = {}
    skipped_big: dict[str, int] = {}
    for tool, gf in groups_files.items():
        if not gf.exists():
            continue
        groups = json.loads(gf.read_text())
        pairs: set[tuple[int, int]] = set()
        big = 0
        for g in groups:
            if len(g) > 300:
                big += 1
                continue
            m = sorted(pos[d] for d in g)
            pairs.update((m[a], m[b]) for a in range(len(m)) for b in range(a + 1, len(m)))
        tool_pairs[tool] = pairs
        skipped_big[tool] = big
    union = sorted(set().union(*tool_pairs.values())) if tool_pairs else []
    if not union:
        return {}
    arr = np.array(union, dtype=np.int64)
    sizes = batch.sizes()
    if _native.available():
        inter = _native.kernels()["intersections"](batch.values, batch.offsets, arr[:, 0],
                                                   arr[:, 1])
    else:
        inter = np.array([len(np.intersect1d(batch[a], batch[b])) for a, b in union])
    uni = sizes[arr[:, 0]] + sizes[arr[:, 1]] - inter
    jac = np.where(uni > 0, inter / np.maximum(uni, 1), 0.0)
    true = {p for p, j in zip(union, jac.tolist(), strict=True) if j >= THRESHOLD}
    jmap = dict(zip(union, jac.tolist(), strict=True))
    out = {}
    for tool, pairs in tool_pairs.items():
        out[tool] = {
            "true_pairs_union": len(true),
            "found": len(true & pairs),
            "missed": len(true - pairs),
            "grouped_pairs": len(pairs),
            "grouped_pairs_below_0.5": sum(1 for p in pairs if jmap[p] < 0.5),
            "groups_over_300_skipped": skipped_big[tool],
        }
    return out


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cores": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as fh:
            info["memory_gib"] = round(int(fh.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    return info


def med(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--slow", nargs="*", default=["datasketch", "text-dedup", "datatrove",
                                                  "newsdedup", "newsdedup-full",
                                                  "newsdedup-core-strip"],
                    help="tools run only --slow-repeat times (they take minutes)")
    ap.add_argument("--slow-repeat", type=int, default=1)
    ap.add_argument("--tools", nargs="+", default=DEFAULT_TOOLS)
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--write-docs", action="store_true")
    ap.add_argument("--tag", default="", help="name of a separate set of raw runs")
    ap.add_argument("--no-recall", action="store_true",
                    help="skip the exact-Jaccard recall check (it holds the corpus in memory)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%MZ")
    report = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": "python " + " ".join([os.path.relpath(__file__, ROOT), *sys.argv[1:]]),
              "machine": machine(), "sizes": {}}
    for n in args.docs:
        path = corpus.build(n, args.seed)
        runs: dict[str, list[dict]] = {t: [] for t in args.tools}
        groups_files = {}
        tag = f"-{args.tag}" if args.tag else ""
        raw = OUT / f"runs-{n}-s{args.seed}{tag}.jsonl"  # every run, appended as it ends
        if raw.exists():  # resume: runs already made for these tools count
            for line in raw.read_text().splitlines():
                r = json.loads(line)
                if r.get("tool") in runs:
                    runs[r["tool"]].append(r)
        for rep in range(args.repeat):
            for tool in args.tools:  # interleaved, so load changes hit every tool alike
                want = args.slow_repeat if tool in args.slow else args.repeat
                if len(runs[tool]) > rep or rep >= want:
                    continue
                gf = OUT / f"groups-{n}-{tool}.json"
                res = run_once(tool, path, gf, args.timeout)
                res.setdefault("tool", tool)
                res["load_avg"] = os.getloadavg()[0]
                runs[tool].append(res)
                with raw.open("a") as fh:
                    fh.write(json.dumps(res) + "\n")
                peak = res.get("peak_tree_rss", 0) / 2**20
                line = (f"total={res.get('total')} sig={res.get('sig')} "
                        f"wall={res['wall']:.1f}s peak={peak:.0f}MiB"
                        if "error" not in res else "ERROR " + res["error"][-300:])
                print(f"[{n}] {tool} run {rep + 1}: {line}", flush=True)
        for tool in args.tools:
            gf = OUT / f"groups-{n}-{tool}.json"
            if gf.exists() and any("error" not in r and r.get("groups") is not None
                                   for r in runs[tool]):
                groups_files[tool] = gf
        summary = {}
        for tool, rs in runs.items():
            ok = [r for r in rs if "error" not in r]
            if not ok:
                summary[tool] = {"error": rs[-1].get("error", "")[-1500:]}
                continue
            summary[tool] = {
                "runs": len(ok), "version": ok[0].get("version"), "note": ok[0].get("note"),
                "docs": ok[0]["docs"],
                "sig_s": med([r.get("sig") for r in ok]),
                "total_s": med([r.get("total") for r in ok]),
                "wall_s": med([r["wall"] for r in ok]),
                "cpu_s": med([r.get("cpu") for r in ok]),
                "lsh_s": med([r.get("lsh") for r in ok]),
                "peak_tree_rss_mib": med([r["peak_tree_rss"] / 2**20 for r in ok]),
                "pairs": ok[-1].get("pairs"), "groups": ok[-1].get("groups"),
                "grouped_docs": ok[-1].get("grouped_docs"),
                "stages": ok[-1].get("stages"),
                "load_avg": [r.get("load_avg") for r in ok],
                "all_sig_s": [r.get("sig") for r in ok],
                "all_total_s": [r.get("total") for r in ok],
                "init_s": med([r.get("init") for r in ok]),
            }
        recall = {} if args.no_recall else exact_pairs(path, groups_files)
        for tool, rec in recall.items():
            summary[tool]["recall"] = rec
        report["sizes"][str(n)] = {"corpus": str(path), "tools": summary}
        out = args.out or OUT / f"speed-{stamp}.json"
        out.write_text(json.dumps(report, indent=1))
        print(f"wrote {out}", flush=True)
    if args.write_docs:
        import report as rep_mod

        rep_mod.write_docs(report)


if __name__ == "__main__":
    main()
