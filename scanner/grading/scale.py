"""The one grade scale and the one severity order of the whole project.

Models, change tracking, the dashboard, the badge and the API serializers import these names; nothing else
spells a grade list out again. Plain Python (no Django) so grading and the engine can use it too.
"""

from __future__ import annotations

# Best first. T (untrusted certificate) and M (name mismatch) rank below F: the site cannot be trusted at all,
# and M below T because a name mismatch is the more basic error (SSL Labs shows M when both apply).
GRADE_ORDER = ("A+", "A", "A-", "B", "C", "D", "E", "F", "T", "M")
LETTER_GRADES = GRADE_ORDER[:8]  # the letters a configuration can earn: what caps lower
TRUST_GRADES = ("T", "M")  # special grades that replace the letter

# Most severe first.
SEVERITIES = ("critical", "high", "medium", "low", "info")

# SSL Labs score -> letter (SSL Server Rating Guide 2009e, "Numerical Score to Grade", https://github.com/ssllabs/research/wiki/SSL-Server-Rating-Guide).
SCORE_LETTERS = ((80, "A"), (65, "B"), (50, "C"), (35, "D"), (20, "E"))
# SEO readiness score -> letter (this project's scale, published in the README).
SEO_LETTERS = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))


def grade_rank(grade: str) -> int:
    """0 for A+; unknown or missing grades rank after M."""
    return GRADE_ORDER.index(grade) if grade in GRADE_ORDER else len(GRADE_ORDER)


def worse_grade(a: str, b: str) -> str:
    """The lower of two grades on GRADE_ORDER."""
    return a if grade_rank(a) >= grade_rank(b) else b


def grades_below(grade: str) -> tuple[str, ...]:
    """Grades strictly worse than `grade`."""
    return GRADE_ORDER[GRADE_ORDER.index(grade) + 1 :]


# The overview's worst-first order as one number a site stores (Site.triage_rank), so one index serves the
# sort and the failing filters: 0 never graded, 1 + the grade's place in GRADE_ORDER (A+ 1 ... M 10), and
# UNREACHABLE_RANK more when the last attempt failed (dead sites first, the worst last grade first among them).
UNREACHABLE_RANK = len(GRADE_ORDER) + 1


def triage_rank(grade: str, *, unreachable: bool) -> int:
    graded = GRADE_ORDER.index(grade) + 1 if grade in GRADE_ORDER else 0
    return graded + (UNREACHABLE_RANK if unreachable else 0)


def severity_rank(severity: str | None) -> int:
    """0 for critical; unknown severities sort last."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _letter(score: float, thresholds: tuple[tuple[int, str], ...]) -> str:
    return next((letter for threshold, letter in thresholds if score >= threshold), "F")


def letter_for_score(score: float) -> str:
    return _letter(score, SCORE_LETTERS)


def seo_letter(score: float) -> str:
    return _letter(score, SEO_LETTERS)
