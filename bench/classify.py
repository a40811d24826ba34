"""Classification benchmark on the combined labelled corpus, by grouped cross-validation.

Run from the repository root (needs scikit-learn: `make bench-classify` installs it):

    .venv/bin/python bench/classify.py [--corpus-dir ../shared/corpus/classify] [--folds 10]

The corpus is dev.jsonl (GOV.UK items), topical_dev.jsonl and pages_dev.jsonl (sector, council,
news and parliament pages). Folds are grouped by site (on a shared government host such as
gov.uk, by page; items of one story in the topical set are kept together), so no site is scored
by a model that saw it. Each item is classified as `watcher classify --jsonl` classifies a page:
title, description where the corpus has one, text, and the URL (only its host is read, as
metadata); never the GOV.UK document type, which is where dev's labels come from.

Prints macro-F1 overall and on pages_dev alone, per-class precision and recall, the confusions, a
learning curve (each fold trained on 25/50/75/100% of its training sites), a reliability table
(the top category's stated confidence against how often it was right, with the temperature fitted
on the other folds' held-out predictions, as `make model` fits it), per-category thresholds,
speed on one core, and the evidence checks (exact extraction on the hand-checked sample; every
amount and full date of the seeds and pages_dev among the facts).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from watcher.classify import Classifier, classify, extract_facts, gather, sentences  # noqa: E402
from watcher.classify.model import LinearModel, document, site  # noqa: E402
from watcher.classify.train import (  # noqa: E402
    _fit,
    fit_temperature,
    fit_thresholds,
    grouped_folds,
    item_examples,
)

CORPUS_DIR = REPO.parent / "shared" / "corpus" / "classify"
SAMPLE = REPO / "tests" / "data" / "evidence_sample.jsonl"
FILES = ("dev.jsonl", "topical_dev.jsonl", "pages_dev.jsonl")
FALLBACK = "news"
BINS = (0.0, 0.3, 0.5, 0.7, 0.85, 1.01)


def load_items(folder: Path) -> list[dict[str, Any]]:
    items = []
    for name in FILES:
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                if item.get("label"):
                    items.append({**item, "corpus": name})
    return items


def page_of(item: dict[str, Any]) -> Any:
    return document(
        item.get("text") or "",
        item.get("title") or "",
        item.get("description") or "",
        item.get("url") or "",
    )


def groups_of(items: list[dict[str, Any]]) -> list[str]:
    """Site (or page on a shared host), joined with the topical set's story groups."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for item in items:
        keys = [site(page_of(item))] + ([f"story:{item['group']}"] if item.get("group") else [])
        for key in keys[1:]:
            parent[find(key)] = find(keys[0])
    return [find(site(page_of(item))) for item in items]


