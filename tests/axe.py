"""axe-core (installed from the npm registry by bin/test into .axe/, gitignored) run inside a Playwright page.

The script is evaluated through the DevTools protocol, not injected as a <script>, so the page's strict
Content-Security-Policy stays on while it is checked.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_JS = Path(__file__).resolve().parent.parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, which include colour contrast (1.4.3), labels (1.3.1, 4.1.2) and keyboard access.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


@cache
def _source() -> str:
    if not AXE_JS.exists():
        raise AssertionError(
            f"{AXE_JS} is missing: bin/test installs axe-core with npm (npm install --prefix .axe axe-core)"
        )
    return AXE_JS.read_text()


def serious_violations(page) -> list[str]:
    """Every serious or critical violation on the page as it is now, one line each (rule, impact, targets)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())  # evaluated by DevTools (not eval() in the page, which the CSP forbids)
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    lines = []
    for violation in result["violations"]:
        if violation.get("impact") in BLOCKING:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
            lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return lines


def assert_accessible(page, where: str) -> None:
    problems = serious_violations(page)
    assert not problems, f"axe-core on {where}:\n" + "\n".join(problems)
