"""`load_config`: the shipped file loads, and every kind of mistake is one line naming file, line and fix."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO
from watcher.config import load_config, parse_duration
from watcher.errors import ConfigError

CANARY = "CANARY-SECRET-7f3a9"
CANARY_URL = f"mailto://{CANARY}@127.0.0.1:1?to=a@b.c"
HERE = "# <-- HERE"

WATCHER = '[watcher]\nstate_dir = "state"\n\n'
FIRST = '[[source]]\nname = "first"\nurl = "https://www.gov.uk/first"\n\n'


def src(*lines: str) -> str:
    """A second source, named 'b', with extra lines."""
    return "\n".join(["[[source]]", 'name = "b"', *lines]) + "\n"


def url_src(url: str) -> str:
    return src(f'url = "{url}"  {HERE}')


def every_src(value: str) -> str:
    return src('url = "https://www.gov.uk/b"', f"every = {value}  {HERE}")


# (id, full text with the offending line marked HERE, fragments the message must contain)
CASES: list[tuple[str, str, list[str]]] = [
    # unknown keys and tables
    (
        "source-unknown-key",
        WATCHER + FIRST + src('url = "https://www.gov.uk/b"', f'evrey = "1h"  {HERE}'),
        ["source 'b'", "unknown key 'evrey'", "did you mean 'every'?"],
    ),
    (
        "source-unknown-key-unnamed",
        WATCHER + f'[[source]]\nurl = "https://www.gov.uk/b"\nselct = "main"  {HERE}\n',
        ["source #1", "unknown key 'selct'", "did you mean 'select'?"],
    ),
    (
        "top-unknown-table-close",
        WATCHER + FIRST + f"[wacher]  {HERE}\nconcurrency = 2\n",
        ["top level", "unknown key 'wacher'", "did you mean 'watcher'?"],
    ),
    (
        "top-unknown-table-far",
        WATCHER + FIRST + f'[[alerts]]  {HERE}\nname = "x"\n',
        [
            "unknown key 'alerts'",
            "allowed keys: watcher, egress, classify, source, topic, notify, route, web",
        ],
    ),
    (
        "top-unknown-plain-key",
        f"verbose = true  {HERE}\n" + WATCHER + FIRST,
        ["unknown key 'verbose'", "allowed keys"],
    ),
    (
        "watcher-unknown-key",
        f'[watcher]\nstate_dir = "state"\nconcurency = 8  {HERE}\n\n' + FIRST,
        ["[watcher]", "unknown key 'concurency'", "did you mean 'concurrency'?"],
    ),
    (
        "egress-unknown-key",
        WATCHER + f'[egress]\nallow = ["10.0.0.0/8"]  {HERE}\n\n' + FIRST,
        ["[egress]", "unknown key 'allow'", "did you mean 'allow_cidrs'?"],
    ),
    # URLs
    (
        "scheme-file",
        WATCHER + FIRST + url_src("file:///etc/passwd"),
        ["source 'b'", "url scheme 'file' is not allowed", "use https:// or http://"],
    ),
    (
        "scheme-FILE-upper",
        WATCHER + FIRST + url_src("FILE:///etc/passwd"),
        ["source 'b'", "url scheme 'file' is not allowed", "use https://"],
    ),
    (
        "scheme-ftp",
        WATCHER + FIRST + url_src("ftp://ftp.example.org/pub/"),
        ["source 'b'", "url scheme 'ftp' is not allowed", "use https://"],
    ),
    (
        "scheme-javascript",
        WATCHER + FIRST + url_src("javascript:alert(1)"),
        ["source 'b'", "url scheme 'javascript' is not allowed", "use https://"],
    ),
    (
        "scheme-data",
        WATCHER + FIRST + url_src("data:text/html,<p>hi</p>"),
        ["source 'b'", "url scheme 'data' is not allowed", "use https://"],
    ),
    (
        "scheme-missing",
        WATCHER + FIRST + url_src("www.gov.uk/page"),
        ["source 'b'", "url scheme", "is not allowed", "use https://"],
    ),
    (
        "url-leading-space",
        WATCHER + FIRST + url_src(" https://www.gov.uk/b"),
        ["source 'b'", "url has spaces", "remove them"],
    ),
    (
        "url-inner-space",
        WATCHER + FIRST + url_src("https://www.gov.uk/a b"),
        ["source 'b'", "url has spaces", "remove them"],
    ),
    (
        "url-newline",
        WATCHER + FIRST + url_src("https://www.gov.uk/b\\n"),
        ["source 'b'", "control characters", "remove them"],
    ),
    (
        "url-no-host",
        WATCHER + FIRST + url_src("https:///government/news"),
        ["source 'b'", "has no host", "write it like https://"],
    ),
    (
        "url-user-password",
        WATCHER + FIRST + url_src("https://admin:hunter2@www.gov.uk/b"),
        ["source 'b'", "must not carry a user name or password"],
    ),
    (
        "url-user-password-no-host",
        WATCHER + FIRST + url_src("https://admin:hunter2@/b"),
        ["source 'b'", "must not carry a user name or password"],
    ),
    (
        "url-bad-port",
        WATCHER + FIRST + url_src("https://www.gov.uk:99999/b"),
        ["source 'b'", "invalid port"],
    ),
    # hosts read as the fetcher reads them: shorthand and zero-padded IPv4 forms are ambiguous
    *[
        (
            f"url-numeric-host-{host}",
            WATCHER + FIRST + url_src(f"http://{host}/b"),
            ["source 'b'", f"write it as {meant}"],
        )
        for host, meant in [
            ("0177.0.0.1", "127.0.0.1"),
            ("127.000.000.001", "127.0.0.1"),
            ("012.0.0.1", "10.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("0x7f.0.0.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),
        ]
    ],
    (
        "url-host-the-fetcher-refuses",
        WATCHER + FIRST + url_src("http://10.1.2.3/b"),
        ["source 'b'", "10.1.2.3 is a private address", "add its network to [egress] allow_cidrs"],
    ),
    (
        "url-metadata-host",
        WATCHER + FIRST + url_src("http://169.254.169.254/latest/"),
        ["source 'b'", "metadata address"],
    ),
    (
        "url-bad-idna-host",
        WATCHER + FIRST + url_src("http://xn--/b"),
        ["source 'b'", "cannot be parsed", "write it like https://"],
    ),
    (
        "url-bad-ipv6",
        WATCHER + FIRST + url_src("http://[::1/b"),
        ["source 'b'", "url is malformed", "write it like https://"],
    ),
    # names
    (
        "duplicate-name",
        WATCHER + FIRST + f'[[source]]\nname = "first"  {HERE}\nurl = "https://www.gov.uk/2"\n',
        ["source name 'first' is used twice", "first by source #1", "give each a unique name"],
    ),
    (
        "duplicate-name-third",
        WATCHER
        + FIRST
        + src('url = "https://www.gov.uk/b"')
        + f'[[source]]\nurl = "https://www.gov.uk/3"\nname = "b"  {HERE}\n',
        ["source name 'b' is used twice", "first by source #2", "unique name"],
    ),
    (
        "bad-name",
        WATCHER + FIRST + f'[[source]]\nname = "has space"  {HERE}\nurl = "https://www.gov.uk/2"\n',
        [
            "name 'has space' cannot hold ' '",
            "letters, digits",
            'try name = "has-space"',
        ],
    ),
    (
        "missing-url",
        WATCHER + FIRST + f'[[source]]  {HERE}\nname = "b"\n',
        ["source 'b'", "url is required"],
    ),
    # intervals
    (
        "every-words",
        WATCHER + FIRST + every_src('"5 minutes"'),
        [
            "source 'b'",
            "every = '5 minutes' is not a duration",
            'write it like "30m", "6h" or "1d"',
        ],
    ),
    (
        "every-zero",
        WATCHER + FIRST + every_src('"0s"'),
        ["source 'b'", 'every must lie between "10s" and "31d"'],
    ),
    (
        "every-too-long",
        WATCHER + FIRST + every_src('"40d"'),
        ["source 'b'", 'every must lie between "10s" and "31d"'],
    ),
    (
        "every-integer",
        WATCHER + FIRST + every_src("30"),
        ["source 'b'", 'every must be a string like "30m"'],
    ),
    (
        "every-huge",
        WATCHER + FIRST + every_src('"99999999999999999999d"'),
        ["source 'b'", "is not a duration", 'write it like "30m"'],
    ),
    (
        "default-every-bad",
        f'[watcher]\nstate_dir = "state"\ndefault_every = "1 week"  {HERE}\n\n' + FIRST,
        ["[watcher]", "default_every = '1 week' is not a duration", 'write it like "30m"'],
    ),
    (
        "default-every-too-short",
        f'[watcher]\nstate_dir = "state"\ndefault_every = "1s"  {HERE}\n\n' + FIRST,
        ["[watcher]", 'default_every must lie between "10s" and "31d"'],
    ),
    (
        "timeout-bad",
        f'[watcher]\nstate_dir = "state"\ntimeout = 30  {HERE}\n\n' + FIRST,
        ["[watcher]", 'timeout must be a string like "30m"'],
    ),
    # TOML syntax: the line comes from the parser
    (
        "toml-unterminated-string",
        WATCHER + FIRST + f'[[source]]\nname = "b  {HERE}\nurl = "https://x/"\n',
        ["invalid TOML", "fix the syntax on that line"],
    ),
    (
        "toml-double-equals",
        WATCHER + FIRST + f'[[source]]\nname = "b"\nevery = = "1h"  {HERE}\n',
        ["invalid TOML", "fix the syntax on that line"],
    ),
    (
        "toml-repeated-key",
        WATCHER + FIRST + f'[[source]]\nname = "b"\nname = "c"  {HERE}\n',
        ["invalid TOML", "fix the syntax on that line"],
    ),
    # CSS selectors
    (
        "select-invalid",
        WATCHER + FIRST + src('url = "https://www.gov.uk/b"', f'select = "main >>"  {HERE}'),
        ["source 'b'", "select 'main >>' is not a valid CSS selector"],
    ),
    (
        "exclude-invalid",
        WATCHER + FIRST + src('url = "https://www.gov.uk/b"', f'exclude = ["nav", "div["]  {HERE}'),
        ["source 'b'", "exclude 'div[' is not a valid CSS selector"],
    ),
    (
        "select-pseudo-element",
        WATCHER + FIRST + src('url = "https://www.gov.uk/b"', f'select = "p::before"  {HERE}'),
        ["source 'b'", "select 'p::before' is not a valid CSS selector"],
    ),
    (
        "tags-not-strings",
        WATCHER + FIRST + src('url = "https://www.gov.uk/b"', f"tags = [1, 2]  {HERE}"),
        ["source 'b'", "tags must be a string or a list of strings"],
    ),
    # notify targets
    (
        "notify-url-key",
        WATCHER + f'[[notify]]\nname = "team"\nurl = "{CANARY_URL}"  {HERE}\n\n' + FIRST,
        ["notify 'team'", "unknown key 'url'", "environment variable", 'env = "..."'],
    ),
    (
        "notify-env-lowercase",
        WATCHER + f'[[notify]]\nname = "team"\nenv = "watcher-mail"  {HERE}\n\n' + FIRST,
        ["notify 'team'", "env must name an environment variable", 'env = "WATCHER_SLACK_URL"'],
    ),
    (
        "notify-env-is-a-url",
        WATCHER + f'[[notify]]\nname = "team"\nenv = "{CANARY_URL}"  {HERE}\n\n' + FIRST,
        ["notify 'team'", "env must name an environment variable"],
    ),
    (
        "notify-env-missing",
        WATCHER + f'[[notify]]  {HERE}\nname = "team"\n\n' + FIRST,
        ["notify 'team'", "env must name an environment variable"],
    ),
    (
        "notify-duplicate",
        WATCHER + '[[notify]]\nname = "team"\nenv = "A_URL"\n'
        f'[[notify]]\nname = "team"  {HERE}\nenv = "B_URL"\n\n' + FIRST,
        ["notify name 'team' is used twice", "unique name"],
    ),
    # [watcher] numbers and [egress]
    (
        "per-host-concurrency-too-many",
        f'[watcher]\nstate_dir = "state"\nper_host_concurrency = 33  {HERE}\n\n' + FIRST,
        ["[watcher]", "per_host_concurrency must be a whole number from 1 to 32", "not 33"],
    ),
    (
        "concurrency-zero",
        f'[watcher]\nstate_dir = "state"\nconcurrency = 0  {HERE}\n\n' + FIRST,
        ["[watcher]", "concurrency must be a whole number from 1 to 64", "not 0"],
    ),
    (
        "concurrency-string",
        f'[watcher]\nstate_dir = "state"\nconcurrency = "x"  {HERE}\n\n' + FIRST,
        ["[watcher]", "concurrency must be a whole number from 1 to 64", "not 'x'"],
    ),
    (
        "concurrency-bool",
        f'[watcher]\nstate_dir = "state"\nconcurrency = true  {HERE}\n\n' + FIRST,
        ["[watcher]", "concurrency must be a whole number from 1 to 64", "not True"],
    ),
    (
        "concurrency-fraction",
        f'[watcher]\nstate_dir = "state"\nconcurrency = 2.5  {HERE}\n\n' + FIRST,
        ["[watcher]", "concurrency must be a whole number from 1 to 64", "not 2.5"],
    ),
    (
        "jitter-too-big",
        f'[watcher]\nstate_dir = "state"\njitter = 2  {HERE}\n\n' + FIRST,
        ["[watcher]", "jitter must be a number from 0 to 0.5"],
    ),
    (
        "allow-cidrs-word",
        WATCHER + f'[egress]\nallow_cidrs = ["10.0.0.0/8", "intranet"]  {HERE}\n\n' + FIRST,
        [
            "[egress]",
            "allow_cidrs entry 'intranet' is not a network",
            'write it like "10.20.0.0/16"',
        ],
    ),
    (
        "allow-cidrs-prefix",
        WATCHER + f'[egress]\nallow_cidrs = "10.0.0.0/33"  {HERE}\n\n' + FIRST,
        ["[egress]", "allow_cidrs entry '10.0.0.0/33' is not a network"],
    ),
    (
        "keep-checks-not-a-duration",
        f'[watcher]\nstate_dir = "state"\nkeep_checks = "3 months"  {HERE}\n\n' + FIRST,
        ["[watcher]", "keep_checks = '3 months' is not a duration"],
    ),
    (
        "keep-snapshots-too-short",
        f'[watcher]\nstate_dir = "state"\nkeep_snapshots = "1h"  {HERE}\n\n' + FIRST,
        ["[watcher]", 'keep_snapshots must lie between "1d" and "3650d"'],
    ),
    (
        "health-max-age-too-short",
        f'[watcher]\nstate_dir = "state"\nhealth_max_age = "10s"  {HERE}\n\n' + FIRST,
        ["[watcher]", 'health_max_age must lie between "1m" and "1d"'],
    ),
    (
        "watcher-not-table",
        f"watcher = 1  {HERE}\n" + FIRST,
        ["watcher must be a table", "[watcher]"],
    ),
]


def marked_line(text: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if HERE in line]
    assert len(lines) == 1, "each case marks exactly one line"
    return lines[0]


@pytest.mark.parametrize(("text", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_is_one_line_naming_file_line_and_fix(
    tmp_path: Path, text: str, fragments: list[str]
) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert message.splitlines() == [message], "one line"
    assert message.startswith(f"{path}:{marked_line(text)}: "), message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    # Nothing secret-looking from the file is echoed back.
    assert CANARY not in message
    assert "hunter2" not in message
    assert info.value.exit_code == 2


def test_notify_url_message_does_not_echo_the_url(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(
        WATCHER + f'[[notify]]\nname = "team"\nurl = "{CANARY_URL}"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert "environment variable" in message
    assert CANARY not in message and "mailto" not in message and "127.0.0.1" not in message


# ---------------------------------------------------------------------------------------------
# The shipped sources.toml


def test_shipped_sources_toml_loads() -> None:
    config = load_config(REPO / "sources.toml", environ={})
    assert len(config.sources) == 13
    names = [s.name for s in config.sources]
    assert len(set(names)) == len(names)
    for s in config.sources:
        parts = urlsplit(s.url)
        assert parts.scheme == "https" and parts.hostname, s.url
    assert [t.name for t in config.targets] == ["team-email", "team-slack"]
    assert [t.env for t in config.targets] == ["WATCHER_EMAIL_URL", "WATCHER_SLACK_URL"]
    assert all(t.secret is None for t in config.targets)
    assert config.settings.state_dir == (REPO / "state").resolve()


def test_shipped_sources_toml_with_environment_secrets() -> None:
    env = {"WATCHER_EMAIL_URL": CANARY_URL, "WATCHER_SLACK_URL": f"slack://{CANARY}/B/C/#policy"}
    config = load_config(REPO / "sources.toml", environ=env)
    secrets = {t.name: t.secret.reveal() for t in config.targets if t.secret is not None}
    assert secrets == {"team-email": CANARY_URL, "team-slack": f"slack://{CANARY}/B/C/#policy"}
    assert [t.scheme for t in config.targets] == ["mailto", "slack"]


# ---------------------------------------------------------------------------------------------
# Secrets

NOTIFY = WATCHER + '[[notify]]\nname = "team"\nenv = "TEAM_URL"\n\n' + FIRST


@pytest.fixture
def notify_config(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(NOTIFY, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"TEAM_URL": CANARY_URL}, CANARY_URL),
        ({"TEAM_URL": f"  {CANARY_URL}\n"}, CANARY_URL),
        ({"TEAM_URL": "   "}, None),
        ({"OTHER_URL": CANARY_URL}, None),
    ],
    ids=["unset", "set", "stripped", "blank", "other-variable"],
)
def test_secret_from_environment(
    notify_config: Path, environ: dict[str, str], expected: str | None
) -> None:
    (target,) = load_config(notify_config, environ=environ).targets
    assert (target.secret.reveal() if target.secret else None) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [(f"{CANARY_URL}\n", CANARY_URL), (f"\n  {CANARY_URL}  \n\n", CANARY_URL), ("\n", None)],
    ids=["trailing-newline", "surrounding-space", "empty"],
)
def test_secret_from_file(
    notify_config: Path, tmp_path: Path, content: str, expected: str | None
) -> None:
    secret_file = tmp_path / "team_url"
    secret_file.write_text(content, encoding="utf-8")
    (target,) = load_config(notify_config, environ={"TEAM_URL_FILE": str(secret_file)}).targets
    assert (target.secret.reveal() if target.secret else None) == expected


def test_environment_variable_wins_over_file(notify_config: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "team_url"
    secret_file.write_text("json://from-file.example/hook\n", encoding="utf-8")
    env = {"TEAM_URL": CANARY_URL, "TEAM_URL_FILE": str(secret_file)}
    (target,) = load_config(notify_config, environ=env).targets
    assert target.secret is not None and target.secret.reveal() == CANARY_URL


def _env_line(path: Path) -> int:
    return next(
        i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith("env =")
    )


@pytest.mark.parametrize("kind", ["missing", "directory", "not-utf8"])
def test_unreadable_secret_file_names_the_variable_not_the_secret(
    notify_config: Path, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "secrets" / "team_url"
    if kind == "directory":
        target.mkdir(parents=True)
    elif kind == "not-utf8":
        target.parent.mkdir()
        target.write_bytes(CANARY.encode() + b"\xff\xfe" + CANARY.encode())
    # Another target's secret sits in the same environment: it must not leak either.
    env = {"TEAM_URL_FILE": str(target), "OTHER_URL": CANARY_URL}
    with pytest.raises(ConfigError) as info:
        load_config(notify_config, environ=env)
    message = str(info.value)
    assert message.splitlines() == [message]
    assert message.startswith(f"{notify_config}:{_env_line(notify_config)}: ")
    assert "notify 'team'" in message and "TEAM_URL_FILE" in message
    assert CANARY not in message and "\\xff" not in message


def test_repr_never_shows_the_secret(notify_config: Path, tmp_path: Path) -> None:
    config = load_config(notify_config, environ={"TEAM_URL": CANARY_URL})
    (target,) = config.targets
    assert target.secret is not None and target.secret.reveal() == CANARY_URL
    for text in (
        repr(config),
        str(config),
        repr(target),
        str(target),
        repr(target.secret),
        str(target.secret),
        f"{target.secret}",
        repr(config.targets),
    ):
        assert CANARY not in text, text
    assert "***" in repr(target)

    secret_file = tmp_path / "team_url"
    secret_file.write_text(CANARY_URL, encoding="utf-8")
    from_file = load_config(notify_config, environ={"TEAM_URL_FILE": str(secret_file)})
    assert CANARY not in repr(from_file)


# ---------------------------------------------------------------------------------------------
# state_dir


def test_state_dir_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "sources.toml").write_text('[watcher]\nstate_dir = "data/state"\n\n' + FIRST)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    expected = (conf_dir / "data" / "state").resolve()
    assert load_config(conf_dir / "sources.toml", environ={}).settings.state_dir == expected
    assert (
        load_config(os.path.join("..", "conf", "sources.toml"), environ={}).settings.state_dir
        == expected
    )


def test_state_dir_default_and_absolute(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(FIRST)
    assert load_config(path, environ={}).settings.state_dir == (tmp_path / "state").resolve()
    absolute = tmp_path / "abs-state"
    path.write_text(f'[watcher]\nstate_dir = "{absolute}"\n\n' + FIRST)
    assert load_config(path, environ={}).settings.state_dir == absolute


def test_state_dir_argument_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(WATCHER + FIRST)
    override = tmp_path / "override"
    config = load_config(path, environ={}, state_dir=str(override))
    assert config.settings.state_dir == override.resolve()
    monkeypatch.chdir(tmp_path)
    assert (
        load_config(path, environ={}, state_dir="rel").settings.state_dir
        == (tmp_path / "rel").resolve()
    )
    # Everything else is kept.
    assert config.sources == load_config(path, environ={}).sources


# ---------------------------------------------------------------------------------------------
# Small pieces


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"file not found; pass --config FILE or set WATCHER_CONFIG"
    ):
        load_config(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    ("text", "seconds"), [("10s", 10), ("30m", 1800), ("6h", 21600), ("1d", 86400), (" 5m ", 300)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize(
    "text", ["", "5", "5 minutes", "1w", "-5m", "1.5h", "99999999999999999999d"]
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        (CANARY_URL, [CANARY_URL, CANARY]),
        (
            "mailtos://me:p%40ssw0rd@smtp.example.org?to=team@example.org",
            ["p%40ssw0rd", "p@ssw0rd"],
        ),
        ("slack://TokenAAA/TokenBBB/TokenCCC/#policy", ["TokenAAA", "TokenBBB", "TokenCCC"]),
        ("json://hooks.example.org/hook?token=s3cr3t-token", ["s3cr3t-token"]),
    ],
    ids=["mailto-user", "password", "path-tokens", "query-value"],
)
def test_secret_fragments_cover_the_pieces_apprise_may_log(
    notify_config: Path, url: str, hidden: list[str]
) -> None:
    (secret,) = [t.secret for t in load_config(notify_config, environ={"TEAM_URL": url}).targets]
    assert secret is not None
    fragments = secret.fragments()
    assert fragments[0] == url
    for piece in hidden:
        assert piece in fragments, (piece, fragments)
    assert all(len(f) >= 6 for f in fragments)
    assert CANARY not in repr(secret)


def test_retention_and_health_settings(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(WATCHER + FIRST)
    settings = load_config(path, environ={}).settings
    assert settings.keep_checks == timedelta(days=90)
    assert settings.keep_snapshots == timedelta(days=365)
    assert settings.health_max_age is None  # derived from the heartbeat interval
    path.write_text(
        '[watcher]\nkeep_checks = "30d"\nkeep_snapshots = "2d"\nhealth_max_age = "5m"\n' + FIRST
    )
    settings = load_config(path, environ={}).settings
    assert (settings.keep_checks, settings.keep_snapshots, settings.health_max_age) == (
        timedelta(days=30),
        timedelta(days=2),
        timedelta(minutes=5),
    )


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("json://127.0.0.1:8080/special", ["127.0.0.1", "127.0.0.1:8080", "special"]),
        (f"mailto://{CANARY}@127.0.0.1:1?to=team@example.org", ["127.0.0.1", "team@example.org"]),
        ("json://hooks.example.org/notify/channel", ["hooks.example.org", "notify", "channel"]),
    ],
)
def test_secret_fragments_leave_hosts_addresses_and_plain_words_alone(
    notify_config: Path, url: str, kept: list[str]
) -> None:
    (secret,) = [t.secret for t in load_config(notify_config, environ={"TEAM_URL": url}).targets]
    assert secret is not None
    for piece in kept:
        assert piece not in secret.fragments(), (piece, secret.fragments())


def test_redaction_masks_the_secret_not_the_loopback_address(notify_config: Path) -> None:
    from watcher.config import register_secrets
    from watcher.logs import redact

    url = f"mailto://{CANARY}:hunter2hunter2@127.0.0.1:1025?to=team@example.org"
    register_secrets(load_config(notify_config, environ={"TEAM_URL": url}))
    line = redact(f"web app on http://127.0.0.1:8080/ target special; sent with {CANARY}")
    assert line == "web app on http://127.0.0.1:8080/ target special; sent with ***"
    assert redact(url) == "***"
