"""The probes import sslyze with its JSON models unbuilt (scanner/engine/runtime/sslyze_import.py): they cost
about 40 % of sslyze's import and a scan never uses them. Each test runs in a fresh interpreter, where sslyze
has not been imported yet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> str:
    finished = subprocess.run(
        [sys.executable, "-c", "from scanner.engine import load_probes\nload_probes()\n" + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return finished.stdout.strip()


def test_loading_the_probes_leaves_sslyzes_json_models_unbuilt():
    assert (
        _run(
            "from sslyze.plugins.robot.implementation import RobotScanResultAsJson\n"
            "print(RobotScanResultAsJson.__pydantic_complete__)"
        )
        == "False"
    )


def test_an_unbuilt_sslyze_model_still_serialises_a_result_when_asked():
    assert (
        _run(
            "from sslyze import RobotScanResultEnum\n"
            "from sslyze.plugins.robot.implementation import RobotScanResult, RobotScanResultAsJson\n"
            "result = RobotScanResult(robot_result=RobotScanResultEnum.NOT_VULNERABLE_NO_ORACLE)\n"
            "print(RobotScanResultAsJson.model_validate(result).model_dump_json())"
        )
        == '{"robot_result":"NOT_VULNERABLE_NO_ORACLE"}'
    )


def test_pydantic_models_defined_after_sslyze_are_built_at_once_as_usual():
    assert (
        _run(
            "import pydantic\n"
            "class Later(pydantic.BaseModel):\n"
            "    x: int\n"
            "print(Later.__pydantic_complete__, 'defer_build' in pydantic.BaseModel.model_config)"
        )
        == "True False"
    )


def test_loading_sslyzes_trust_stores_after_the_probes_prints_no_warning():
    # Without load_probes() cryptography warns here about a CA certificate in sslyze's bundled stores.
    code = (
        "from scanner.engine import load_probes\n"
        "load_probes()\n"
        "from sslyze.plugins.certificate_info.trust_stores.trust_store_repository import TrustStoresRepository\n"
        "TrustStoresRepository.get_default().get_all_stores()\n"
    )
    finished = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert (finished.returncode, finished.stderr) == (0, "")
