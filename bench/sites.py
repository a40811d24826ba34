"""Replay sets of whole sites, one site per loopback host, for the signal benchmark.

Usage: sites.py OUTDIR --kind KIND [--sites 3] [--pages 20] [--versions 6] [--fraction 0.25] [--seed S]

Unlike ../shared/pages/make_pages.py (one site, noise outside the article), each set here is
three sites built on three different templates (a charity's news page, a council's page, a trade
paper's story), each on its own host (hosts.json maps a page's site to 127.0.0.x), with noise
inside the article under hashed class names that say nothing. Version 0 is the baseline, version
1 changes noise only, and from version 2 on, FRACTION of each site's pages also get a real edit.

KIND picks the noise (all of them when "mixed"):
- alternate: a headline, a lede and a site-wide strapline, each switching among two or three
  fixed wordings (an A/B test): most changes bring back a wording the page has shown before;
- relative: listing items aged in words ("Published today", "yesterday", "3 days ago", "last
  week"), advancing by a day or so at each version;
- furniture: a consent notice with rotating wording and a recommendations block (titles from a
  site-wide pool), both inside <main>, under hashed class names;
- growth: one page on a site of its own, a "latest funding announcements" page that gains a new
  paragraph with a new amount at every version (every version from 1 on is a real edit), with
  the noise of "mixed" around it; its set has many versions.

Real edits cycle through five kinds per page and version: an amount changed inside a stable
paragraph (and, on a later edit, changed back: £9m -> £12m -> £9m is three real changes), a
closing date moved, a paragraph added, a paragraph removed, and a sentence reworded.

Body text is read from ../shared/corpus/seeds at run time, never copied into the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
from pathlib import Path

from variants import stamp_versions  # bench/ is on the path when a bench script runs

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "seeds"
KINDS = ("alternate", "relative", "furniture", "growth", "mixed")
TEMPLATES = ("charity", "council", "press")
CONSENT = [
    "We use cookies to understand how you use this site. Choose which ones we may set.",
    "This site uses analytics cookies. You can accept or reject them at any time.",
    "Help us improve: allow optional cookies, or continue with essential cookies only.",
]
STRAPLINES = [
    "Standing up for children in care and the families who look after them",
    "The independent voice for kinship, foster and adoptive families",
    "Evidence, advice and campaigns for a fairer care system",
]
AGES = ["today", "yesterday", "2 days ago", "3 days ago", "4 days ago", "last week", "2 weeks ago"]
# A sentence is reworded by moving to its next opening, never back to one it had.
OPENINGS = [
    "Councils will be expected to",
    "Local authorities are now asked to",
    "Every council has been told to",
    "Ministers want each area to",
    "The guidance tells councils to",
    "Areas will soon be required to",
]


def seed_paragraphs() -> list[str]:
    out = []
    for f in sorted(SEEDS.glob("*.txt")):
        out += [p.strip() for p in f.read_text().splitlines() if 80 < len(p.strip()) < 600]
    return out


def hashed(*parts: object) -> str:
    """A class name that says nothing, stable for a site (as a CSS-in-JS build names them)."""
    return "_" + hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:6]


class Site:
    def __init__(self, index: int, template: str, pages: int, paras: list[str], seed: str):
        self.index, self.template, self.pages = index, template, pages
        rnd = random.Random(f"{seed}:site:{index}")
        self.titles = [
            f"{rnd.choice(['Kinship', 'Fostering', 'Family help', 'Care leavers'])} "
            f"briefing {k}: {rnd.choice(['what changes', 'what it means', 'next steps'])}"
            for k in range(24)
        ]
        self.paras = paras
        self.seed = seed

    def name(self, i: int) -> str:
        return f"s{self.index}-p{i}.html"


def headline_wordings(rnd: random.Random, i: int) -> list[str]:
    topic = rnd.choice(["kinship carers", "foster carers", "care leavers", "family hubs"])
    options = [
        f"New support for {topic} announced in page {i}",
        f"What the reforms mean for {topic}: update {i}",
        f"{topic.capitalize()} at the centre of plans, briefing {i}",
    ]
    return options[: rnd.choice([2, 3])]


def lede_wordings(rnd: random.Random) -> list[str]:
    return [
        "Read our summary of the changes and what they mean for families.",
        "Here is what you need to know, and how it affects the families we support.",
        "Our briefing sets out the key points and how to respond.",
    ][: rnd.choice([2, 3])]


def body_for(site: Site, i: int, v: int, edits: list[int]) -> list[str]:
    """The article's own paragraphs at version v, after the real edits made so far."""
    rnd = random.Random(f"{site.seed}:{site.index}:{i}")
    body = rnd.sample(site.paras, 8)
    amounts = [9]
    closing, extra, removed, reworded = 11, [], 0, 0
    for w in edits:
        kind = (i + w) % 5
        if kind == 0:
            # 9 -> 12 -> 9 -> 15 ...: a value may come back, and it is news each time.
            amounts.append(
                12 if amounts[-1] == 9 else (9 if len(amounts) == 2 else amounts[-1] + 3)
            )
        elif kind == 1:
            closing += 7
        elif kind == 2:
            extra.append(
                f"Update {w}: the council confirmed {w + 2} more family hubs will open in the area."
            )
        elif kind == 3:
            removed += 1
        else:
            reworded += 1
    body = body[: len(body) - removed] if removed < 5 else body[:3]
    said = f"{OPENINGS[reworded % len(OPENINGS)]} publish a plan for local family help services."
    body.insert(1, f"The fund is worth £{amounts[-1]} million over the next two years.")
    body.insert(3, f"Responses are invited until {closing % 28 + 1} June 2027.")
    body.insert(4, said)
    for k, text in enumerate(extra):
        body.insert(min(len(body), 5 + k), text)
    return body


