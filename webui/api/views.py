"""One view per resource and operation: validate input, call a service or selector, shape the output.

Every lookup goes through scanner.selectors with request.user, so other users' objects are simply 404.
"""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from scanner import imports, selectors, services
from scanner.models import BulkOperation
from scanner.services import schedules
from scanner.services.bulk import bulk_import_request, bulk_scan_request, import_is_bulk, portfolio_scan_is_bulk
from webui.api import documents
from webui.api import serializers as s
from webui.api.bulk_serializers import BulkOperationOutput
from webui.api.links import Links
from webui.api.pagination import ApiPagination, page_of
from webui.api.parsers import ImportJSONParser, LimitedJSONParser, LimitedTextParser
from webui.api.site_rows import SITE_ROW_FIELDS, datetimes_as_text, site_rows_output
from webui.api.throttling import throttle_refusals


class ApiView(APIView):
    parser_classes = (LimitedJSONParser,)

    def initial(self, request, *args, **kwargs):
        """DRF's, with the throttles checked before the permissions, and for a rejected token too: a 401 is counted
        against the client's address (AnonRequestRateThrottle), so guessing tokens is rate limited like logins."""
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        try:
            self.perform_authentication(request)
        except AuthenticationFailed:
            self.check_throttles(request)  # the request now counts as anonymous, by address
            raise
        self.check_throttles(request)
        self.check_permissions(request)

    def check_throttles(self, request):
        """Like DRF's, but the refusal names the limit that was hit (each throttle's `message`), and all the
        throttles are counted in one cache read and one write."""
        refusals = throttle_refusals(self.get_throttles(), request, self)
        if refusals:
            wait, message = max(refusals)
            raise Throttled(wait=wait, detail=message)

    def validated(self, serializer_class, data):
        if data is None or (not data and not isinstance(data, dict)):
            data = {}
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginated(self, queryset, serializer_class):
        paginator = ApiPagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(
            serializer_class(page, many=True, context={"request": self.request}).data
        )

    def output(self, serializer_class, instance, *, http_status=status.HTTP_200_OK, **context):
        data = serializer_class(instance, context={"request": self.request, **context}).data
        return Response(data, status=http_status)


def _found(obj):
    if obj is None:
        raise Http404
    return obj


def _user_portfolio_or_field_error(user, portfolio_id: int | None):
    if portfolio_id is None:
        return None
    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    if portfolio is None:
        raise ValidationError({"portfolio": ["You have no portfolio with this id."]})
    return portfolio


# --- Scans -------------------------------------------------------------------


class ScanListCreateApi(ApiView):
    @extend_schema(parameters=[s.ScanFilter], responses=page_of(s.ScanSummaryOutput), operation_id="scans_list")
    def get(self, request):
        filters = s.ScanFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        site = None
        if "site" in filters.validated_data:
            site = _found(selectors.site_get(user=request.user, site_id=filters.validated_data["site"]))
        scans = selectors.scan_list(user=request.user, site=site, status=filters.validated_data.get("status"))
        return self.paginated(scans, s.ScanSummaryOutput)

    @extend_schema(
        request=s.ScanCreateInput,
        responses={202: s.ScanAcceptedOutput, 200: s.ScanAcceptedOutput},
        description="Queue a scan (202). With max_age, a finished scan at most that old is returned instead (200). "
        "A scan already queued or running for the site is returned rather than queuing a second one (202). "
        "When the scan cannot be queued (broker down) the answer is 503 with the reason, and the scan is failed.",
    )
    def post(self, request):
        data = self.validated(s.ScanCreateInput, request.data)
        portfolio = _user_portfolio_or_field_error(request.user, data.get("portfolio"))
        scan, created = services.submit_scan(
            request.user,
            data["host"],
            port=data.get("port"),
            http_port=data.get("http_port"),
            portfolio=portfolio,
            max_age=data.get("max_age"),
        )
        http_status = status.HTTP_202_ACCEPTED if scan.status in scan.ACTIVE_STATUSES else status.HTTP_200_OK
        response = self.output(s.ScanAcceptedOutput, scan, http_status=http_status, created=created)
        response["Location"] = response.data["url"]
        return response


