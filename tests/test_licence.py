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


def _archive_names(client) -> set[str]:
    from webui.source import source_archive

    source_archive.cache_clear()
    response = client.get(reverse("source"))
    assert response.status_code == 200, response.content
    source_archive.cache_clear()
    with tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz") as archive:
        return set(archive.getnames())


@pytest.fixture
def checkout_with_a_secrets_file(tmp_path):
    """A git checkout of a small tree, with an untracked deploy/.env beside the tracked files, as an operator
    following deploy/README.md would have it."""
    import subprocess

    (tmp_path / "scanner").mkdir()
    (tmp_path / "scanner" / "targets.py").write_text("# tracked\n")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "compose.yaml").write_text("services: {}\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "tree"], check=True)
    (tmp_path / "deploy" / ".env").write_text("DJANGO_SECRET_KEY=do-not-publish\n")
    (tmp_path / "scanner" / "notes.txt").write_text("untracked\n")
    return tmp_path


@pytest.mark.django_db
def test_the_source_archive_never_holds_an_untracked_secrets_file(settings, client, checkout_with_a_secrets_file):
    settings.SCANNER_SOURCE_URL = ""
    settings.BASE_DIR = checkout_with_a_secrets_file
    names = _archive_names(client)
    assert names == {"https-scanner/scanner/targets.py", "https-scanner/deploy/compose.yaml"}


@pytest.mark.django_db
def test_a_built_image_offers_the_files_its_manifest_lists(settings, client, tmp_path):
    (tmp_path / "LICENSE").write_text("AGPL\n")
    (tmp_path / "manage.py").write_text("# code\n")
    (tmp_path / ".env").write_text("SECRET=1\n")
    (tmp_path / "SOURCE-FILES").write_text("LICENSE\nmanage.py\n../outside\n")
    settings.BASE_DIR = tmp_path
    assert _archive_names(client) == {"https-scanner/LICENSE", "https-scanner/manage.py"}


@pytest.mark.django_db
def test_without_a_way_to_list_the_source_the_view_says_which_setting_to_use(settings, client, tmp_path):
    from webui.source import source_archive

    (tmp_path / "manage.py").write_text("# code\n")
    settings.BASE_DIR = tmp_path
    source_archive.cache_clear()
    response = client.get(reverse("source"))
    source_archive.cache_clear()
    assert response.status_code == 503
    assert "SCANNER_SOURCE_URL" in response.content.decode()
