"""The portfolio compliance report as a PDF (fpdf2, pure Python): summary, pass-rate and grade-mix charts, and
per site the verdict, the scan it rests on and each failed requirement with its source."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count
from fpdf import FPDF

from scanner.compliance_evidence import evidence_profiles, generated_at, requirement_text, site_verdicts, summary
from scanner.grading.compliance import PROFILES
from scanner.grading.scale import GRADE_ORDER
from scanner.models import Portfolio, Site

# The PDF core fonts are Latin-1: a few typographic characters are spelled out instead of dropped.
_PLAIN = str.maketrans({"≥": ">=", "≤": "<=", "–": "-", "—": "-", "’": "'", "“": '"', "”": '"', "…": "...", "→": "->"})
PASS_RGB, FAIL_RGB, GREY_RGB = (46, 125, 50), (198, 40, 40), (180, 180, 180)
ATTRIBUTION = (
    "Profile data derived from the TLS Compliance Dataset (stfbk, https://github.com/stfbk/tls-compliance-dataset), "
    "CC BY 4.0, and from the documents each requirement cites. Verdicts are evaluated from each site's latest "
    "stored scan against the profile versions named above."
)


def plain(text: object) -> str:
    return str(text).translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


class _Report(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.set_text_color(90)
        self.cell(0, 5, f"Page {self.page_no()}", align="C")


def _bar(pdf: FPDF, label: str, parts: list[tuple[int, tuple[int, int, int]]], total: int, caption: str) -> None:
    """One labelled horizontal stacked bar, 100 mm wide."""
    pdf.set_font("Helvetica", size=9)
    pdf.cell(50, 6, plain(label))
    x, y, width = pdf.get_x(), pdf.get_y() + 1, 100
    pdf.set_draw_color(120)
    pdf.rect(x, y, width, 4)
    for count, colour in parts:
        share = width * count / total if total else 0
        if share:
            pdf.set_fill_color(*colour)
            pdf.rect(x, y, share, 4, style="F")
            x += share
    pdf.set_x(pdf.l_margin + 50 + width + 3)
    pdf.cell(0, 6, plain(caption), new_x="LMARGIN", new_y="NEXT")


def _wrapped(pdf: FPDF, text: str, width: float) -> list[str]:
    """Greedy word wrap measured with the current font. fpdf's multi_cell measures the line again at every
    character (quadratic in the line's length): with long "seen" lists, a 300-site report took 12 s."""
    space = pdf.get_string_width(" ")
    lines: list[str] = []
    words: list[str] = []
    used = 0.0
    for word in text.split(" "):
        word_width = pdf.get_string_width(word)
        while word_width > width:  # a word wider than the line (a long URL): cut it where it fills the line
            if words:
                lines.append(" ".join(words))
                words, used = [], 0.0
            cut = max(1, int(len(word) * width / word_width))
            lines.append(word[:cut])
            word = word[cut:]
            word_width = pdf.get_string_width(word)
        if words and used + space + word_width > width:
            lines.append(" ".join(words))
            words, used = [], 0.0
        used += (space if words else 0.0) + word_width
        words.append(word)
    if words:
        lines.append(" ".join(words))
    return lines or [""]


def _paragraph(pdf: FPDF, height: float, text: str, indent: float = 0) -> None:
    width = pdf.w - pdf.l_margin - pdf.r_margin - indent
    for line in _wrapped(pdf, plain(text), width):
        pdf.set_x(pdf.l_margin + indent)
        pdf.cell(width, height, line, new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", style="B", size=12)
    pdf.cell(0, 8, plain(text), new_x="LMARGIN", new_y="NEXT")


def portfolio_pdf(portfolio: Portfolio, progress: Callable[[int], None] | None = None) -> bytes:
    """The report; `progress(sites_done)` is called as the sites are evaluated (the worker shows it)."""
    profiles = evidence_profiles(portfolio)
    verdicts = list(site_verdicts(portfolio, profiles, progress))
    pdf = _Report(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(0, 10, plain(f"Compliance report: {portfolio.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 5, plain(f"Generated {generated_at():%Y-%m-%d %H:%M} UTC"), new_x="LMARGIN", new_y="NEXT")

    _heading(pdf, "Profiles and pass rate")
    for row in summary(verdicts, profiles):
        caption = f"{row['failing']} of {row['evaluated']} sites fail" if row["evaluated"] else "no scanned site"
        _bar(
            pdf,
            f"{PROFILES[row['profile']].short} {row['version']}",
            [(row["passing"], PASS_RGB), (row["failing"], FAIL_RGB)],
            row["evaluated"],
            caption,
        )
    pdf.set_font("Helvetica", size=7)
    for profile in profiles:
        pdf.multi_cell(
            0,
            4,
            plain(f"{PROFILES[profile].title} {PROFILES[profile].version}: {PROFILES[profile].document}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )

    _heading(pdf, "Grade mix")
    grades = dict(
        Site.objects.filter(owner=portfolio.owner, portfolios=portfolio)
        .order_by()
        .values_list("grade")
        .annotate(count=Count("pk"))
        .values_list("grade", "count")
    )
    total = sum(grades.values())
    for grade in [*GRADE_ORDER, ""]:
        if grades.get(grade):
            colour = PASS_RGB if grade.startswith("A") else FAIL_RGB if grade in ("F", "T", "M") else GREY_RGB
            _bar(pdf, grade or "Not graded", [(grades[grade], colour)], total, f"{grades[grade]} of {total}")

    _heading(pdf, "Sites")
    for row in verdicts:
        pdf.set_font("Helvetica", style="B", size=9)
        scanned = f"scan {row.scan_id} of {row.scanned_at:%Y-%m-%d %H:%M} UTC" if row.scan_id else "never scanned"
        colour = FAIL_RGB if row.verdict == "fail" else PASS_RGB if row.verdict == "pass" else (90, 90, 90)
        pdf.set_text_color(*colour)
        _paragraph(pdf, 5, f"{row.host}:{row.port}  {PROFILES[row.profile].short}: {row.verdict}  ({scanned})")
        pdf.set_text_color(0)
        pdf.set_font("Helvetica", size=8)
        for item in row.failed:
            _paragraph(pdf, 4, f"- {requirement_text(item)}", indent=5)
    pdf.ln(4)
    pdf.set_font("Helvetica", size=7)
    pdf.multi_cell(0, 4, plain(ATTRIBUTION), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