def predict(item: dict[str, Any], model: LinearModel | None) -> tuple[str, float]:
    categories = classify(
        item.get("text") or "",
        title=item.get("title") or "",
        description=item.get("description") or "",
        url=item.get("url") or "",
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


def report(name: str, truth: list[str], guess: list[str], detail: bool = False) -> float:
    macro, per = scores(truth, guess)
    acc = sum(t == g for t, g in zip(truth, guess, strict=True)) / len(truth)
    print(f"{name:<40} macro-F1 {macro:.3f}  accuracy {acc:.3f}  ({len(truth)} items)")
    if detail:
        print(f"    {'label':<22} {'n':>3}  precision  recall     F1")
        for label, (p, r, f, n) in per.items():
            print(f"    {label:<22} {n:>3}  {p:9.3f}  {r:6.3f}  {f:5.3f}")
        confusions = Counter((t, g) for t, g in zip(truth, guess, strict=True) if t != g)
        print(f"    confusions (truth, guess): {confusions.most_common(8)}")
    return macro


def cross_validate(
    items: list[dict[str, Any]], split: list[list[int]], share: float = 1.0
) -> tuple[dict[int, list[float]], list[LinearModel]]:
    """Held-out logits and each fold's model; each fold's model sees `share` of its sites."""
    logits: dict[int, list[float]] = {}
    models = []
    groups = groups_of(items)
    for test in split:
        held = set(test)
        train = [i for i in range(len(items)) if i not in held]
        if share < 1.0:
            # Whole sites, in a fixed order, so the smaller sets are subsets of the larger ones.
            sites = sorted({groups[i] for i in train}, key=lambda g: (hash_of(g), g))
            keep = set(sites[: max(1, round(len(sites) * share))])
            train = [i for i in train if groups[i] in keep]
        examples = [e for i in train for e in item_examples(items[i])]
        model = _fit(examples, "fold")
        models.append(model)
        for i in test:
            row = dict(zip(model.labels, model.logits(page_of(items[i])), strict=True))
            logits[i] = [row.get(label, -30.0) for label in LABELS]
    return logits, models


def hash_of(text: str) -> int:
    import hashlib

    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


LABELS = sorted(
    (
        "consultation_open",
        "consultation_outcome",
        "funding",
        "guidance",
        "legislation",
        "news",
        "report",
        "strategy",
    )
)


def evidence_coverage() -> tuple[int, int]:
    month = (
        r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
        r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
    )
    plain = re.compile(
        rf"£\s?\d[\d,]*(?:\.\d+)?|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{month},?\s+(?:19|20)\d\d\b"
        rf"|\b{month}\s+\d{{1,2}}(?:st|nd|rd|th)?,\s+(?:19|20)\d\d\b|\b\d{{1,2}}/\d{{1,2}}/(?:19|20)\d\d\b",
        re.I,
    )
    texts = [
        p.read_text(encoding="utf-8") for p in sorted((CORPUS_DIR.parent / "seeds").glob("*.txt"))
    ]
    texts += [i["text"] for i in map(json.loads, (CORPUS_DIR / "pages_dev.jsonl").open())]
    found = total = 0
    for text in texts:
        evidence = gather(tuple(text.splitlines()))
        seen = set()
        for line in text.splitlines():
            for sentence in sentences(line.lstrip("#- ")):
                if sentence in seen:
                    continue
                seen.add(sentence)
                for m in plain.finditer(sentence):
                    total += 1
                    index = (
                        evidence.sentences.index(sentence) if sentence in evidence.sentences else -1
                    )
                    found += any(
                        i == index and f.start <= m.start() < f.end
                        for f, i in zip(evidence.facts, evidence.of, strict=True)
                        if f.kind in ("money", "date", "deadline")
                    )
    return found, total


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
    ap.add_argument("--corpus-dir", type=Path, default=CORPUS_DIR)
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="skip the learning curve")
    args = ap.parse_args()
    if not (args.corpus_dir / FILES[0]).is_file():
        print(f"classify: error: corpus not found in {args.corpus_dir}", file=sys.stderr)
        return 1
    items = load_items(args.corpus_dir)
    truth = [item["label"] for item in items]
    groups = groups_of(items)
    split = grouped_folds(groups, args.folds)
    sizes = Counter(item["corpus"] for item in items)
    print(
        f"{len(items)} labelled items ({', '.join(f'{n} {sizes[n]}' for n in FILES)}), "
        f"{len(set(groups))} sites/pages, {args.folds} folds grouped by site"
    )
    logits, models = cross_validate(items, split)
    # Temperature for each fold from the other folds' held-out logits (as `make model` fits it
    # on held-out logits), so no item's confidence is calibrated on itself.
    temps = []
    for k in range(len(split)):
        others = [i for j, t in enumerate(split) if j != k for i in t]
        temps.append(
            fit_temperature([logits[i] for i in others], [truth[i] for i in others], LABELS)
        )
    guess = [""] * len(items)
    conf = [0.0] * len(items)
    for k, test in enumerate(split):
        model = replace(models[k], temperature=temps[k])
        for i in test:
            guess[i], conf[i] = predict(items[i], model)
    stated = [i for i, item in enumerate(items) if item.get("label_basis")]
    said = [""] * len(items)
    for k, test in enumerate(split):
        classifier = Classifier(model=replace(models[k], temperature=temps[k]))
        for i in test:
            if items[i].get("label_basis"):
                top = classifier(items[i]["label_basis"], title=items[i].get("title") or "")
                said[i] = top[0].label if top else FALLBACK
    rules = [predict(item, None)[0] for item in items]
    print(f"temperature per fold: {min(temps):.2f}..{max(temps):.2f}")
    report("rules only (no model), all", truth, rules)
    report("model + events, all", truth, guess, detail=True)
    for name in FILES:
        idx = [i for i, item in enumerate(items) if item["corpus"] == name]
        report(
            f"model + events, {name}",
            [truth[i] for i in idx],
            [guess[i] for i in idx],
            detail=name != FILES[1],
        )
    report(
        "the stating sentence alone, as a change",
        [truth[i] for i in stated],
        [said[i] for i in stated],
        detail=True,
    )
    if not args.quick:
        print("learning curve (macro-F1, each fold trained on a share of its training sites):")
        for share in (0.25, 0.5, 0.75):
            _, ms = cross_validate(items, split, share)
            g = [""] * len(items)
            for k, test in enumerate(split):
                for i in test:
                    g[i] = predict(items[i], replace(ms[k], temperature=temps[k]))[0]
            pages = [i for i, item in enumerate(items) if item["corpus"] == FILES[2]]
            print(
                f"    {int(share * 100):>3}%  all {scores(truth, g)[0]:.3f}  pages_dev "
                f"{scores([truth[i] for i in pages], [g[i] for i in pages])[0]:.3f}"
            )
        pages = [i for i, item in enumerate(items) if item["corpus"] == FILES[2]]
        print(
            f"    100%  all {scores(truth, guess)[0]:.3f}  pages_dev "
            f"{scores([truth[i] for i in pages], [guess[i] for i in pages])[0]:.3f}"
        )

    print("reliability (top category's confidence vs. share right, held out):")
    print(f"    {'confidence':<12} {'n':>4}  {'mean conf':>9}  {'right':>6}")
    ece = 0.0
    for low, high in itertools.pairwise(BINS):
        idx = [i for i in range(len(items)) if low <= conf[i] < high]
        if not idx:
            continue
        mean = sum(conf[i] for i in idx) / len(idx)
        right = sum(guess[i] == truth[i] for i in idx) / len(idx)
        ece += len(idx) / len(items) * abs(mean - right)
        print(f"    {low:.2f}-{min(high, 1.0):.2f}  {len(idx):>4}  {mean:9.2f}  {right:6.2f}")
    print(f"    expected calibration error {ece:.3f}")
    held_logits = [logits[i] for i in range(len(items))]
    temperature = fit_temperature(held_logits, truth, LABELS)
    thresholds = fit_thresholds(held_logits, truth, LABELS, temperature)
    print(
        "thresholds for 80% precision: "
        + ", ".join(f"{label} {t:.2f}" for label, t in thresholds.items())
    )

    full = _fit([e for item in items for e in item_examples(item)], "all")
    full = replace(full, temperature=temperature)
    t0 = time.perf_counter()
    for item in items:
        predict(item, full)
    elapsed = time.perf_counter() - t0
    print(
        f"speed: {len(items) / elapsed:.0f} whole pages/s on one core "
        f"(mean {sum(len(i['text']) for i in items) // len(items)} chars)"
    )
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
    print(f"evidence: {hits}/{total} sample sentences extracted exactly")
    found, total = evidence_coverage()
    print(
        f"evidence: {found}/{total} amounts and full dates of the seeds and pages_dev among the facts"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
