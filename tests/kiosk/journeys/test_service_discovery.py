"""The services menu finds every logged-in service a journey module offers, with no list kept by hand."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import kiosk.journeys

JOURNEYS = Path(kiosk.journeys.__file__).parent


def services_declared_in_the_source() -> set[str]:
    actions: set[str] = set()
    for path in JOURNEYS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "register_logged_in_service"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                actions.add(str(node.args[0].value))
    return actions


def test_a_fresh_process_offers_every_service_a_journey_module_registers() -> None:
    # A fresh interpreter that imports only the menu: nothing else has imported the journey modules.
    program = (
        "import json; from kiosk.journeys.session import logged_in_services;"
        "print(json.dumps([s.action for s in logged_in_services()]))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    offered = json.loads(done.stdout)
    declared = services_declared_in_the_source()
    assert declared >= {"bill_payment", "loan", "wealth_advice", "change_pin"}
    assert set(offered) == declared
    assert offered == ["bill_payment", "loan", "wealth_advice", "change_pin"]  # menu order by `order`
