"""A portfolio's standing at the end of each day, kept so that its 30-day history reads a row per day instead of
replaying every scan of every site. Imported by scanner.models (Django finds the model there); kept apart because
models.py is at its size limit."""

from __future__ import annotations

from django.db import models


class PortfolioDay(models.Model):
    """The portfolio as of the end of `day` (UTC): each member site's last done scan by then, counted. Written by
    scanner.services.portfolio_days for days that are over; today is always counted live. Anything that changes
    a past day's answer (a site joining or leaving, a site deleted, a copied scan finished on an earlier day,
    re-evaluated compliance) forgets the rows it changes, and they are counted again when next read."""

    portfolio = models.ForeignKey("scanner.Portfolio", on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    grades = models.JSONField(default=dict)  # {security grade: sites}; "" for a done scan without one
    evaluated = models.PositiveIntegerField(default=0)  # sites with a done scan by then
    failing = models.JSONField(default=dict)  # {compliance profile id: sites failing it}, every known profile

    class Meta:
        constraints = (models.UniqueConstraint(fields=["portfolio", "day"], name="portfolio_day_once"),)

    def __str__(self) -> str:
        return f"{self.portfolio} on {self.day}"
