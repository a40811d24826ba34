"""Classification benchmark: macro-F1 and per-class precision/recall on the labelled GOV.UK corpus
by grouped cross-validation, confidence calibration, speed, and the exact-match rate of amount and
date extraction on the hand-checked sample.

Run from the repository root (needs scikit-learn: `make bench-classify` installs it):

    .venv/bin/python bench/classify.py [--corpus ../shared/corpus/classify/dev.jsonl] [--folds 10]

Each item is classified as `watcher classify --jsonl` would. Cross-validation keeps every version
of one page (same title) in the same fold, so no page is scored by a model that saw it. Three
inputs are scored: title and text only (what an arbitrary page gives), plus the description, plus
the URL (what a GOV.UK page gives). The rules were written while reading this corpus, so their
share of the figures is optimistic; the topical set is scored by a model trained on all of dev.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from watcher.classify import classify, extract_facts  # noqa: E402
from watcher.classify.model import LinearModel, document  # noqa: E402
from watcher.classify.train import fit  # noqa: E402

CORPUS_DIR = REPO.parent / "shared" / "corpus" / "classify"
SAMPLE = REPO / "tests" / "data" / "evidence_sample.jsonl"
FALLBACK = "guidance"
INPUTS = ("title+text", "+description", "+description+url")


def predict(item: dict[str, Any], model: LinearModel | None, inputs: str) -> tuple[str, float]:
    categories = classify(
        item.get("text") or "",
        title=item.get("title") or "",
        description=(item.get("description") or "") if "description" in inputs else "",
        url=(item.get("url") or "") if "url" in inputs else "",
        model=model if model is not None else False,
    )
    top = [c for c in categories if c.label != "minor"]
    return (top[0].label, top[0].confidence) if top else (FALLBACK, 0.0)


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


def folds(items: list[dict[str, Any]], k: int) -> list[list[int]]:
    """Pages (by title) dealt round-robin into k folds, largest groups first: deterministic."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[(item.get("title") or "").strip().lower()].append(i)
    out: list[list[int]] = [[] for _ in range(k)]
    for n, members in enumerate(sorted(groups.values(), key=lambda g: (-len(g), g[0]))):
        out[n % k].extend(members)
    return out


def example(item: dict[str, Any]) -> tuple[str, str]:
    return (
        document(item.get("text") or "", item.get("title") or "", item.get("description") or ""),
        item["label"],
    )


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


def report(name: str, truth: list[str], guess: list[str], detail: bool = False) -> float:
    macro, per = scores(truth, guess)
    multi = [label for label, (_, _, _, n) in per.items() if n > 1]
    macro_multi = sum(per[label][2] for label in multi) / len(multi)
    acc = sum(t == g for t, g in zip(truth, guess, strict=True)) / len(truth)
    print(
        f"{name:<44} macro-F1 {macro:.3f} ({len(per)} labels), {macro_multi:.3f} "
        f"({len(multi)} with >1 item), accuracy {acc:.3f}"
    )
    if detail:
        print(f"    {'label':<22} {'n':>3}  precision  recall     F1")
        for label, (p, r, f, n) in per.items():
            print(f"    {label:<22} {n:>3}  {p:9.3f}  {r:6.3f}  {f:5.3f}")
        confusions = Counter((t, g) for t, g in zip(truth, guess, strict=True) if t != g)
        print(f"    confusions: {confusions.most_common(6)}")
    return macro


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS_DIR / "dev.jsonl")
    ap.add_argument("--topical", type=Path, default=CORPUS_DIR / "topical_dev.jsonl")
    ap.add_argument("--folds", type=int, default=10)
    args = ap.parse_args()
    if not args.corpus.is_file():
        print(
            f"classify: error: corpus not found at {args.corpus}; pass --corpus PATH",
            file=sys.stderr,
        )
        return 1
    items = load_jsonl(args.corpus)
    truth = [item["label"] for item in items]
    split = folds(items, args.folds)
    print(f"{args.corpus.name}: {len(items)} items, {args.folds} folds grouped by page")
    guesses: dict[str, list[str]] = {}
    confidence: dict[int, float] = {}
    for inputs in INPUTS:
        rules_only = [predict(item, None, inputs)[0] for item in items]
        combined = [""] * len(items)
        for test in split:
            held = set(test)
            model = fit([example(items[i]) for i in range(len(items)) if i not in held], "fold")
            for i in test:
                combined[i], conf = predict(items[i], model, inputs)
                if inputs == INPUTS[0]:
                    confidence[i] = conf
        report(f"rules only, {inputs}", truth, rules_only)
        report(f"rules + model, {inputs}", truth, combined, detail=inputs == INPUTS[-1])
        guesses[inputs] = combined

    print("calibration (rules + model, title+text): top confidence vs. share correct")
    bins: dict[str, list[bool]] = defaultdict(list)
    for i, conf in confidence.items():
        edge = (
            "<0.5"
            if conf < 0.5
            else "0.5-0.7"
            if conf < 0.7
            else "0.7-0.85"
            if conf < 0.85
            else ">=0.85"
        )
        bins[edge].append(guesses[INPUTS[0]][i] == truth[i])
    for edge in ("<0.5", "0.5-0.7", "0.7-0.85", ">=0.85"):
        hits = bins.get(edge, [])
        if hits:
            print(f"    {edge:<9} {len(hits):>3} items, {sum(hits) / len(hits):.2f} correct")

    full = fit([example(item) for item in items], "all of dev")
    if args.topical.is_file():
        topical = [t for t in load_jsonl(args.topical) if t.get("label")]
        report(
            f"{args.topical.name} ({len(topical)} unseen pages), title+text+url",
            [t["label"] for t in topical],
            [predict(t, full, "+description+url")[0] for t in topical],
        )

    docs = [item for item in items for _ in range(3)]
    t0 = time.perf_counter()
    for item in docs:
        predict(item, full, INPUTS[0])
    elapsed = time.perf_counter() - t0
    print(
        f"speed: {len(docs) / elapsed:.0f} pages/s on one core ({elapsed * 1000 / len(docs):.1f} ms "
        f"each, mean page {sum(len(i['text']) for i in items) // len(items)} chars)"
    )
    from watcher.classify import Classifier, sentences

    classifier = Classifier(model=full)
    changes = []
    for item in items:
        said = list(sentences(item.get("text") or ""))
        changes += [
            (" ".join(said[k : k + 3]), item.get("title") or "")
            for k in range(0, min(len(said), 9), 3)
        ]
    t0 = time.perf_counter()
    for text, title in changes:
        classifier(text, title=title)
    elapsed = time.perf_counter() - t0
    print(
        f"speed: {len(changes) / elapsed:.0f} changes/s on one core (3 sentences each, "
        f"mean {sum(len(t) for t, _ in changes) // len(changes)} chars)"
    )
    hits, total = extraction_exact()
    print(
        f"amount and date extraction: {hits}/{total} sentences exact ({hits / total:.3f}) on the hand-checked sample"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
