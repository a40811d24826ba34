"""Replay sets unlike the shared generator's, to check that noise suppression is general.

Usage: variants.py OUTDIR [--n 200] [--versions 4] [--fraction 0.1] [--plain | --pool] [--grow] [--seed S]

Same layout as ../shared/pages/make_pages.py (OUTDIR/v0.., truth.json, current), but:
- noise sits inside the article under neutral class names (no "ad", "related" or "sidebar"
  words for a furniture rule to catch): a rotating "quote of the week" box, a rotating list of
  linked stories, a "last updated N minutes ago · N views" line, a list whose items are shuffled
  every version, and a session token; with --plain the rotating quote is a bare <p> among the
  article's own paragraphs; with --pool it is a bare <p> holding a real paragraph drawn from a
  pool of other pages' text, with nothing in its words to mark it (the hardest case); with --grow
  a reader-comment thread under a neutral class gains one to three comments every version;
- real edits are of four kinds, cycling per page and version: an amount changed inside a stable
  paragraph, a closing date moved, a new paragraph, a paragraph removed. The same page is edited
  in every version, so the same paragraph's amount changes again and again.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import string
import time
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "seeds"
POOL = [f"Story {k}: what the reforms mean for families in region {k % 9}" for k in range(150)]
STEPS = ["Apply for a place", "Read the guidance", "Talk to your local authority", "Get support"]


def seeds() -> list[list[str]]:
    return [
        [p.strip() for p in f.read_text().splitlines() if len(p.strip()) > 80]
        for f in sorted(SEEDS.glob("*.txt"))
    ]


def page(
    paras: list[str],
    i: int,
    v: int,
    changed: bool,
    plain: bool,
    salt: str,
    pool: list[str] | None = None,
    grow: bool = False,
) -> str:
    rnd = random.Random(f"{salt}:{i}")
    body = list(rnd.choice(paras))
    rnd.shuffle(body)
    body = body[:10]
    amount, closing = 9, 11
    extra: list[str] = []
    if changed:
        for w in range(1, v + 1):
            kind = (i + w) % 4
            if kind == 0:
                amount += 3
            elif kind == 1:
                closing += 7
            elif kind == 2:
                extra.append(
                    f"New in version {w}: the council set out how it will support {w + 2} more kinship families."
                )
            elif len(body) > 4:
                body.pop(rnd.randrange(1, len(body)))
    body.insert(1, f"The fund is worth £{amount} million over the next two years.")
    body.insert(3, f"The consultation closes on {closing % 28 + 1} June 2026.")
    for k, text in enumerate(extra):
        body.insert(min(len(body), 4 + 2 * k), text)
    vr = random.Random(f"{salt}:{i}:{v}")
    quote = f"Quote of the week: {vr.choice(POOL)}"
    stories = "".join(
        f"<li><a href='/s/{vr.randrange(999)}'>{html.escape(s)}</a></li>"
        for s in vr.sample(POOL, 4)
    )
    steps = vr.sample(STEPS, len(STEPS))
    token = "".join(vr.choice(string.ascii_letters + string.digits) for _ in range(32))
    paras_html = [f"<p>{html.escape(p)}</p>" for p in body]
    if pool:
        paras_html.insert(5, f"<p>{html.escape(vr.choice(pool))}</p>")
    elif plain:
        paras_html.insert(5, f"<p>{html.escape(quote)}</p>")
    else:
        paras_html.insert(5, f'<div class="box-2">{html.escape(quote)}</div>')
    paras_html.insert(7, f'<ul class="list-x">{stories}</ul>')
    paras_html.insert(
        2,
        f'<p class="meta">Last updated {vr.randrange(2, 59)} minutes ago · {vr.randrange(100, 9000):,} views</p>',
    )
    paras_html.append("<ol class='steps'>" + "".join(f"<li>{s}</li>" for s in steps) + "</ol>")
    paras_html.append(f"<p class='small'>Session {token}</p>")
    if grow:
        counts = random.Random(f"{salt}:{i}:count")
        count = sum(counts.randint(1, 3) for _ in range(v + 1))
        cr = random.Random(f"{salt}:{i}:thread")  # the same stream each version: old comments stay
        thread = "".join(f"<p>{cr.choice(POOL)} (reader {k})</p>" for k in range(count))
        paras_html.append(f'<div class="thread">{thread}</div>')
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Variant page {i}</title></head>
<body><div class="top"><a href="/">Home</a></div><div class="wrap"><div class="col">
<h1>Kinship and fostering update {i}</h1>{"".join(paras_html)}</div></div></body></html>"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--versions", type=int, default=4)
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--pool", action="store_true")
    ap.add_argument("--grow", action="store_true")
    ap.add_argument("--seed", default="variant")
    args = ap.parse_args()
    paras = seeds()
    # Sentences from the generator's own texts: rotating noise that reads like the article.
    pool = [p for text in paras for p in text[10:]] if args.pool else None
    truth: dict[str, list[str]] = {}
    for v in range(args.versions):
        d = args.outdir / f"v{v}"
        d.mkdir(parents=True, exist_ok=True)
        changed = [i for i in range(args.n) if v > 0 and (i % 100) < args.fraction * 100]
        for i in range(args.n):
            (d / f"p{i}.html").write_text(
                page(
                    paras,
                    i,
                    v,
                    i in changed,
                    args.plain,
                    args.seed,
                    pool,
                    args.grow,
                )
            )
        truth[f"v{v}"] = [f"p{i}.html" for i in changed]
    (args.outdir / "truth.json").write_text(json.dumps(truth, indent=1))
    stamp_versions(args.outdir, args.versions)


def stamp_versions(outdir: Path, versions: int) -> None:
    """Give each version's files its own time a minute apart (Last-Modified stays truthful) and
    point `current` at v0."""
    stamp = time.time() - 60 * versions
    for v in range(versions):
        for f in (outdir / f"v{v}").iterdir():
            os.utime(f, (stamp + 60 * v, stamp + 60 * v))
    cur = outdir / "current"
    if cur.is_symlink() or cur.exists():
        cur.unlink()
    os.symlink("v0", cur)


if __name__ == "__main__":
    main()
