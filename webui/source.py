"""The running service's own source, as a tar.gz (AGPL-3.0 section 13: users interacting with the service
over a network are offered its Corresponding Source).

The footer links to SCANNER_SOURCE_URL when the operator publishes the source somewhere; otherwise to this
view. The archive holds exactly the files version control tracks, never whatever else lies in the tree: an
operator's `deploy/.env` with the secret key sits right beside the code. The list comes from a manifest written
when the image is built (`SOURCE-FILES`, see deploy/Dockerfile), or from `git ls-files` in a checkout. With
neither, nothing is guessed: the view says so and names the setting to use instead.
"""

from __future__ import annotations

import functools
import io
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET

MANIFEST_NAME = "SOURCE-FILES"
ARCHIVE_ROOT = "https-scanner"


class SourceListUnavailable(RuntimeError):
    """Neither a build manifest nor a git checkout says which files are the source."""


def tracked_files(base: Path) -> list[str]:
    """Relative paths of the files that make up the source, from the build manifest or from git."""
    manifest = base / MANIFEST_NAME
    if manifest.is_file():
        return [line for line in manifest.read_text().splitlines() if line.strip()]
    if (base / ".git").exists():
        try:
            listed = subprocess.run(
                ["git", "-C", str(base), "ls-files", "-z"], capture_output=True, check=True, timeout=30
            ).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise SourceListUnavailable(f"git ls-files failed: {exc}") from exc
        return [name for name in listed.decode().split("\0") if name]
    raise SourceListUnavailable(f"no {MANIFEST_NAME} manifest and no git checkout in {base}")


def _inside(base: Path, relative: str) -> Path | None:
    """The file's path when it is a regular file inside the tree (a manifest line cannot reach outside it)."""
    path = (base / relative).resolve()
    if not path.is_file() or not path.is_relative_to(base.resolve()):
        return None
    return path


@functools.cache
def source_archive() -> bytes:
    """Built once per process: the files do not change while it runs."""
    base = Path(settings.BASE_DIR)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for relative in sorted(set(tracked_files(base))):
            path = _inside(base, relative)
            if path is not None:  # a tracked file deleted from this copy is not part of what runs
                archive.add(path, arcname=f"{ARCHIVE_ROOT}/{relative}", recursive=False)
    return buffer.getvalue()


@require_GET
def source_download(request):
    try:
        body = source_archive()
    except SourceListUnavailable:
        return HttpResponse(
            "The source of this instance cannot be listed here (no build manifest, no git checkout). "
            "The operator should set SCANNER_SOURCE_URL to where the source is published.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(body, content_type="application/gzip")
    response["Content-Disposition"] = 'attachment; filename="https-scanner-source.tar.gz"'
    return response