def noise(site: Site, i: int, v: int, kind: str) -> dict[str, str]:
    """The noisy parts of a page at version v, as HTML fragments by slot."""
    rnd = random.Random(f"{site.seed}:{site.index}:{i}:wordings")
    vr = random.Random(f"{site.seed}:{site.index}:{i}:{v}")
    site_vr = random.Random(f"{site.seed}:{site.index}:{v}")
    out = {"headline": "", "strap": "", "lede": "", "listing": "", "consent": "", "recs": ""}
    heads, ledes = headline_wordings(rnd, i), lede_wordings(rnd)
    out["headline"] = heads[0]
    if kind in ("alternate", "mixed"):
        out["headline"] = vr.choice(heads)
        out["lede"] = vr.choice(ledes)
        out["strap"] = site_vr.choice(STRAPLINES[:2])
    if kind in ("relative", "mixed"):
        items = []
        for k in range(4):
            age = AGES[min(len(AGES) - 1, k + v + (i % 2))]
            items.append(
                f"<li><a href='/n/{k}'>{html.escape(site.titles[k])}</a> "
                f"<span class='{hashed(site.index, 'age')}'>Published {age}</span></li>"
            )
        out["listing"] = f"<ul class='{hashed(site.index, 'list')}'>{''.join(items)}</ul>"
    if kind in ("furniture", "mixed"):
        out["consent"] = (
            f"<div class='{hashed(site.index, 'c')}'><p>{vr.choice(CONSENT)}</p>"
            f"<button>Accept</button> <button>Reject</button></div>"
        )
        recs = vr.sample(site.titles[4:], 3)
        links = "".join(
            f"<li><a href='/r/{k}'>{html.escape(t)}</a></li>" for k, t in enumerate(recs)
        )
        out["recs"] = (
            f"<div class='{hashed(site.index, 'r')}'><h3>You may also like</h3><ul>{links}</ul></div>"
        )
    return out


