"""AGPL-3.0-or-later: the licence text ships with the source, and every page links to the source."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def test_the_repository_carries_the_agpl_text():
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE")
    assert "Version 3, 19 November 2007" in text
    assert "13. Remote Network Interaction; Use with the GNU General Public License." in text


@pytest.mark.django_db
def test_every_page_links_to_the_configured_source(settings, client):
    settings.SCANNER_SOURCE_URL = "https://git.example.org/scanner"
    page = client.get(reverse("login")).content.decode()
    assert '<a href="https://git.example.org/scanner"' in page and ">Source</a>" in page


@pytest.mark.django_db
def test_without_a_configured_url_the_source_link_serves_the_running_code(settings, client):
    settings.SCANNER_SOURCE_URL = ""
    page = client.get(reverse("login")).content.decode()
    assert f'<a href="{reverse("source")}"' in page
    response = client.get(reverse("source"))
    assert response.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        names = set(archive.getnames())
    assert {"https-scanner/LICENSE", "https-scanner/scanner/targets.py", "https-scanner/webui/settings.py"} <= names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
