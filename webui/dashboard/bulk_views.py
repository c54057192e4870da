"""A bulk operation's progress page: a portfolio scan or import large enough to be done by a worker
(scanner.services.bulk). The page polls its JSON status (bulk.js) and shows the outcome once it is done."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from scanner import selectors
from scanner.models import BulkOperation, Portfolio

from .access import owned_portfolio

SHOWN_ERRORS = 20


def _operation(request, portfolio_id: int, operation_id: int) -> tuple[Portfolio, BulkOperation]:
    portfolio = owned_portfolio(request, portfolio_id)
    operation = selectors.bulk_operation_get(portfolio, operation_id)
    if operation is None:
        raise Http404("No such operation.")
    return portfolio, operation


def status_body(operation: BulkOperation) -> dict:
    """What bulk.js polls."""
    return {
        "id": operation.pk,
        "kind": operation.kind,
        "state": operation.state,
        "total": operation.total,
        "done": operation.done,
        "failed": operation.failed,
        "percent": operation.percent,
        "error": operation.error,
    }


@login_required
@require_GET
def operation_detail(request, portfolio_id: int, operation_id: int):
    portfolio, operation = _operation(request, portfolio_id, operation_id)
    context = {
        "portfolio": portfolio,
        "operation": operation,
        "errors": operation.errors[:SHOWN_ERRORS],
        "more_errors": max(0, operation.failed - SHOWN_ERRORS),
        "status_url": reverse("dashboard:bulk_operation_status", args=[portfolio.pk, operation.pk]),
    }
    return render(request, "dashboard/bulk_operation.html", context)


@login_required
@require_GET
def operation_status(request, portfolio_id: int, operation_id: int):
    _, operation = _operation(request, portfolio_id, operation_id)
    return JsonResponse(status_body(operation))
