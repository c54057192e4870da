import functools
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest

from scanner.engine import ScanSettings
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.targets import parse_target
from tests.lab import Lab
from tests.lab.dns import DnsServer


# Short timeouts keep the tarpit case to a few seconds; the lab answers in milliseconds. The HTTP side's budget
# is short too, so the dripping lab cases end in seconds.
def free_port() -> int:
    """A loopback port free right now, for a server a test starts in another process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's test_ copy, not the configured one), for the
    worker, beat and node processes a test starts."""
    from django.db import connection

    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The lab's CAA lookups go to a DNS server on loopback that the `lab` fixture runs (tests/lab/dns.py), never to
# the system resolver: CAA for good.lab.test names the lab's own CA domain, every other lab name has none.
LAB_DNS_SERVER = f"127.0.0.1:{_free_udp_port()}"
LAB_CAA_ZONE = {"good.lab.test": [(0, "issue", "lab.test")]}
LAB_SCAN_SETTINGS = ScanSettings(
    connect_timeout=2,
    network_timeout=2,
    network_retries=1,
    http_timeout=3,
    http_deadline=5,
    dns_servers=(LAB_DNS_SERVER,),
)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """No persistent connections in tests: threads (live server, in-process Celery workers) would otherwise keep
    theirs open and block dropping the test database at the end of the session."""
    from django.conf import settings

    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(scope="session", autouse=True)
def _static_files_without_collectstatic():
    """Production serves collected, hashed static files (bin/run collects them); tests render pages without a
    collectstatic run, so they use plain storage. tests/test_web_tier.py checks the production storage itself."""
    from django.test import override_settings

    plain = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain):
        yield


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Production hashes passwords with PBKDF2 at a million iterations (a second or more of CPU per hash on a
    loaded CI core); hundreds of tests create users or log in. Tests hash with MD5 first, as Django's testing
    guide recommends (https://docs.djangoproject.com/en/5.2/topics/testing/overview/#password-hashing); the
    production hashers stay listed, so a password hashed by them still checks. No test is about the hasher."""
    from django.conf import settings
    from django.test import override_settings

    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    ):
        yield


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of the session: launching it took about two seconds a test
    on a loaded machine. Each test opens contexts of its own (no cookies or storage carry over) and closes them.
    Playwright's event loop then runs in this thread until the session ends, so Django's async guard, which
    refuses database calls from a thread with a running event loop, is lifted here for every test after it
    (DJANGO_ALLOW_ASYNC_UNSAFE; the tests' database calls stay synchronous), and no other sync_playwright may start."""
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def lab():
    ip, port = LAB_DNS_SERVER.split(":")
    with Lab() as running, DnsServer(ip, int(port), LAB_CAA_ZONE):
        yield running


@pytest.fixture(scope="session")
def lab_policy(lab):
    return NetworkPolicy(parse_networks([lab.allowed_network]), parse_pins(lab.resolve_map()))


@pytest.fixture
def lab_settings(settings, lab):
    """Django settings that let the service scan the lab (and only the lab's range)."""
    settings.SCANNER_ALLOWED_NETWORKS = [lab.allowed_network]
    settings.SCANNER_RESOLVE = lab.resolve_map()
    settings.SCANNER_CA_FILE = lab.ca_file
    settings.SCANNER_CONNECT_TIMEOUT = LAB_SCAN_SETTINGS.connect_timeout
    settings.SCANNER_NETWORK_TIMEOUT = LAB_SCAN_SETTINGS.network_timeout
    settings.SCANNER_NETWORK_RETRIES = LAB_SCAN_SETTINGS.network_retries
    settings.SCANNER_HTTP_TIMEOUT = LAB_SCAN_SETTINGS.http_timeout
    settings.SCANNER_DNS_SERVERS = list(LAB_SCAN_SETTINGS.dns_servers)
    # Lab tests rescan the same lab hosts on purpose; the per-target limit has its own tests.
    settings.SCANNER_TARGET_MIN_INTERVAL = 0
    return settings


@pytest.fixture(scope="session")
def scan_case(lab, lab_policy):
    """Scan a lab case by name, once per test session."""
    from scanner.engine import scan

    @functools.cache
    def run(name):
        case = lab.case(name)
        target = parse_target(case.hostname, https_port=case.https_port, http_port=case.http_port)
        return scan(target, policy=lab_policy, settings=LAB_SCAN_SETTINGS, ca_file=lab.ca_file)

    return run


@pytest.fixture
def alice(django_user_model):
    """A dashboard user; `bob` is the other user whose data alice must never see."""
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass-123")


@pytest.fixture(autouse=True)
def caa_lookups_stay_on_loopback(settings):
    """Every scan a test runs asks the lab's loopback DNS server for CAA, whichever settings fixture it uses."""
    settings.SCANNER_DNS_SERVERS = [LAB_DNS_SERVER]


@pytest.fixture(autouse=True)
def fresh_rate_limit_counters(settings):
    """Each test counts API requests from zero: its own key prefix in the shared Redis cache (keys expire
    on their own), so one test's requests never throttle the next."""
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"} for name, config in settings.CACHES.items()
    }


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    """Where browser tests save screenshots: a temporary directory, so a test run never rewrites tracked
    files; bin/screenshots points $SCREENSHOT_DIR at docs/screenshots to regenerate the README's pictures."""
    chosen = Path(os.environ["SCREENSHOT_DIR"]) if os.environ.get("SCREENSHOT_DIR") else tmp_path
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


@pytest.fixture(autouse=True)
def _no_triage_counts_kept_from_another_test():
    """A web process keeps triage counts while the owner's sites keep their version (webui/dashboard/kept_counts.py).
    Between tests the database is rolled back, versions and all, and the next test's rows may reuse the ids: the
    counts kept in this process must not carry over."""
    triage = sys.modules.get("webui.dashboard.triage")
    if triage is not None:
        triage.KEPT_COUNTS.clear()
    site_versions = sys.modules.get("scanner.services.site_versions")
    if site_versions is not None:  # an owner changed in a rolled-back test is not the next test's to renew
        site_versions._pending.owners = set()
