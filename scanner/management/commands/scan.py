"""`manage.py scan HOST` — scan one site synchronously (no Redis needed), store and print the result."""

from __future__ import annotations

import atexit
import dataclasses
import gc
import json
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scanner import config
from scanner.netpolicy import NetworkPolicy, parse_networks, parse_pins
from scanner.targets import InvalidTarget, parse_target

if TYPE_CHECKING:
    from scanner.engine.results import ScanResult, ScanSettings
    from scanner.targets import Target

# The engine, grading and the report are imported in `handle`, after the process that stores the scan has
# been forked: it need not import them, and `--help` or a mistyped argument need none of them.


def _import_grading() -> None:
    from scanner.report import grade_and_report  # noqa: F401


def run_from_command_line(argv: list[str]) -> NoReturn:
    """`manage.py scan ...` without setting Django up first (manage.py sends the command here).

    Same parser, help, messages and exit codes as through Django's ManagementUtility, which would run
    django.setup() before the command: here the scan starts at once, and Django is set up in the process
    that stores the scan, beside it (scanner/storage_process.py); `--no-store` never sets Django up.
    manage.py turns the garbage collector off for the start-up; `handle` turns it on once the probes are in."""
    command = Command()
    command.sets_up_django_beside_the_scan = True
    try:
        command.run_from_argv(argv)
    except SystemExit as exc:
        _exit_without_teardown(exc.code)
    except BrokenPipeError:
        # The reader went away (`manage.py scan ... | head`): the scan is stored; what is left unprinted has no
        # reader, so no traceback either (https://docs.python.org/3/library/signal.html#note-on-sigpipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        _exit_without_teardown(1)
    _exit_without_teardown(0)


def _exit_without_teardown(code: int | str | None) -> NoReturn:
    """Exit as `sys.exit(code)` would, without the interpreter's teardown.

    Once the command has printed its result and its child processes are reaped, tearing down the 600 modules
    a scan imports (every object freed one by one) is all that is left: about a tenth of a loopback scan's
    whole run. What an exit must still do is done here: the exit handlers run (`atexit`; logging's flush is
    one) and the output streams are flushed."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # CPython's own exit runs them the same way, before its teardown
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`): nothing left to tell it
            code = code or 1
    os._exit(code or 0)


class _Storage(Protocol):
    # True when `store` grades the scan in another process: this one then need not import the grading.
    grades_elsewhere: bool

    def store(self, owner: str, target: Target, result: ScanResult) -> dict:
        """Grade and store the scan; its report. StorageFailed (with the report when graded) when not stored."""
        ...

    def close(self) -> None: ...


class _StorageInThisProcess:
    """Grading and storing where Django is already set up (`call_command`, tests)."""

    grades_elsewhere = False

    def store(self, owner: str, target: Target, result: ScanResult) -> dict:
        from django.db import DatabaseError

        from scanner.report import grade_and_report
        from scanner.services import record_cli_scan
        from scanner.storage_process import StorageFailed, database_error_reason

        grades, report = grade_and_report(result)
        try:
            record_cli_scan(owner, target, result, grades, report)
        except DatabaseError as exc:
            raise StorageFailed(database_error_reason(exc), report) from exc
        return report

    def close(self) -> None:
        pass


class Command(BaseCommand):
    help = "Scan one HTTPS site now and print its grades and findings."
    # The system checks load the URLconf, and with it the API, DRF and drf-spectacular: a fifth of this
    # command's start-up for pages it never serves. `manage.py check` and every server still run them.
    requires_system_checks = ()
    # True when run by `run_from_command_line`: Django is not set up yet, and is set up beside the scan.
    sets_up_django_beside_the_scan = False

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
        target, policy, scan_settings = self._scan_inputs(options)
        storage = None if options["no_store"] else self._storage()
        try:
            from scanner.engine import load_probes, scan

            # What comes after the scan (grading, the report, the CAA lookup) is imported beside it, while it
            # waits on the network, not before it starts.
            load_probes(late_ones=False)
            if self.sets_up_django_beside_the_scan:
                # What the start-up imported lives until exit: frozen, collections during the scan skip it
                # (https://docs.python.org/3/library/gc.html#gc.freeze).
                gc.freeze()
                gc.enable()

            ca_file = options["ca_file"] or config.ca_file()
            # The grading is imported beside the scan where it runs in this process.
            beside = None if storage is not None and storage.grades_elsewhere else _import_grading
            result = scan(target, policy=policy, settings=scan_settings, ca_file=ca_file, beside=beside)
            report, not_stored = self._report_and_store(storage, options["owner"], target, result)
        finally:
            if storage is not None:
                storage.close()
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self._print_summary(report)
        if not_stored:
            raise CommandError(f"the scan was not stored: {not_stored}")
        if result.error:
            raise CommandError(f"scan failed: {result.error}")

    @staticmethod
    def _report_and_store(
        storage: _Storage | None, owner: str, target: Target, result: ScanResult
    ) -> tuple[dict, str | None]:
        """The scan's report, and why it was not stored (None when it was, or was not to be)."""
        from scanner.storage_process import StorageFailed

        report, not_stored = None, None
        if storage is not None:
            try:
                report = storage.store(owner, target, result)
            except StorageFailed as exc:
                report, not_stored = exc.report, str(exc)
        if report is None:  # not to be stored, or the storing process ended before grading it
            from scanner.report import grade_and_report

            report = grade_and_report(result)[1]
        return report, not_stored

    def _scan_inputs(self, options: dict[str, Any]) -> tuple[Target, NetworkPolicy, ScanSettings]:
        """The target, network policy and scan settings from the options, or a CommandError saying what is wrong."""
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
            from scanner.engine.certificates.caa import parse_server

            try:
                for server in options["dns_server"]:
                    parse_server(server)
            except ValueError as exc:
                raise CommandError(f"--dns-server: {exc}") from None
            scan_settings = dataclasses.replace(scan_settings, dns_servers=tuple(options["dns_server"]))
        return target, policy, scan_settings

    def _storage(self) -> _Storage:
        if self.sets_up_django_beside_the_scan:
            from scanner.storage_process import StorageProcess

            return StorageProcess()
        return _StorageInThisProcess()

    def _print_summary(self, document: dict[str, Any]) -> None:
        from scanner.report_reader import ReportView

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
