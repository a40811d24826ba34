"""The web app over plain HTTP: access rules, CSRF, headers, escaping, API, exports, search."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from tests.conftest import PageServer
from tests.webdata import fill
from watcher.config import Config, load_config
from watcher.errors import ConfigError
from watcher.rows import TimelineItem
from watcher.store import Store
from watcher.store.ops import latest_schema
from watcher.web.app import create_app, environment
from watcher.web.auth import PUBLIC_PATHS

PASSWORD = "correct horse battery staple"
TOKEN = "tok-4f9a2c7e1b"
ENV = {"WATCHER_WEB_PASSWORD": PASSWORD, "WATCHER_WEB_TOKENS": f"{TOKEN}, other-token-77"}
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Config]:
    site = PageServer().start()
    try:
        yield fill(tmp_path_factory.mktemp("web"), site, ENV)
    finally:
        site.stop()


@pytest.fixture
def local(config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def remote(config: Config) -> Iterator[TestClient]:
    """The app as bound to every interface: a login is required."""
    app = create_app(config, listen="0.0.0.0:8080")
    # Beyond loopback the session cookie is Secure: staff reach the app through https.
    with TestClient(app, base_url="https://watcher.example", follow_redirects=False) as client:
        yield client


def change_ids(config: Config) -> dict[str, int]:
    store = Store.open(config.settings.state_dir)
    try:
        return {c.source: c.id for c in store.changes()}
    finally:
        store.close()


def csrf_of(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token in the form on {path}"
    return match.group(1)


def concrete_paths(app_routes: list[object], config: Config) -> list[tuple[str, str]]:
    """(method, path) for every route of the app, with real values in its parameters."""
    ids = change_ids(config)
    store = Store.open(config.settings.state_dir)
    digest = store.changes()[0].after_hash
    store.close()
    values = {
        "change_id": str(ids["dfe-kinship"]),
        "digest": digest,
        "name": "dfe-kinship",
        "story_id": "1",
    }
    out = []
    for route in app_routes:
        if isinstance(route, Mount):
            out.append(("GET", route.path + "/watcher.css"))
            continue
        assert isinstance(route, Route)
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], route.path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            out.append((method, path))
    return out


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.handlers: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction") and value is not None:
                self.urls.append(value)
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")


def test_every_template_is_autoescaped() -> None:
    env = environment()
    names = env.list_templates()
    assert "change.html" in names and len(names) >= 8
    for name in names:
        assert env.autoescape is True or env.autoescape(name), name


def test_hostile_page_text_is_inert_on_every_page(local: TestClient, config: Config) -> None:
    ids = change_ids(config)
    hostile = ids["sector-news"]
    stored = local.get(f"/api/changes/{hostile}").json()
    pages = [
        "/",
        "/?source=sector-news",
        f"/changes/{hostile}",
        f"/snapshots/{stored['after']}",  # the archived copy's permalink
        f"/snapshots/{stored['before']}",
        f"/changes/{hostile}?view=side",
        "/sources",
        "/sources/sector-news",
        "/search?q=script",
        "/search?q=onerror",
        "/deadlines",
    ]
    for path in pages:
        response = local.get(path)
        assert response.status_code == 200, path
        body = response.text
        for raw in ("<script>alert", "<img src=x", 'href="javascript:', "onerror=alert(1)>"):
            assert raw not in body, f"{raw!r} unescaped on {path}"
        parser = Links()
        parser.feed(body)
        assert parser.scripts == 0 and not parser.handlers, path
        for url in parser.urls:
            assert urlsplit(url).scheme in ("", "http", "https"), f"{url!r} on {path}"
    # The escaped form is there: the text is shown, not dropped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in local.get(f"/changes/{hostile}").text
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in local.get(f"/snapshots/{stored['after']}").text
    )


def test_page_text_in_json_and_snapshots_is_data(local: TestClient, config: Config) -> None:
    hostile = change_ids(config)["sector-news"]
    api = local.get(f"/api/changes/{hostile}")
    assert api.headers["content-type"].startswith("application/json")
    sentences = api.json()["evidence"]["sentences"]
    assert any("<script>alert(1)</script>" in s for s in sentences)
    after = api.json()["after"]
    text = local.get(f"/snapshots/{after}.txt")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert "sandbox" in text.headers["content-security-policy"]
    assert text.headers["x-content-type-options"] == "nosniff"
    assert "<script>alert(1)</script>" in text.text
    assert local.get("/snapshots/..%2F..%2Fetc%2Fpasswd.txt").status_code == 404


def test_security_headers_on_every_answer(local: TestClient, config: Config) -> None:
    for path in ("/", "/static/watcher.css", "/login", "/healthz", "/nowhere", "/api/changes"):
        response = local.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src" in csp, path
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path


def test_loopback_refuses_other_host_names(local: TestClient) -> None:
    # A page that rebinds its own name to 127.0.0.1 must not read the app.
    assert local.get("/", headers={"Host": "evil.example:8080"}).status_code == 400
    assert local.get("/", headers={"Host": "localhost:8080"}).status_code == 200


def test_every_route_needs_a_login_beyond_loopback(remote: TestClient, config: Config) -> None:
    app_routes = list(remote.app.routes)  # type: ignore[attr-defined]
    checked = 0
    for method, path in concrete_paths(app_routes, config):
        response = remote.request(method, path)
        public = path in PUBLIC_PATHS or path.startswith("/static/")
        # /healthz answers 503 while no daemon beats on this database: public either way.
        if public:
            assert response.status_code in (200, 403, 503), f"{method} {path}: public"
            continue
        checked += 1
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login?next="), f"{method} {path}"
        else:
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
    assert checked >= 18


def test_tokens_open_the_api_and_feeds(remote: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert remote.get("/api/changes", headers=bearer).status_code == 200
    basic = base64.b64encode(f"feedreader:{TOKEN}".encode()).decode()
    assert remote.get("/feed.atom", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    assert remote.get("/api/changes", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert (
        remote.get("/api/changes", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401
    )


def test_login_then_logout(remote: TestClient) -> None:
    token = csrf_of(remote, "/login")
    bad = remote.post("/login", data={"csrf": token, "name": "Ann", "password": "nope"})
    assert bad.status_code == 401
    assert PASSWORD not in bad.text
    good = remote.post(
        "/login",
        data={"csrf": token, "name": "Ann", "password": PASSWORD, "next": "//evil.example/"},
    )
    assert good.status_code == 303 and good.headers["location"] == "/"
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = remote.get("/")
    assert page.status_code == 200 and "Log out Ann" in page.text
    remote.post("/logout", data={"csrf": csrf_of(remote, "/")})
    assert remote.get("/").status_code == 303


def test_a_forged_cookie_is_not_a_login(remote: TestClient) -> None:
    payload = base64.urlsafe_b64encode(
        json.dumps({"u": "x", "c": "y", "e": 9999999999, "a": True}).encode()
    ).decode()
    remote.cookies.set("__Host-watcher_session", f"{payload}.{'0' * 64}")
    assert remote.get("/").status_code == 303


def test_forms_need_the_session_token_and_our_origin(local: TestClient, config: Config) -> None:
    change = change_ids(config)["dfe-kinship"]
    url = f"/changes/{change}/review"
    form = {"state": "needs_action", "reviewer": "Bo", "note": "check"}
    assert local.post(url, data=form).status_code == 403
    assert local.post(url, data={**form, "csrf": "guess"}).status_code == 403
    token = csrf_of(local, f"/changes/{change}")
    foreign = local.post(
        url, data={**form, "csrf": token}, headers={"Origin": "http://evil.example"}
    )
    assert foreign.status_code == 403
    assert (
        local.post(f"/changes/{change}/category", data={"category": "funding"}).status_code == 403
    )
    assert local.get(f"/changes/{change}").text.count("Needs action") == 1  # the radio label only


def test_review_is_stored_filtered_and_counted(tmp_path: Path, site: PageServer) -> None:
    config = fill(tmp_path, site)
    change = change_ids(config)["dfe-kinship"]
    with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
        assert client.get("/api/changes?review=unreviewed").json()["total"] == 2
        token = csrf_of(client, f"/changes/{change}")
        done = client.post(
            f"/changes/{change}/review",
            data={"csrf": token, "state": "needs_action", "reviewer": "Bo", "note": "<b>brief</b>"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        page = client.get(f"/changes/{change}").text
        assert "Bo marked it needs action" in page and "&lt;b&gt;brief&lt;/b&gt;" in page
        assert client.get("/api/changes?review=needs_action").json()["items"][0]["id"] == change
        assert client.get("/api/changes?review=unreviewed").json()["total"] == 1
        corrected = client.post(
            f"/changes/{change}/category",
            data={"csrf": token, "category": "funding", "note": ""},
            follow_redirects=False,
        )
        assert corrected.status_code == 303
        assert client.get(f"/api/changes/{change}").json()["category"] == "funding"
    store = Store.open(config.settings.state_dir)
    try:
        rows = list(store.db.query("SELECT state, reviewer, note FROM reviews"))
        assert rows == [{"state": "needs_action", "reviewer": "Bo", "note": "<b>brief</b>"}]
        assert store.corrections()[0].reviewer == "Bo"  # remembered from the review form
    finally:
        store.close()


def _fingerprint(config: Config) -> str:
    store = Store.open(config.settings.state_dir)
    try:
        return hashlib.sha256("\n".join(store.conn.iterdump()).encode()).hexdigest()
    finally:
        store.close()


def test_no_get_changes_anything_stored(local: TestClient, config: Config) -> None:
    before = _fingerprint(config)
    for method, path in concrete_paths(list(local.app.routes), config):  # type: ignore[attr-defined]
        if method == "GET":
            local.get(path, params={"state": "reviewed", "category": "funding", "csrf": "x"})
    assert _fingerprint(config) == before


def test_api_pages_through_changes(local: TestClient) -> None:
    first = local.get("/api/changes?per_page=1").json()
    assert first["total"] == 2 and first["pages"] == 2 and first["prev"] is None
    second = local.get(first["next"]).json()
    assert second["page"] == 2 and second["next"] is None and second["prev"]
    assert first["items"][0]["id"] != second["items"][0]["id"]
    assert first["items"][0]["detected_at"] >= second["items"][0]["detected_at"]
    assert local.get("/api/changes?category=nonsense").status_code == 400
    assert local.get("/api/changes?from=yesterday").status_code == 400
    doc = local.get("/api/").json()
    assert "GET /api/changes" in doc["routes"] and "per_page" in doc["pagination"]


def test_filters_narrow_the_timeline(local: TestClient) -> None:
    only = local.get("/api/changes?category=consultation_open").json()
    assert [i["source"] for i in only["items"]] == ["dfe-kinship"]
    assert local.get("/api/changes?tag=sector").json()["items"][0]["source"] == "sector-news"
    assert local.get("/api/changes?from=2001-01-01&to=2001-01-02").json()["total"] == 0
    page = local.get("/?category=consultation_open").text
    assert "Kinship care: support for carers" in page and "Fostering news" not in page


def test_exports_parse(local: TestClient) -> None:
    feed = local.get("/feed.atom?category=consultation_open")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert "consultation open" in (entries[0].findtext(f"{ATOM}title") or "")
    assert "£120 million" in (entries[0].findtext(f"{ATOM}summary") or "")
    full = ET.fromstring(local.get("/feed.atom").content)
    titles = [e.findtext(f"{ATOM}title") or "" for e in full.findall(f"{ATOM}entry")]
    assert any("<img src=x onerror=alert(1)>" in t for t in titles)  # text in XML, not markup

    exported = local.get("/export.csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {r["source"] for r in rows} == {"dfe-kinship", "sector-news"}
    assert all(r["link"].startswith("http://127.0.0.1/changes/") for r in rows)

    data = local.get("/export.json").json()
    assert len(data) == 2 and all("diff" in d and "evidence" in d for d in data)


def test_csv_cells_never_start_a_formula() -> None:
    from watcher.web.feeds import to_csv

    row = TimelineItem(
        id=1, detected_at="t", source="s", category=None, url="u",
        title="=HYPERLINK(\"http://evil\")", summary="+1", sentence="@x",
        review_state=None, corrected_by=None, confidence=None,
    )  # fmt: skip
    out = list(csv.reader(io.StringIO(to_csv([row], "http://h"))))[1]
    assert '\'=HYPERLINK("http://evil")' in out and "'+1" in out and "'@x" in out


def test_search_finds_changes_and_pages_with_marked_snippets(local: TestClient) -> None:
    hits = local.get("/api/search?q=allowance").json()
    assert hits["total"] == 1 and "[[allowance]]" in hits["items"][0]["snippet"]
    page = local.get("/search?q=alert").text
    assert "<mark>alert</mark>" in page and "&lt;script&gt;" in page
    assert local.get("/search?q=consult*").text.count('class="change-item"') >= 1
    for nasty in ('"', "NEAR(", "a OR", "*", "^x", ")"):
        assert local.get("/search", params={"q": nasty}).status_code == 200
    assert "In stored pages" in local.get("/search?q=kinship").text


def test_pages_show_what_they_promise(local: TestClient, config: Config) -> None:
    change = change_ids(config)["dfe-kinship"]
    page = local.get(f"/changes/{change}").text
    assert (
        '<mark class="fact fact-money" title="money">£120 million over three years</mark>' in page
    )
    assert "<ins>" in page and "consultation open" in page.lower()
    side = local.get(f"/changes/{change}?view=side").text
    assert 'class="diff-side"' in side
    sources = local.get("/sources").text
    assert "dfe-kinship" in sources and "sector-news" in sources
    detail = local.get("/sources/dfe-kinship").text
    assert "We are consulting on a new kinship allowance" in detail
    assert "Kinship care: support for carers" in detail  # its history of changes
    deadlines = local.get("/deadlines").text
    assert "The consultation closes on" in deadlines
    assert local.get("/changes/999999").status_code == 404
    assert local.get("/sources/nope").status_code == 404


def test_migration_back_fills_the_search_index(tmp_path: Path, config: Config) -> None:
    """A database from before m005 gets its changes and snapshots indexed."""
    copy = tmp_path / "old.db"
    source = Store.open(config.settings.state_dir)
    try:
        source.conn.execute("VACUUM INTO ?", (str(copy),))
    finally:
        source.close()
    old = Store(copy)
    for statement in (
        "DROP TRIGGER changes_fts_insert",
        "DROP TRIGGER changes_fts_delete",
        "DROP TRIGGER IF EXISTS snapshots_fts_insert",  # gone since m010
        "DROP TRIGGER IF EXISTS snapshots_fts_delete",
        "DROP TABLE changes_fts",
        "DROP TABLE snapshots_fts",
        "DROP TABLE reviews",
        "DROP INDEX changes_review_time",
        "DROP INDEX changes_category_time",
        "DROP INDEX changes_after",
        "ALTER TABLE changes DROP COLUMN review_state",
        "DELETE FROM _sqlite_migrations WHERE name = 'm005_reviews_and_search'",
    ):
        old.conn.execute(statement)
    old.close()
    migrated = Store(copy)
    try:
        assert migrated.schema_version == latest_schema()
        count = migrated.conn.execute(
            "SELECT count(*) FROM changes_fts WHERE changes_fts MATCH '\"allowance\"'"
        ).fetchone()[0]
        assert count == 1
        pages = migrated.conn.execute("SELECT count(*) FROM snapshots_fts").fetchone()[0]
        assert pages == migrated.count("snapshots")
    finally:
        migrated.close()


def test_web_settings_are_validated(tmp_path: Path) -> None:
    def load(web: str, environ: dict[str, str] | None = None) -> Config:
        path = tmp_path / "sources.toml"
        path.write_text(f'[watcher]\nstate_dir = "state"\n[web]\n{web}\n')
        return load_config(path, environ=environ or {})

    with pytest.raises(ConfigError, match="listen"):
        load('listen = "8080"')
    with pytest.raises(ConfigError, match="unknown key 'password'"):
        load('password = "hunter2"')
    with pytest.raises(ConfigError, match="public_url"):
        load('public_url = "javascript:alert(1)"')
    bare = load('listen = "0.0.0.0:8080"')
    with pytest.raises(ConfigError, match="WATCHER_WEB_PASSWORD"):
        create_app(bare)
    secret = tmp_path / "pw"
    secret.write_text("from-a-file\n")
    filed = load('listen = "0.0.0.0:8080"', {"WATCHER_WEB_PASSWORD_FILE": str(secret)})
    assert filed.web.password is not None and filed.web.password.reveal() == "from-a-file"
    assert "from-a-file" not in repr(filed)
    create_app(filed)
    key = tmp_path / "state" / "web-secret-key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_healthz_follows_the_heartbeat_and_metrics_parse(config: Config) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from watcher.store.ops import HEARTBEAT_KEY

    store = Store.open(config.settings.state_dir)
    try:
        now = datetime.now(UTC)
        store.set_meta(HEARTBEAT_KEY, (now - timedelta(hours=2)).isoformat())
        with TestClient(create_app(config), base_url="http://127.0.0.1") as client:
            stale = client.get("/healthz")
            assert stale.status_code == 503 and "heartbeat" in stale.text
            store.set_meta(HEARTBEAT_KEY, now.isoformat())
            fresh = client.get("/healthz")
            assert fresh.status_code == 200 and fresh.text == "ok"
            scraped = client.get("/metrics")
            assert scraped.status_code == 200
            families = {f.name: f for f in text_string_to_metric_families(scraped.text)}
            checks = sum(s.value for s in families["watcher_checks"].samples)
            assert checks == store.count("checks") > 0
    finally:
        store.close()
    app = create_app(config, listen="0.0.0.0:8080")
    with TestClient(app, base_url="http://watcher.example", follow_redirects=False) as remote:
        assert remote.get("/metrics").status_code in (401, 303)  # behind the login
        assert remote.get("/healthz").status_code in (200, 503)  # public, for the orchestrator
