"""`manage.py scan HOST` — scan one site synchronously (no Redis needed), store and print the result."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scanner import config
from scanner.engine import scan
from scanner.engine.certificates.caa import parse_server
from scanner.grading import grade
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.report import build_report
from scanner.report_reader import ReportView
from scanner.targets import InvalidTarget, parse_target


class Command(BaseCommand):
    help = "Scan one HTTPS site now and print its grades and findings."
    # The system checks load the URLconf, and with it the API, DRF and drf-spectacular: a fifth of this
    # command's start-up for pages it never serves. `manage.py check` and every server still run them.
    requires_system_checks = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("host", help="example.com, example.com:8443 or https://example.com/")
        parser.add_argument("--http-port", type=int, default=None, help="port of the plain-http listener (default 80)")
        parser.add_argument(
            "--resolve",
            action="append",
            default=[],
            metavar="HOST:IP[,IP]",
            help="pin a hostname to one or more addresses, like curl --resolve HOST:IP1,IP2 (repeatable); "
            "adds to SCANNER_RESOLVE. Pinned addresses are scanned even when private or loopback",
        )
        parser.add_argument(
            "--allow-network",
            action="append",
            default=[],
            metavar="CIDR",
            help="also allow scanning this private/loopback network",
        )
        parser.add_argument("--ca-file", default=None, help="extra trusted CA bundle (PEM)")
        parser.add_argument(
            "--dns-server",
            action="append",
            default=[],
            metavar="IP[:PORT]",
            help="DNS server for the CAA lookup (repeatable); replaces SCANNER_DNS_SERVERS",
        )
        parser.add_argument("--json", action="store_true", help="print the full JSON report")
        parser.add_argument("--owner", default="cli", help="user the stored scan belongs to (created if missing)")
        parser.add_argument("--no-store", action="store_true", help="do not save the scan in the database")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            target = parse_target(options["host"], http_port=options["http_port"])
        except InvalidTarget as exc:
            raise CommandError(str(exc)) from None
        try:
            cli_pins = parse_pins(options["resolve"])
            policy = NetworkPolicy(
                parse_networks([*config.allowed_networks(), *options["allow_network"]]),
                {**parse_pins(config.resolve_pins()), **cli_pins},
                # An address pinned on the command line is the operator's explicit choice, as in curl.
                trusted_pin_hosts=frozenset(cli_pins),
                refusal_hint="pin it with --resolve HOST:IP or allow its network with --allow-network CIDR to scan it",
            )
        except ValueError as exc:
            raise CommandError(f"--resolve / --allow-network: {exc}") from None
        scan_settings = config.scan_settings()
        if options["dns_server"]:
            try:
                for server in options["dns_server"]:
                    parse_server(server)
            except ValueError as exc:
                raise CommandError(f"--dns-server: {exc}") from None
            scan_settings = dataclasses.replace(scan_settings, dns_servers=tuple(options["dns_server"]))
        result = scan(target, policy=policy, settings=scan_settings, ca_file=options["ca_file"] or config.ca_file())
        grades = grade(result)
        report = build_report(result, grades)
        if not options["no_store"]:
            from scanner.services import record_cli_scan

            record_cli_scan(options["owner"], target, result, grades, report)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._print_summary(report)
        if result.error:
            raise CommandError(f"scan failed: {result.error}")

    def _print_summary(self, document: dict[str, Any]) -> None:
        report = ReportView.from_document(document)
        grades, target = report.grade, report.target
        self.stdout.write(
            f"{target.get('host')}:{target.get('port')} ({target.get('ip')}) {report.status} in {report.duration_s} s"
        )
        if report.error:
            self.stdout.write(f"  error: {report.error}")
        self.stdout.write(
            f"  security grade: {grades.security or '-'} "
            f"(ignoring trust: {grades.security_ignoring_trust or '-'}, score {grades.score})"
        )
        self.stdout.write(f"  SEO readiness:  {grades.seo_score} ({grades.seo_grade or '-'})")
        web = report.web_security
        self.stdout.write(
            f"  web security:   {web['score']} ({web['grade']}, Mozilla Observatory method)"
            if web
            else "  web security:   - (the https page was not read)"
        )
        if report.partial:
            for name, probe in report.probes.items():
                if probe["status"] != "ok":
                    self.stdout.write(f"  not tested: {name}: {probe['reason']}")
        endpoints = report.endpoints
        for endpoint in endpoints:
            if len(endpoints) > 1:
                self.stdout.write(f"  address {endpoint.ip}: {endpoint.status}, grade {endpoint.grade.security or '-'}")
        for finding in report.findings:
            self.stdout.write(f"  [{finding.severity:8}] {finding.id}: {finding.title}")
            self.stdout.write(f"             fix: {finding.remediation}")