class ScanDetailApi(ApiView):
    @extend_schema(
        responses=s.ScanDetailOutput,
        description="A finished scan's answer carries a strong ETag; send it back in If-None-Match to get a 304 "
        "without the body when nothing changed.",
    )
    def get(self, request, pk: int):
        if documents.sends_plain_json(request):
            return documents.scan_detail_response(request, pk)
        return self.output(s.ScanDetailOutput, _found(selectors.scan_get(user=request.user, scan_id=pk)))


# --- Sites -------------------------------------------------------------------


class SiteListApi(ApiView):
    @extend_schema(parameters=[s.SiteFilter], responses=page_of(s.SiteOutput), operation_id="sites_list")
    def get(self, request):
        filters = {}
        if request.query_params:
            serializer = s.SiteFilter(data=request.query_params)
            serializer.is_valid(raise_exception=True)
            filters = serializer.validated_data
        if filters:
            sites = selectors.site_list(user=request.user, **filters)
            rows = selectors.site_rows(sites, SITE_ROW_FIELDS, as_text=datetimes_as_text())
        else:  # the list most clients read
            rows = selectors.all_site_rows(user=request.user, fields=SITE_ROW_FIELDS, as_text=datetimes_as_text())
        paginator = ApiPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        if page and "tag_names" in page[0]:
            tags = {row["id"]: row["tag_names"] for row in page}
        else:
            tags = selectors.tags_by_site(user=request.user, site_ids=[row["id"] for row in page])
        return paginator.get_paginated_response(site_rows_output(page, tags=tags, links=Links(request)))


class SiteDetailApi(ApiView):
    @extend_schema(responses=s.SiteOutput)
    def get(self, request, pk: int):
        return self.output(s.SiteOutput, _found(selectors.site_get(user=request.user, site_id=pk)))

    @extend_schema(
        responses={204: None}, description="Delete the site with its whole history (scans, findings, alerts)."
    )
    def delete(self, request, pk: int):
        services.site_delete(_found(selectors.site_get(user=request.user, site_id=pk)))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SiteScanListApi(ApiView):
    @extend_schema(responses=page_of(s.ScanSummaryOutput), operation_id="sites_scans_list")
    def get(self, request, pk: int):
        site = _found(selectors.site_get(user=request.user, site_id=pk))
        return self.paginated(selectors.scan_list(user=request.user, site=site), s.ScanSummaryOutput)


# --- Portfolios --------------------------------------------------------------


class PortfolioListCreateApi(ApiView):
    @extend_schema(responses=page_of(s.PortfolioSummaryOutput), operation_id="portfolios_list")
    def get(self, request):
        # Sites are linked (sites_url, paginated), not inlined: one portfolio may hold 10,000 of them.
        return self.paginated(selectors.portfolio_summaries(user=request.user), s.PortfolioSummaryOutput)

    @extend_schema(request=s.PortfolioInput, responses={201: s.PortfolioOutput})
    def post(self, request):
        data = self.validated(s.PortfolioInput, request.data)
        portfolio = services.portfolio_create(owner=request.user, name=data["name"])
        return self.output(s.PortfolioOutput, portfolio, http_status=status.HTTP_201_CREATED)


class PortfolioDetailApi(ApiView):
    @extend_schema(responses=s.PortfolioOutput)
    def get(self, request, pk: int):
        return self.output(s.PortfolioOutput, self._portfolio(request, pk))

    @extend_schema(request=s.PortfolioUpdateInput, responses=s.PortfolioOutput)
    def patch(self, request, pk: int):
        portfolio = self._portfolio(request, pk)
        data = self.validated(s.PortfolioUpdateInput, request.data)
        profiles = data.pop("compliance_profiles", None)
        if profiles is not None:
            services.portfolio_set_compliance_profiles(portfolio, profiles=profiles)
        return self.output(s.PortfolioOutput, services.portfolio_update(portfolio, **data))

    put = patch

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.portfolio_delete(self._portfolio(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def _portfolio(request, pk: int):
        return _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))


