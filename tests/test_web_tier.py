"""The production web tier: settings as bin/run ships them, check --deploy behind a TLS proxy, the
Content-Security-Policy, locally served API docs, collected static files and gunicorn itself."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.test import Client, override_settings

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [ROOT / "webui" / "dashboard" / "templates", ROOT / "webui" / "templates"]


def run_python(code: str, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run Python in a fresh process so settings are read from exactly this environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SCANNER_VAR_DIR"))}
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        check=False,
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "webui.settings", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


SHOW_DEBUG = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def test_debug_is_off_unless_django_debug_is_set(tmp_path):
    assert run_python(SHOW_DEBUG, {"SCANNER_VAR_DIR": str(tmp_path)}).stdout.strip() == "False"
    assert run_python(SHOW_DEBUG, {"SCANNER_VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1"}).stdout.strip() == "True"


def test_a_secret_key_is_generated_once_into_var_when_none_is_given(tmp_path):
    show_key = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_python(show_key, {"SCANNER_VAR_DIR": str(tmp_path)}).stdout.strip()
    second = run_python(show_key, {"SCANNER_VAR_DIR": str(tmp_path)}).stdout.strip()
    key_file = tmp_path / "secret_key"
    assert len(first) >= 50 and first == second == key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600  # readable by the service's user only


def test_a_fresh_clone_migrates_its_embedded_sqlite_database(tmp_path):
    """bin/run's first step on embedded defaults: every migration must apply on SQLite too."""
    env = {"SCANNER_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = run_python("", env, "manage.py", "migrate", "--noinput")
    assert result.returncode == 0, result.stderr[-2000:]


def test_check_deploy_is_clean_behind_a_tls_proxy(tmp_path):
    result = run_python(
        "",
        {"SCANNER_VAR_DIR": str(tmp_path), "DJANGO_BEHIND_TLS_PROXY": "1"},
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_the_tls_proxy_settings(tmp_path):
    """The clean check above is earned by the proxy settings, not by silenced checks."""
    result = run_python("", {"SCANNER_VAR_DIR": str(tmp_path)}, "manage.py", "check", "--deploy")
    assert {"security.W004", "security.W008", "security.W012", "security.W016"} <= set(
        re.findall(r"security\.W\d+", result.stdout + result.stderr)
    )


@pytest.mark.django_db
def test_behind_the_proxy_plain_http_is_redirected_and_https_gets_hsts(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200 and "max-age=31536000" in secure["Strict-Transport-Security"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/api/docs/", "/api/redoc/", "/api/v1/sites", "/nope"])
def test_every_page_sends_a_strict_content_security_policy(client, alice, path):
    client.force_login(alice)
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert re.fullmatch(r"'self'( 'nonce-[\w+/=-]+')?", directives["style-src"])  # ReDoc's styles carry a nonce
    assert "unsafe" not in policy


@pytest.mark.parametrize("pattern", [r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+="])
def test_templates_use_no_inline_script_or_style(pattern):
    """The CSP blocks inline code, so any of it in a template would silently break that page."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in TEMPLATE_DIRS
        for path in folder.rglob("*.html")
        if re.search(pattern, path.read_text(), re.IGNORECASE)
    ]
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/docs/?script=", "/api/redoc/"])
def test_api_docs_load_everything_from_this_server(client, path):
    body = client.get(path).content.decode()
    assert "drf_spectacular_sidecar" in body or path.endswith("?script=")
    assert not re.search(r"(src|href)=\"(https?:)?//", body)  # no CDN, no web fonts from elsewhere


@pytest.mark.django_db
def test_collected_static_files_are_served_hashed_and_compressed(tmp_path):
    from django.core.management import call_command

    manifest = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STORAGES=manifest, STATIC_ROOT=tmp_path):
        call_command("collectstatic", "--noinput", verbosity=0)
        client = Client()  # a new client builds the middleware again, so whitenoise indexes tmp_path
        page = client.get("/accounts/login/").content.decode()
        css_url = re.search(r'href="(/static/dashboard/app\.[0-9a-f]{12}\.css)"', page).group(1)
        css = client.get(css_url, HTTP_ACCEPT_ENCODING="gzip")
        assert css.status_code == 200 and css["Content-Encoding"] == "gzip"
        assert "immutable" in css["Cache-Control"]


def gunicorn_settings(env: dict[str, str], cores: set[int] | None = None) -> dict:
    """deploy/gunicorn.conf.py as gunicorn reads it, in a fresh process limited to `cores` (as taskset would)."""
    code = (
        "import json, os, runpy, sys\n"
        "if sys.argv[1]: os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(',')})\n"
        "config = runpy.run_path('deploy/gunicorn.conf.py')\n"
        "print(json.dumps({k: config[k] for k in ('workers', 'threads', 'max_requests', 'max_requests_jitter')}))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("WEB_")}
    result = subprocess.run(
        [sys.executable, "-c", code, ",".join(map(str, sorted(cores or ())))],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_gunicorn_runs_one_process_per_usable_core_with_four_threads():
    """More processes than cores made kept-alive connections wait unequally, fewer left cores idle
    (deploy/README.md); the cores are those the service may run on, so a taskset or cpuset narrows them."""
    usable = os.sched_getaffinity(0)
    one_core = gunicorn_settings({}, cores={min(usable)})
    assert (one_core["workers"], one_core["threads"]) == (1, 4)
    every_core = gunicorn_settings({})
    assert (every_core["workers"], every_core["threads"]) == (len(usable), 4)


def test_gunicorn_processes_are_recycled_only_when_web_max_requests_asks():
    assert gunicorn_settings({})["max_requests"] == 0
    asked = gunicorn_settings({"WEB_MAX_REQUESTS": "50000", "WEB_CONCURRENCY": "3", "WEB_THREADS": "5"})
    assert asked == {"workers": 3, "threads": 5, "max_requests": 50000, "max_requests_jitter": 5000}


FREEZE_AFTER_START = """
import gc, runpy, sys
import webui.wsgi
tracked = len(gc.get_objects())
runpy.run_path("deploy/gunicorn.conf.py")["post_worker_init"](None)
print(gc.get_freeze_count() >= tracked, "webui.api.views" in sys.modules, len(gc.get_objects()) < tracked / 10)
"""


def test_a_gunicorn_process_imports_the_views_and_freezes_them_out_of_garbage_collection(tmp_path):
    """What start-up built is never walked again by a full collection, which holds the GIL: tracked objects
    drop to a tenth or less, the frozen ones include everything loaded before the hook."""
    result = run_python(FREEZE_AFTER_START, {"SCANNER_VAR_DIR": str(tmp_path)})
    assert result.stdout.split() == ["True", "True", "True"], result.stderr[-2000:]


@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_app_with_styles_and_debug_off(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(SCANNER_VAR_DIR=str(tmp_path), PORT=str(port), WEB_CONCURRENCY="1", WEB_THREADS="2")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "webui.wsgi:application", "--config", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(base + "/accounts/login/", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.3)
        css_url = re.search(r'href="(/static/dashboard/app\.[0-9a-f]{12}\.css)"', page.text).group(1)
        assert httpx.get(base + css_url, timeout=5).status_code == 200
        missing = httpx.get(base + "/no-such-page", timeout=5)
        assert missing.status_code == 404 and "SECRET_KEY" not in missing.text and "Traceback" not in missing.text
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium package is not installed")
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_redoc_and_dashboard_render_in_chromium_without_csp_violations(live_server, alice, browser):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop in this thread; setup only
    from playwright.sync_api import expect

    page = browser.new_page()  # in a context of its own, closed with the page
    try:
        page.set_default_timeout(60_000)
        expect.set_options(timeout=30_000)  # 2 shared cores: a page may take seconds under load
        violations: list[str] = []
        page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
        external: list[str] = []
        page.on(
            "requestfinished",
            lambda req: (
                external.append(req.url) if not req.url.startswith((live_server.url, "data:", "blob:")) else None
            ),
        )
        page.goto(live_server.url + "/api/docs/")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("HTTPS compliance scanner API")
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("alice-pass-123")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out alice")).to_be_visible()
        assert violations == [], "\n".join(violations)
        # ReDoc renders under the same policy; the policy blocks the few things its bundle would otherwise
        # do inline or from its CDN (a footer logo), so nothing is fetched from elsewhere.
        page.goto(live_server.url + "/api/redoc/")
        expect(page.get_by_role("heading", name=re.compile("HTTPS compliance scanner API"))).to_be_visible()
        assert external == []
    finally:
        page.close()
