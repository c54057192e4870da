"""Every write to sites, portfolios, scans and channels. No HTTP here: the API, the dashboard, the admin, imports
and tasks all call these, so every rule and limit holds whichever way a request comes in.

One module per room: sites, portfolios, scan_requests (asking for scans, with every scan limit), scan_targets (the
per-target limit), scan_fanout (beat's rescans planned in bulk by scan_requests' rules), scan_dispatch
(sending messages, releasing rescans, the reaper), scan_runs (a worker running a scan), scan_results (storing
what a scan ended with), scan_documents (finished scans' API documents as sent), portfolio_days (portfolios'
standings kept per day for their history), site_versions (an owner's sites' version, renewed by each change the
dashboard counts), channels, retention, accounts (sign-up), limits (the ledger every counted limit reads),
compliance (failing profiles, chosen profiles) and evidence (the compliance PDF a worker builds). Callers import
from here, except from `bulk` (large portfolio scans and imports done by a worker): it builds on
scanner.imports, which imports from here, so it is imported as scanner.services.bulk.
"""

from scanner.services.accounts import account_signup
from scanner.services.channels import (
    VERIFY_SALT,
    account_set_email,
    alert_acknowledge,
    channel_create,
    channel_delete,
    channel_set_weekly_digest,
    channel_test_request,
    send_verification,
    verification_resend,
    verification_token,
    verify_email,
)
from scanner.services.compliance import (
    InvalidProfiles,
    portfolio_set_compliance_profiles,
    record_scan_compliance,
    refresh_compliance,
)
from scanner.services.due_rescans import queue_due_rescans
from scanner.services.errors import ScanNotQueued, ScanRequestError, ScanRequestForbidden, ScanRequestTooSoon
from scanner.services.evidence import (
    evidence_abandoned,
    evidence_build,
    evidence_is_built_by_worker,
    evidence_request,
)
from scanner.services.limits import prune_limit_events
from scanner.services.portfolio_days import portfolio_days_forget, portfolio_days_keep
from scanner.services.portfolios import (
    portfolio_add_site,
    portfolio_create,
    portfolio_delete,
    portfolio_remove_site,
    portfolio_set_channels,
    portfolio_update,
)
from scanner.services.retention import prune_old_reports
from scanner.services.scan_dispatch import (
    MAX_ATTEMPTS,
    enqueue_scan,
    reap_stale_scans,
    release_due_scans,
    scan_queue,
    scan_reserved,
    stale_reason,
)
from scanner.services.scan_documents import scan_document_store, scan_documents_forget
from scanner.services.scan_requests import (
    scan_permission_check,
    scan_quota_check,
    scan_quota_wait,
    submit_portfolio_scans,
    submit_scan,
)
from scanner.services.scan_results import (
    changes_since_previous,
    fail_scan,
    site_attempted,
    site_took_result,
    store_outcome,
)
from scanner.services.scan_runs import execute_scan, record_cli_scan
from scanner.services.site_versions import sites_changed
from scanner.services.sites import (
    checked_target,
    parsed_target,
    site_delete,
    site_for_target,
    site_set_badge_public,
    site_set_muted,
    site_set_tags,
    site_share,
)

__all__ = [
    "MAX_ATTEMPTS",
    "VERIFY_SALT",
    "InvalidProfiles",
    "ScanNotQueued",
    "ScanRequestError",
    "ScanRequestForbidden",
    "ScanRequestTooSoon",
    "account_set_email",
    "account_signup",
    "alert_acknowledge",
    "changes_since_previous",
    "channel_create",
    "channel_delete",
    "channel_set_weekly_digest",
    "channel_test_request",
    "checked_target",
    "enqueue_scan",
    "evidence_abandoned",
    "evidence_build",
    "evidence_is_built_by_worker",
    "evidence_request",
    "execute_scan",
    "fail_scan",
    "parsed_target",
    "portfolio_add_site",
    "portfolio_create",
    "portfolio_days_forget",
    "portfolio_days_keep",
    "portfolio_delete",
    "portfolio_remove_site",
    "portfolio_set_channels",
    "portfolio_set_compliance_profiles",
    "portfolio_update",
    "prune_limit_events",
    "prune_old_reports",
    "queue_due_rescans",
    "reap_stale_scans",
    "record_cli_scan",
    "record_scan_compliance",
    "refresh_compliance",
    "release_due_scans",
    "scan_document_store",
    "scan_documents_forget",
    "scan_permission_check",
    "scan_queue",
    "scan_quota_check",
    "scan_quota_wait",
    "scan_reserved",
    "send_verification",
    "site_attempted",
    "site_delete",
    "site_for_target",
    "site_set_badge_public",
    "site_set_muted",
    "site_set_tags",
    "site_share",
    "site_took_result",
    "sites_changed",
    "stale_reason",
    "store_outcome",
    "submit_portfolio_scans",
    "submit_scan",
    "verification_resend",
    "verification_token",
    "verify_email",
]
