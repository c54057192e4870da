"""`python -m tests.lab` prints the settings to point the service at the lab as lines a shell can paste."""

from __future__ import annotations

import subprocess

from tests.lab.__main__ import environment_lines


def test_the_printed_settings_are_exported_to_the_processes_the_shell_starts(lab, tmp_path):
    lines = environment_lines(lab, str(tmp_path / "lab-ca.pem"))
    assert all(line.startswith("export ") for line in lines)
    script = "\n".join([*lines, "python3 -c 'import os; print(os.environ[\"SCANNER_RESOLVE\"])'"])
    child = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    assert child.stdout.strip() == ",".join(lab.resolve_map())
