# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run test lint typecheck contracts unit bench soak fonts hsm sync clean demo

.tools/bin/uv:
	@command -v uv >/dev/null 2>&1 || { python3 -m venv .tools && .tools/bin/pip install -q uv; }

sync: .tools/bin/uv
	@$(UV) sync --frozen

fonts:
	@bash scripts/ensure-cjk-font.sh

hsm:
	@bash scripts/ensure-softhsm.sh

run: sync fonts hsm
	$(UV) run smart-teller run --simulated

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck: sync
	$(UV) run mypy bank hostlink kiosk app devices ui simulators benchmarks

contracts: sync
	$(UV) run lint-imports

unit: sync hsm
	QT_QPA_PLATFORM=offscreen $(UV) run pytest -q -m "not soak" -n 2 --dist worksteal --durations=20

test: lint typecheck contracts unit

bench: sync hsm
	QT_QPA_PLATFORM=offscreen $(UV) run smart-teller bench --out bench.json

soak: sync
	QT_QPA_PLATFORM=offscreen $(UV) run pytest -q -m soak

demo: sync hsm
	QT_QPA_PLATFORM=offscreen $(UV) run smart-teller demo enquiry --out demo-out

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache
