"""What people read from the CLI (issue 20): tables with a header row, deadlines in words, help
that names things as usage does, shared options before the command, names' rules, explain's
ignored chrome, check logs that tell the fetch from the wait, a clean line for a port in use,
and the demo's dates. Each runs the real `watcher` command in a subprocess."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO, PageServer, html_page, write_config
from watcher.humane import closing, plural, span

pytestmark = pytest.mark.slow

TIMEOUT = 60
LONG = "department-for-education-children-social-care-consultations"
# Nothing listens on port 1: an alert to it stays in the outbox, retrying.
DEAD_MAIL = "mailto://127.0.0.1:1?from=watcher@example.org&to=team@example.org"
INTRO = [
    "The Government has published its response to the Independent Review of Children's Social Care.",
    "It commits £200 million over the next two years to begin reform.",
]


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(extra or {})
    return env


def watcher(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "watcher.cli", *args],
        cwd=cwd,
        env=clean_env(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def on_terminal(*args: str, cwd: Path) -> str:
    """The command's standard output as a terminal shows it (stdout is a pseudo-terminal)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "watcher.cli", *args],
        cwd=cwd,
        env=clean_env({"COLUMNS": "200"}),
        stdout=follower,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], TIMEOUT)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower side closed: the command is done
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=TIMEOUT)
    os.close(leader)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def spoken(day: date | datetime) -> str:
    return f"{day.day} {day:%B %Y}"


def two_sources(tmp_path: Path, site: PageServer, targets: list[tuple[str, str]] = ()) -> Path:  # type: ignore[assignment]
    site.set("/a", html_page("A page", INTRO))
    site.set("/b", html_page("B page", INTRO))
    return write_config(
        tmp_path / "sources.toml",
        [{"name": LONG, "url": site.url("/a")}, {"name": "b", "url": site.url("/b")}],
        targets=targets,
    )


# ---------------------------------------------------------------------------------------------
# 1. Tables: a header row; tab-separated when piped, aligned on a terminal; no milliseconds


def test_sources_piped_is_tab_separated_under_a_header(tmp_path: Path, site: PageServer) -> None:
    two_sources(tmp_path, site)
    assert watcher("check", cwd=tmp_path).returncode == 0
    proc = watcher("sources", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, *rows = proc.stdout.splitlines()
    assert header.split("\t") == ["name", "every", "last_check_utc", "last_change_utc", "status"]
    assert [r.split("\t")[0] for r in rows] == [LONG, "b"]
    for row in rows:
        cells = row.split("\t")
        assert len(cells) == 5
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cells[2]), cells[2]  # no fraction
        assert cells[4] == "baseline"


def test_sources_on_a_terminal_line_up_under_capital_headers(
    tmp_path: Path, site: PageServer
) -> None:
    two_sources(tmp_path, site)
    assert watcher("check", cwd=tmp_path).returncode == 0
    header, *rows = on_terminal("sources", cwd=tmp_path).splitlines()
    assert header.split() == [
        "NAME",
        "EVERY",
        "LAST",
        "CHECK",
        "UTC",
        "LAST",
        "CHANGE",
        "UTC",
        "STATUS",
    ]
    assert "\t" not in header
    assert len(rows) == 2
    column = header.index("EVERY")
    assert all(row[column : column + 2] == "6h" for row in rows), rows
    status = header.index("STATUS")
    assert all(row[status:] == "baseline" for row in rows), rows


def test_alerts_columns_line_up_with_a_long_source_name(tmp_path: Path, site: PageServer) -> None:
    two_sources(tmp_path, site, targets=[("mail", "WATCHER_TEST_MAIL")])
    env = {"WATCHER_TEST_MAIL": DEAD_MAIL}
    assert watcher("check", cwd=tmp_path, env=env).returncode == 0
    site.set("/a", html_page("A page", [*INTRO, "A new workforce consultation opens in June."]))
    site.set("/b", html_page("B page", [*INTRO, "£45 million of new funding was announced."]))
    assert watcher("check", cwd=tmp_path, env=env).returncode == 0

    changes = watcher("changes", cwd=tmp_path).stdout.splitlines()
    assert len(changes) == 2
    assert all(re.match(r"#\d+  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ", c) for c in changes), changes

    piped = watcher("alerts", cwd=tmp_path, env=env)
    header, *rows = piped.stdout.splitlines()
    assert header.split("\t")[:7] == ["id", "status", "kind", "mode", "target", "source", "what"]
    assert {r.split("\t")[5] for r in rows} == {LONG, "b"}
    assert all(len(r.split("\t")) == len(header.split("\t")) for r in rows)
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", piped.stdout), "no milliseconds"

    shown = on_terminal("alerts", "--config", "sources.toml", cwd=tmp_path)
    top, *lines = shown.splitlines()
    assert top.startswith("ID") and "SOURCE" in top
    assert len(lines) == 2
    what = top.index("WHAT")
    assert all(line[what:].startswith("change #") for line in lines), shown


def test_publications_print_their_time_to_the_second(tmp_path: Path, site: PageServer) -> None:
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        "<item><title>A kinship care update</title><link>{}</link>"
        "<pubDate>Mon, 30 Nov 2026 09:00:00 GMT</pubDate></item></channel></rss>"
    ).format(site.url("/news/1"))
    site.set("/feed.xml", feed, headers={"Content-Type": "application/rss+xml"})
    site.set("/news/1", html_page("A kinship care update", ["Kinship carers get new help."]))
    write_config(
        tmp_path / "sources.toml", [{"name": "news", "url": site.url("/feed.xml"), "kind": "feed"}]
    )
    assert watcher("check", cwd=tmp_path).returncode == 0
    shown = watcher("publications", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    first = shown.stdout.splitlines()[0]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  \[", first), first  # as `changes` does


# ---------------------------------------------------------------------------------------------
# 2. Deadlines in words


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0, "closes today"),
        (1, "closes tomorrow"),
        (5, "closes in 5 days"),
        (13, "closes in 13 days"),
        (21, "closes in 3 weeks"),
        (100, "closes in 3 months"),
        (-1, "closed yesterday"),
        (-9, "closed 9 days ago"),
        (-1298, "closed 3 years ago"),
        (-365, "closed 1 year ago"),
    ],
)
def test_closing_words(days: int, words: str) -> None:
    assert closing(days) == words


def test_plural_and_span() -> None:
    assert [plural(n, "comparison") for n in (0, 1, 2)] == [
        "0 comparisons",
        "1 comparison",
        "2 comparisons",
    ]
    assert span(-730) == "2 years"


def test_deadlines_all_says_closed_ago_and_closes_in(tmp_path: Path, site: PageServer) -> None:
    site.set("/c", html_page("Consultation", INTRO))
    write_config(tmp_path / "sources.toml", [{"name": "c", "url": site.url("/c")}])
    assert watcher("check", cwd=tmp_path).returncode == 0
    today = datetime.now(UTC).date()
    past, soon = today - timedelta(days=1298), today + timedelta(days=5)
    site.set(
        "/c",
        html_page(
            "Consultation",
            [
                *INTRO,
                f"The first consultation closed on {spoken(past)}.",
                f"The new consultation closes on {spoken(soon)}.",
            ],
        ),
    )
    assert watcher("check", cwd=tmp_path).returncode == 0
    proc = watcher("deadlines", "--all", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    header, *rows = proc.stdout.splitlines()
    assert header.split("\t") == ["due", "when", "source", "sentence"]
    assert [r.split("\t")[:2] for r in rows] == [
        [past.isoformat(), "closed 3 years ago"],
        [soon.isoformat(), "closes in 5 days"],
    ]
    assert "days)" not in proc.stdout
    upcoming = watcher("deadlines", cwd=tmp_path).stdout.splitlines()
    assert [r.split("\t")[1] for r in upcoming[1:]] == ["closes in 5 days"]


# ---------------------------------------------------------------------------------------------
# 3. Help and the shared options


def test_classify_help_says_file_and_takes_config(tmp_path: Path) -> None:
    proc = watcher("classify", "--help", cwd=tmp_path)
    assert "classify [OPTIONS] [FILE]" in proc.stdout
    assert "--config FILE" in proc.stdout and "--state" in proc.stdout
    # With no sources file around it still works (the shipped model)...
    text = "The consultation closes on 11 May 2027. Responses are invited."
    alone = watcher("classify", cwd=tmp_path, stdin=text)
    assert alone.returncode == 0, alone.stderr
    assert "deadline: 11 May 2027" in alone.stdout
    # ...and a --config that names no file is an error, not ignored.
    missing = watcher("classify", "--config", "nope.toml", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nope.toml: file not found" in missing.stderr


@pytest.mark.parametrize("command", ["changes", "sources", "deadlines", "alerts", "explain"])
def test_format_options_are_described(tmp_path: Path, command: str) -> None:
    proc = watcher(command, "--help", cwd=tmp_path)
    words = " ".join(proc.stdout.split())
    line = re.search(r"--format \[text\|json\] (text: .*?); json: one JSON document", words)
    assert line, proc.stdout


def test_alerts_retry_names_its_argument_as_usage_does(tmp_path: Path, site: PageServer) -> None:
    two_sources(tmp_path, site)
    usage = watcher("alerts", "--help", cwd=tmp_path).stdout
    assert "OUTBOX_ID" in usage
    proc = watcher("alerts", "retry", "999", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Invalid value for OUTBOX_ID: no unsent alert #999" in proc.stderr
    assert "for ID:" not in proc.stderr


def test_shared_options_work_before_the_command_name(tmp_path: Path, site: PageServer) -> None:
    other = tmp_path / "other"
    other.mkdir()
    config = two_sources(other, site)
    before = watcher("--config", str(config), "--log-level", "info", "check", cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert "checked" in before.stderr  # --log-level info reached the command
    listed = watcher("--config", str(config), "sources", "--format", "json", cwd=tmp_path)
    assert [r["name"] for r in json.loads(listed.stdout)] == [LONG, "b"]
    # Both given: the command's own wins.
    both = watcher("--config", "nope.toml", "sources", "--config", str(config), cwd=tmp_path)
    assert both.returncode == 0, both.stderr
    wrong = watcher("--config", str(config), "sources", "--config", "nope.toml", cwd=tmp_path)
    assert wrong.returncode == 2 and "nope.toml: file not found" in wrong.stderr
    # And before the command it beats the environment, as on the command's own line.
    env = {"WATCHER_CONFIG": "nope.toml"}
    assert watcher("--config", str(config), "sources", cwd=tmp_path, env=env).returncode == 0
    assert "WATCHER_CONFIG" in watcher("--help", cwd=tmp_path).stdout


# ---------------------------------------------------------------------------------------------
# 4. A bad name says which characters are allowed


def test_bad_source_name_says_which_characters(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nname = "bad name!"\nurl = "https://www.gov.uk/x"\n'
    )
    proc = watcher("sources", cwd=tmp_path)
    assert proc.returncode == 2
    assert "is required" not in proc.stderr
    assert proc.stderr.strip() == (
        "watcher: error: sources.toml:2: source 'bad name!': name 'bad name!' cannot hold ' ' "
        "or '!': a name is letters, digits, '.', '_' and '-', starting with a letter or digit, "
        'at most 64 characters; try name = "bad-name"'
    )


# ---------------------------------------------------------------------------------------------
# 5. explain: plural words, and the chrome around <main> listed as ignored


def test_explain_lists_what_lies_outside_main(tmp_path: Path, site: PageServer) -> None:
    site.set(
        "/p",
        html_page("Kinship care", [*INTRO]).replace(
            "<main>",
            "<div class='intro'><p>Text beside the main region of the page.</p></div><main>",
        ),
    )
    write_config(tmp_path / "sources.toml", [{"name": "p", "url": site.url("/p")}])
    proc = watcher("explain", "p", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "learned from 0 comparisons: 0 volatile slots, 0 site-wide rules" in proc.stdout
    ignored = proc.stdout.split("ignored regions")[1].splitlines()[1:]
    assert [line.strip() for line in ignored] == [
        "cookie banner, outside <main>: We use cookies. Accept",
        "<header>, outside <main>: Home",
        "<nav>, outside <main>: About News",
        "outside <main>: Text beside the main region of the page.",
        "<aside>, outside <main>: Most popular",
        "<footer>, outside <main>: © Example Charity 2026",
    ]
    assert "1 comparisons" not in proc.stdout


# ---------------------------------------------------------------------------------------------
# 6. Check logs: the fetch's duration apart from the wait for the host's turn


def test_check_logs_the_wait_apart_from_the_fetch(tmp_path: Path, site: PageServer) -> None:
    gap = 3
    site.set("/a", html_page("A", INTRO))
    site.set("/b", html_page("B", INTRO))
    write_config(
        tmp_path / "sources.toml",
        [{"name": "a", "url": site.url("/a")}, {"name": "b", "url": site.url("/b")}],
    )
    text = (tmp_path / "sources.toml").read_text()
    (tmp_path / "sources.toml").write_text(
        text.replace('per_host_gap = "0s"', f'per_host_gap = "{gap}s"')
    )
    proc = watcher("check", "--log-level", "info", "--log-format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    checked = {e["source"]: e for e in lines if e.get("event") == "checked"}
    assert set(checked) == {"a", "b"}, lines
    first, second = sorted(checked.values(), key=lambda e: e["waited_ms"])
    # The second waited out the host's gap; its duration is its own fetch, not the wait.
    assert second["waited_ms"] >= gap * 1000 - 50
    assert second["duration_ms"] < second["waited_ms"]
    # The stored check time is when each fetch started: the gap apart, not both at queueing.
    rows = json.loads(watcher("sources", "--format", "json", cwd=tmp_path).stdout)
    times = sorted(datetime.fromisoformat(r["last_check_at"]) for r in rows)
    assert times[1] - times[0] >= timedelta(seconds=gap - 0.05)
    assert first["waited_ms"] < second["waited_ms"]


# ---------------------------------------------------------------------------------------------
# 7. A port in use: one clean line and exit 2, for serve and for run


@pytest.mark.parametrize("command", ["serve", "run"])
def test_port_in_use_is_one_clean_line(tmp_path: Path, site: PageServer, command: str) -> None:
    two_sources(tmp_path, site)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = watcher(command, "--listen", f"127.0.0.1:{port}", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"watcher: error: port {port} on 127.0.0.1 is in use; pick another with --listen "
        "or stop the other program"
    ]
    assert proc.stdout == ""


# ---------------------------------------------------------------------------------------------
# 8. The demo's dates lie ahead of the day it runs


def test_demo_deadlines_are_in_the_future(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "demo"))
    try:
        import demo
    finally:
        sys.path.remove(str(REPO / "demo"))
    today = datetime.now(UTC).date()
    for text in (demo.EDIT, demo.NEW_PAGE[-1]):
        proc = watcher("classify", cwd=tmp_path, stdin=text)
        assert proc.returncode == 0, proc.stderr
        found = re.search(r"deadline: .* = (\d{4}-\d\d-\d\d)", proc.stdout)
        assert found, proc.stdout
        assert date.fromisoformat(found.group(1)) > today
    for _, _, when in (*demo.FEED_ENTRIES, demo.NEW_ENTRY):
        assert datetime.fromisoformat(when) <= datetime.now(UTC) + timedelta(days=1)
