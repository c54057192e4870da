"""Queries compiled once per process (scanner.compiled_queries): each call is answered with its own arguments,
converted as the ORM converts them, and a query whose SQL an argument changes is left to the ORM."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from scanner.compiled_queries import CompiledOnce
from scanner.models import Site

pytestmark = pytest.mark.django_db


def expiring_before(owner_id: int, cutoff):
    return (
        Site.objects.filter(owner=owner_id, cert_not_after__lt=cutoff)
        .order_by("hostname")
        .values(
            "hostname", soon=Case(When(https_port=443, then=Value(1)), default=Value(0), output_field=IntegerField())
        )
    )


def test_a_compiled_query_answers_each_call_with_its_own_ids_and_times(alice, bob):
    now = timezone.now()
    Site.objects.create(owner=alice, hostname="a.example", cert_not_after=now + timedelta(days=5))
    Site.objects.create(owner=alice, hostname="late.example", cert_not_after=now + timedelta(days=50))
    Site.objects.create(owner=bob, hostname="b.example", https_port=8443, cert_not_after=now + timedelta(days=1))
    compiled = CompiledOnce(expiring_before)
    assert compiled.rows(alice.pk, now + timedelta(days=10)) == [{"hostname": "a.example", "soon": 1}]
    assert compiled.rows(alice.pk, now + timedelta(days=60)) == list(
        expiring_before(alice.pk, now + timedelta(days=60))
    )
    assert compiled.rows(bob.pk, now + timedelta(days=10)) == [{"hostname": "b.example", "soon": 0}]


def test_a_query_whose_sql_an_argument_changes_is_run_by_the_orm_every_time(alice, bob):
    Site.objects.create(owner=alice, hostname="a.example")
    Site.objects.create(owner=bob, hostname="b.example")

    def sites(owner_id: int):
        # An id the database cannot hold picks another query: the marks would never reach its parameters.
        scope = Site.objects.filter(owner=owner_id) if owner_id > 0 else Site.objects.filter(https_port=443)
        return scope.values("hostname")

    compiled = CompiledOnce(sites)
    assert compiled.rows(alice.pk) == [{"hostname": "a.example"}]
    assert compiled.rows(bob.pk) == [{"hostname": "b.example"}]


def test_a_compiled_query_is_sliced_as_its_queryset_would_be(alice):
    for name in ("a", "b", "c", "d", "e"):
        Site.objects.create(owner=alice, hostname=f"{name}.example")
    compiled = CompiledOnce(
        lambda owner_id: Site.objects.filter(owner=owner_id).order_by("hostname").values("hostname")
    )
    assert [row["hostname"] for row in compiled.rows(alice.pk, limit=2, offset=1)] == ["b.example", "c.example"]
    assert [row["hostname"] for row in compiled.rows(alice.pk, offset=3)] == ["d.example", "e.example"]
    assert compiled.rows(alice.pk, limit=0) == []


def test_a_compiled_query_answers_each_call_with_its_own_words(alice):
    Site.objects.create(owner=alice, hostname="a.example", grade="B")
    Site.objects.create(owner=alice, hostname="b.example", grade="")
    compiled = CompiledOnce(lambda owner_id, grade: Site.objects.filter(owner=owner_id, grade=grade).values("hostname"))
    assert compiled.rows(alice.pk, "B") == [{"hostname": "a.example"}]
    assert compiled.rows(alice.pk, "") == [{"hostname": "b.example"}]
    assert compiled.rows(alice.pk, "A") == []
