"""Shared fixtures: the seeds, the corpora folder, small article factories."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_000 = SEEDS / "000_70fe19c04edc2214.txt"
SEED_001 = SEEDS / "001_906988c07996c90e.txt"
CORPORA = Path(os.environ.get("NEWSDEDUP_CORPORA", ROOT.parent / "shared" / "corpora"))


def corpus_path(*parts: str) -> Path:
    """Path of a file under ../shared/corpora; skips the test (with the reason) if absent."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus file {path} is absent (../shared/corpora not beside the checkout)")
    return path


def read_jsonl_gz(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


@pytest.fixture(scope="session")
def seed_texts() -> tuple[str, str]:
    return SEED_000.read_text(encoding="utf-8"), SEED_001.read_text(encoding="utf-8")
