"""The running service's own source, as a tar.gz (AGPL-3.0 section 13: users interacting with the service
over a network are offered its Corresponding Source).

The footer links to SCANNER_SOURCE_URL when the operator publishes the source somewhere; otherwise to this
view, which packs the files this instance runs from, so the offer is true even for a modified deployment.
"""

from __future__ import annotations

import functools
import io
import tarfile

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET

# Top-level entries of the project that make up its source; everything else (virtualenv, var/, caches) is not.
SOURCE_ENTRIES = (
    "LICENSE", "README.md", "pyproject.toml", "requirements.txt", "requirements-dev.txt", "manage.py",
    ".ci", "bin", "deploy", "docs", "benchmarks", "scanner", "webui", "tests",
)
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "node_modules"}


@functools.cache
def source_archive() -> bytes:
    """Built once per process: the files do not change while it runs."""
    buffer = io.BytesIO()
    base = settings.BASE_DIR
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for entry in SOURCE_ENTRIES:
            path = base / entry
            if not path.exists():
                continue
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                relative = file.relative_to(base)
                if SKIPPED_PARTS.intersection(relative.parts) or file.suffix == ".pyc":
                    continue
                archive.add(file, arcname=f"https-scanner/{relative.as_posix()}", recursive=False)
    return buffer.getvalue()


@require_GET
def source_download(request):
    response = HttpResponse(source_archive(), content_type="application/gzip")
    response["Content-Disposition"] = 'attachment; filename="https-scanner-source.tar.gz"'
    return response
