from django.db import migrations


class Migration(migrations.Migration):
    """Joins the two branches developed side by side: portfolio schedules and change tracking/alerts."""

    dependencies = [
        ("scanner", "0002_portfolio_schedule"),
        ("scanner", "0003_scan_changes_alerts"),
    ]

    operations = []