class PortfolioSitesApi(ApiView):
    @extend_schema(request=s.PortfolioSiteInput, responses={200: s.PortfolioOutput})
    def post(self, request, pk: int):
        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        data = self.validated(s.PortfolioSiteInput, request.data)
        if "site" in data:
            services.portfolio_add_site(portfolio, site=self._own_site(request, data["site"]))
        else:
            services.portfolio_add_site(
                portfolio, host=data["host"], port=data.get("port"), http_port=data.get("http_port")
            )
        return self.output(s.PortfolioOutput, selectors.portfolio_get(user=request.user, portfolio_id=pk))

    @extend_schema(request=s.PortfolioSiteInput, responses={200: s.PortfolioOutput})
    def delete(self, request, pk: int):
        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        data = self.validated(s.PortfolioSiteInput, request.data)
        if "site" in data:
            site = self._own_site(request, data["site"])
        else:
            target = services.parsed_target(data["host"], port=data.get("port"))
            site = selectors.site_for_host(user=request.user, hostname=target.host, https_port=target.https_port)
            if site is None or not portfolio.sites.filter(pk=site.pk).exists():
                raise ValidationError({"host": [f"{target} is not in this portfolio."]})
        services.portfolio_remove_site(portfolio, site=site)
        return self.output(s.PortfolioOutput, selectors.portfolio_get(user=request.user, portfolio_id=pk))

    @staticmethod
    def _own_site(request, site_id: int):
        site = selectors.site_get(user=request.user, site_id=site_id)
        if site is None:
            raise ValidationError({"site": ["You have no site with this id."]})
        return site


# A small portfolio's answer: each site's scan or error.
_BulkScanItems = s.BulkScanItemOutput(many=True)


class PortfolioScanApi(ApiView):
    @extend_schema(
        request=None,
        responses={
            202: PolymorphicProxySerializer(
                "PortfolioScanAccepted",
                serializers=[_BulkScanItems, BulkOperationOutput],
                resource_type_field_name=None,
                many=False,
            )
        },
        description="Queue a scan of every site (202). Up to SCANNER_BULK_INLINE_LIMIT sites the answer lists each "
        "site's scan or error; a larger portfolio is scanned by a worker in batches and the answer is the bulk "
        "operation, with its status URL in Location (GET it for the progress). 429 when the account's scan quota "
        "cannot cover every site.",
    )
    def post(self, request, pk: int):
        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        self.validated(s.StrictInputSerializer, request.data)  # no options yet: any field is unknown
        if portfolio_scan_is_bulk(portfolio):
            return _operation_accepted(self, bulk_scan_request(portfolio))
        items = [
            {"site": site.pk, "host": str(site), "scan": scan, "error": error}
            for site, scan, error in services.submit_portfolio_scans(portfolio)
        ]
        return Response(
            s.BulkScanItemOutput(items, many=True, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class PortfolioScheduleApi(ApiView):
    @extend_schema(request=s.PortfolioScheduleInput, responses=s.PortfolioOutput)
    def put(self, request, pk: int):
        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        data = self.validated(s.PortfolioScheduleInput, request.data)
        schedules.set_portfolio_schedule(portfolio, data["kind"], data.get("cron"))
        return self.output(s.PortfolioOutput, selectors.portfolio_get(user=request.user, portfolio_id=pk))


class PortfolioImportApi(ApiView):
    parser_classes = (ImportJSONParser, LimitedTextParser)

    @extend_schema(
        request=s.PortfolioImportInput,
        responses={200: s.ImportReportOutput, 202: BulkOperationOutput},
        description="Import sites into the portfolio. Up to SCANNER_BULK_INLINE_LIMIT lines the answer is the "
        "report (200); a longer import is done by a worker in batches and the answer is the bulk operation (202), "
        "with its status URL in Location.",
    )
    def post(self, request, pk: int):
        portfolio = _found(selectors.portfolio_get(user=request.user, portfolio_id=pk))
        data = self.validated(s.PortfolioImportInput, request.data)
        if import_is_bulk(data["text"]):
            return _operation_accepted(self, bulk_import_request(request.user, portfolio, data["text"]))
        report = imports.import_sites(request.user, portfolio, data["text"])
        return self.output(s.ImportReportOutput, report)


def _operation_accepted(view: ApiView, operation: BulkOperation) -> Response:
    response = view.output(BulkOperationOutput, operation, http_status=status.HTTP_202_ACCEPTED)
    response["Location"] = response.data["url"]
    return response
