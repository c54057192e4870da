"""The migration that gives every existing site its latest scan's failing compliance profiles."""

from __future__ import annotations

import pytest

from tests.migration_steps import migrate, migrated_to

BEFORE = [("scanner", "0021_sites_version")]
AFTER = [("scanner", "0022_site_compliance_failing")]


@pytest.fixture
def before_the_migration():
    with migrated_to(BEFORE) as apps:
        yield apps


@pytest.mark.django_db(transaction=True)
def test_existing_sites_get_their_latest_scans_failing_profiles(alice, before_the_migration):
    Site = before_the_migration.get_model("scanner", "Site")
    Scan = before_the_migration.get_model("scanner", "Scan")
    scanned = Site.objects.create(owner_id=alice.pk, hostname="old.example")
    Scan.objects.create(site=scanned, status="done", compliance_failing=" anssi-tls ")
    latest = Scan.objects.create(site=scanned, status="done", compliance_failing=" pci-dss-4.0.1 ")
    Site.objects.filter(pk=scanned.pk).update(latest_scan=latest)
    never = Site.objects.create(owner_id=alice.pk, hostname="new.example")

    after = migrate(AFTER).get_model("scanner", "Site")
    assert after.objects.get(pk=scanned.pk).compliance_failing == " pci-dss-4.0.1 "
    assert after.objects.get(pk=never.pk).compliance_failing == ""
