"""Portfolio exports and compliance evidence: streamed CSV/JSON, and the PDF a worker builds for a large
portfolio (202 with a status URL, then the file)."""

from __future__ import annotations

from typing import ClassVar

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status

from scanner import exports, selectors, services
from webui.api.errors import EvidenceNotReady
from webui.api.evidence_serializers import ComplianceEvidenceOutput
from webui.api.views import ApiView, _found


class PortfolioExportApi(ApiView):
    FORMATS: ClassVar[dict] = {
        "csv": (exports.csv_lines, "text/csv; charset=utf-8"),
        "json": (exports.json_chunks, "application/json"),
    }

    @extend_schema(responses={(200, "text/csv"): str, (200, "application/json"): str})
    def get(self, request, pk: int, fmt: str):
        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        stream, content_type = self.FORMATS[fmt]
        response = StreamingHttpResponse(stream(portfolio), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="portfolio-{portfolio.pk}.{fmt}"'
        return response


class PortfolioComplianceEvidenceApi(ApiView):
    """The auditor's evidence: per site and chosen profile the verdict, the scan it rests on and each failed
    requirement with its source (CSV, streamed), or the PDF report with the pass-rate and grade-mix charts."""

    @extend_schema(responses={(200, "text/csv"): str, (200, "application/pdf"): bytes, 202: ComplianceEvidenceOutput})
    def get(self, request, pk: int, fmt: str):
        from scanner import compliance_evidence
        from scanner.compliance_pdf import portfolio_pdf

        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        if fmt == "pdf" and services.evidence_is_built_by_worker(portfolio):
            # Above SCANNER_EVIDENCE_INLINE_LIMIT sites a worker builds the PDF: 202 with the report's status URL
            # (asking again while it is being built returns the same report).
            evidence = services.evidence_request(portfolio)
            response = self.output(ComplianceEvidenceOutput, evidence, http_status=status.HTTP_202_ACCEPTED)
            response["Location"] = response.data["url"]
            return response
        if fmt == "csv":
            response = StreamingHttpResponse(
                compliance_evidence.csv_lines(portfolio), content_type="text/csv; charset=utf-8"
            )
        else:
            response = HttpResponse(portfolio_pdf(portfolio), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="compliance-portfolio-{portfolio.pk}.{fmt}"'
        return response


class PortfolioEvidenceStatusApi(ApiView):
    """A worker-built compliance report: its status and progress, and once done the URL of its file."""

    @extend_schema(responses=ComplianceEvidenceOutput)
    def get(self, request, pk: int, evidence_id: int):
        from scanner.compliance_selectors import evidence_get

        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        return self.output(ComplianceEvidenceOutput, _found(evidence_get(portfolio, evidence_id)))


class PortfolioEvidenceFileApi(ApiView):
    """The PDF of a worker-built compliance report; 409 while it is not built (yet)."""

    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request, pk: int, evidence_id: int):
        from scanner.compliance_selectors import evidence_get

        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        evidence = _found(evidence_get(portfolio, evidence_id, with_content=True))
        if evidence.status != evidence.Status.DONE or evidence.content is None:
            raise EvidenceNotReady(f"The report is {evidence.status}; its status URL says when it is done.")
        response = HttpResponse(bytes(evidence.content), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="compliance-portfolio-{portfolio.pk}.pdf"'
        return response
