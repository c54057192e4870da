"""django-csp's middleware, with the one policy most responses carry built once per process.

django-csp builds the Content-Security-Policy header on every response, twice (the enforced and the report-only
policy), from the settings: 8-10 % of an API request's CPU. A response that uses no nonce and no per-view
policy (csp_update, csp_replace, csp, csp_exempt) always gets the same bytes, so those are built once, by
django-csp's own `build_policy`, and reused (its directive order follows a set's, the same on every call within
one process). Anything else is left to django-csp as it is.
"""

from __future__ import annotations

import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What django-csp's decorators set on a response; any of them means the response has a policy of its own.
_PER_VIEW_ATTRIBUTES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
_SETTINGS = ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
# django-csp leaves these answers alone with DEBUG on, so Django's debug pages keep working.
_DEBUG_PAGE_STATUSES = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


class _DefaultPolicy:
    """The headers of a response with no nonce and no per-view policy, for the current settings."""

    def __init__(self) -> None:
        self.header = build_policy()
        self.report_only_header = build_policy(report_only=True)
        self.excluded = _excluded_prefixes("CONTENT_SECURITY_POLICY")
        self.report_only_excluded = _excluded_prefixes("CONTENT_SECURITY_POLICY_REPORT_ONLY")


def _excluded_prefixes(setting: str) -> tuple[str, ...]:
    return tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())


_default_policy: _DefaultPolicy | None = None


def default_policy() -> _DefaultPolicy:
    global _default_policy  # one per process, rebuilt when a test changes the settings
    if _default_policy is None:
        _default_policy = _DefaultPolicy()
    return _default_policy


@receiver(setting_changed)
def _forget_default_policy(*, setting: str, **kwargs) -> None:
    global _default_policy
    if setting in _SETTINGS:
        _default_policy = None


class StaticPolicyCSPMiddleware(CSPMiddleware):
    """django-csp's CSPMiddleware; only the response that carries the settings' policy as it is takes the short way."""

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_VIEW_ATTRIBUTES
        ):
            return super().process_response(request, response)
        # From here on the same steps as django-csp's process_response, with the policies already built.
        if settings.DEBUG and response.status_code in _DEBUG_PAGE_STATUSES:
            return response
        policy = default_policy()
        path = request.path_info
        if policy.header and HEADER not in response and not path.startswith(policy.excluded):
            response[HEADER] = policy.header
        if (
            policy.report_only_header
            and HEADER_REPORT_ONLY not in response
            and not path.startswith(policy.report_only_excluded)
        ):
            response[HEADER_REPORT_ONLY] = policy.report_only_header
        # No nonce was asked for; asking for one now would not reach the header, so it raises (as django-csp does).
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
