"""Classification benchmark: macro-F1 and per-class precision/recall on the labelled GOV.UK corpus,
and the exact-match rate of amount and date extraction on the hand-checked sample.

Run from the repository root:

    .venv/bin/python bench/classify.py [--corpus ../shared/corpus/classify/dev.jsonl]

Each item is classified as `watcher classify --jsonl` would: its title and text, no URL and no
document type. The top category is the prediction; a text no rule fires on counts as the corpus's
most common label (guidance). The classifier is rules only and was not fitted to this corpus, so
the whole corpus is a held-out set (no cross-validation is needed until a model is trained).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from watcher.classify import classify, extract_facts  # noqa: E402

DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "classify" / "dev.jsonl"
SAMPLE = REPO / "tests" / "data" / "evidence_sample.jsonl"
FALLBACK = "guidance"


def predict(item: dict[str, str]) -> str:
    categories = classify(
        item.get("text") or "",
        title=item.get("title") or "",
        description=item.get("description") or "",
    )
    return categories[0].label if categories else FALLBACK


def scores(
    truth: list[str], guess: list[str]
) -> tuple[float, dict[str, tuple[float, float, float, int]]]:
    per: dict[str, tuple[float, float, float, int]] = {}
    for label in sorted(set(truth)):
        tp = sum(t == g == label for t, g in zip(truth, guess, strict=True))
        fp = sum(g == label and t != label for t, g in zip(truth, guess, strict=True))
        fn = sum(t == label and g != label for t, g in zip(truth, guess, strict=True))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per[label] = (p, r, f, tp + fn)
    return sum(f for _, _, f, _ in per.values()) / len(per), per


def extraction_exact() -> tuple[int, int]:
    hits = total = 0
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        facts = extract_facts(item["text"])
        money = [f.text for f in facts if f.kind == "money"]
        dates = [
            f"deadline:{f.text}" if f.kind == "deadline" else f.text
            for f in facts
            if f.kind in ("date", "deadline")
        ]
        total += 1
        hits += money == item["money"] and dates == item["dates"]
    return hits, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = ap.parse_args()
    if not args.corpus.is_file():
        print(
            f"classify: error: corpus not found at {args.corpus}; pass --corpus PATH",
            file=sys.stderr,
        )
        return 1
    items = [
        json.loads(line)
        for line in args.corpus.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    t0 = time.perf_counter()
    guess = [predict(item) for item in items]
    elapsed = time.perf_counter() - t0
    truth = [item["label"] for item in items]
    macro, per = scores(truth, guess)
    present = [label for label, (_, _, _, n) in per.items() if n > 1]
    macro_multi = sum(per[label][2] for label in present) / len(present)
    print(
        f"classification on {args.corpus.name}: {len(items)} items, rules only (no URL, no document type)"
    )
    print(f"{'label':<22} {'n':>3}  precision  recall     F1")
    for label, (p, r, f, n) in per.items():
        print(f"{label:<22} {n:>3}  {p:9.3f}  {r:6.3f}  {f:5.3f}")
    print(
        f"macro-F1 {macro:.3f} over {len(per)} labels; {macro_multi:.3f} over the {len(present)} with more than one item"
    )
    print(f"accuracy {sum(t == g for t, g in zip(truth, guess, strict=True)) / len(items):.3f}")
    print(
        f"confusions: {Counter((t, g) for t, g in zip(truth, guess, strict=True) if t != g).most_common(6)}"
    )
    print(
        f"speed: {len(items) / elapsed:.0f} items/s on one core ({elapsed * 1000 / len(items):.1f} ms each)"
    )
    hits, total = extraction_exact()
    print(
        f"amount and date extraction: {hits}/{total} sentences exact ({hits / total:.3f}) on the hand-checked sample"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