def render(site: Site, i: int, v: int, kind: str, body: list[str]) -> str:
    n = noise(site, i, v, kind)
    paras = [f"<p>{html.escape(p)}</p>" for p in body]
    lede = (
        f"<p class='{hashed(site.index, 'lede')}'>{html.escape(n['lede'])}</p>" if n["lede"] else ""
    )
    strap = (
        f"<p class='{hashed(site.index, 'strap')}'>{html.escape(n['strap'])}</p>"
        if n["strap"]
        else ""
    )
    head = html.escape(n["headline"])
    if site.template == "charity":
        inner = (
            f"{n['consent']}<article class='{hashed(site.index, 'a')}'>{strap}<h1>{head}</h1>{lede}"
            f"{''.join(paras[:4])}{n['recs']}{''.join(paras[4:])}</article>{n['listing']}"
        )
    elif site.template == "council":
        inner = (
            f"<div class='{hashed(site.index, 'w')}'><h1>{head}</h1>{strap}{lede}{n['listing']}"
            f"<div class='{hashed(site.index, 'b')}'>{''.join(paras)}</div>{n['recs']}{n['consent']}</div>"
        )
    else:
        inner = (
            f"<article>{n['consent']}<header><h1>{head}</h1>{lede}</header>{strap}"
            f"<section class='{hashed(site.index, 's')}'>{''.join(paras[:5])}</section>{n['recs']}"
            f"<section class='{hashed(site.index, 's')}'>{''.join(paras[5:])}</section>{n['listing']}</article>"
        )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{head}</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><main>{inner}</main>"
        f"<footer><p>Site {site.index} footer</p></footer></body></html>"
    )


def growth_page(paras: list[str], v: int, seed: str) -> str:
    rnd = random.Random(f"{seed}:growth")
    intro = rnd.sample(paras, 3)
    items = [
        f"Announcement {w}: the Department confirmed £{5 + 3 * w} million for family help in round {w}."
        for w in range(1, v + 1)
    ]
    vr = random.Random(f"{seed}:growth:{v}")
    consent = vr.choice(CONSENT)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in [*intro, *reversed(items)])
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Latest funding "
        "announcements</title></head><body><main><h1>Latest funding announcements</h1>"
        f"<div class='{hashed('g', 'c')}'><p>{html.escape(consent)}</p></div>{body}</main></body></html>"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--kind", choices=KINDS, default="mixed")
    ap.add_argument("--sites", type=int, default=3)
    ap.add_argument("--pages", type=int, default=20, help="pages per site")
    ap.add_argument("--versions", type=int, default=6)
    ap.add_argument("--fraction", type=float, default=0.25)
    ap.add_argument("--seed", default="sites")
    args = ap.parse_args()
    paras = seed_paragraphs()
    if not paras:
        raise SystemExit(f"no seed texts in {SEEDS}")
    kind = "mixed" if args.kind == "growth" else args.kind
    sites = [
        Site(k, TEMPLATES[k % len(TEMPLATES)], args.pages, paras, args.seed)
        for k in range(args.sites)
    ]
    hosts = {f"s{s.index}": f"127.0.0.{s.index + 2}" for s in sites}
    if args.kind == "growth":
        hosts["g"] = f"127.0.0.{args.sites + 2}"
    truth: dict[str, list[str]] = {}
    edited = {
        (s.index, i)
        for s in sites
        for i in range(s.pages)
        if i < max(1, round(args.fraction * s.pages))
    }
    for v in range(args.versions):
        d = args.outdir / f"v{v}"
        d.mkdir(parents=True, exist_ok=True)
        truth[f"v{v}"] = []
        edits = list(range(2, v + 1))  # v1 is noise only
        for s in sites:
            for i in range(s.pages):
                mine = edits if (s.index, i) in edited else []
                (d / s.name(i)).write_text(render(s, i, v, kind, body_for(s, i, v, mine)))
                if mine and v >= 2:
                    truth[f"v{v}"].append(s.name(i))
        if args.kind == "growth":
            (d / "g-p0.html").write_text(growth_page(paras, v, args.seed))
            if v >= 1:
                truth[f"v{v}"].append("g-p0.html")
    (args.outdir / "truth.json").write_text(json.dumps(truth, indent=1))
    (args.outdir / "hosts.json").write_text(json.dumps(hosts, indent=1))
    stamp_versions(args.outdir, args.versions)


if __name__ == "__main__":
    main()
