"""SCANNER_PUBLIC_URL is required outside DEBUG: without it every link in an alert would be relative."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from webui.public_url import check_public_url

REPO = Path(__file__).resolve().parent.parent


def start(**overrides: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("SCANNER_PUBLIC_URL", "DJANGO_DEBUG")}
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_service_refuses_to_start_without_a_public_url_and_says_which_setting():
    started = start()
    assert started.returncode != 0
    assert "SCANNER_PUBLIC_URL is not set" in started.stderr
    assert "ImproperlyConfigured" in started.stderr


def test_the_service_starts_with_a_public_url():
    started = start(SCANNER_PUBLIC_URL="https://scanner.example.com")
    assert started.returncode == 0, started.stderr


def test_debug_may_leave_the_public_url_empty():
    check_public_url("", debug=True)


@pytest.mark.parametrize("url", ["scanner.example.com", "ftp://scanner.example.com", "https://"])
def test_a_public_url_that_is_not_an_absolute_http_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="not an absolute http"):
        check_public_url(url, debug=False)
