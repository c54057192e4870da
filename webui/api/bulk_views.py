"""The status of a bulk operation: a portfolio scan or import large enough to be done by a worker."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema

from scanner import selectors
from webui.api.bulk_serializers import BulkOperationOutput
from webui.api.views import ApiView, _found


class PortfolioOperationApi(ApiView):
    """A portfolio's bulk scan or import: its state and progress."""

    @extend_schema(responses=BulkOperationOutput)
    def get(self, request, pk: int, operation_id: int):
        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        return self.output(BulkOperationOutput, _found(selectors.bulk_operation_get(portfolio, operation_id)))
