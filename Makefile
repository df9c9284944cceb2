# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run test test-loaded lint typecheck contracts unit bench soak soak-wire fonts hsm kiosk-runtime sync clean demo

.tools/bin/uv:
	@command -v uv >/dev/null 2>&1 || { python3 -m venv .tools && .tools/bin/pip install -q uv; }

sync: .tools/bin/uv
	@$(UV) sync --frozen

fonts:
	@bash scripts/ensure-cjk-font.sh

hsm:
	@bash scripts/ensure-softhsm.sh

# The X libraries Qt's xcb plugin loads and espeak-ng for voice guidance (docs/developer-guide.md).
kiosk-runtime:
	@bash scripts/ensure-kiosk-runtime.sh

run: sync fonts hsm kiosk-runtime
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

soak: sync hsm
	QT_QPA_PLATFORM=offscreen $(UV) run pytest -q -m soak

# Only the long run of chaos between terminal and host (docs/reliability.md); SMART_TELLER_CHAOS_VISITS,
# SMART_TELLER_CHAOS_SEED and SMART_TELLER_CHAOS_SUMMARY (a JSON file of the figures) pass through.
soak-wire: sync hsm
	QT_QPA_PLATFORM=offscreen $(UV) run pytest -q -s -m soak tests/chaos

# `make test` while a CPU hog keeps both cores busy: what the suite meets on a loaded CI machine. The hogs
# are ended however make test ends (the trap also runs on failure and on Ctrl-C).
test-loaded:
	@hogs=""; \
	trap 'kill $$hogs 2>/dev/null; wait $$hogs 2>/dev/null' EXIT INT TERM; \
	for _ in 1 2; do python3 -c 'while True: pass' & hogs="$$hogs $$!"; done; \
	echo "CPU hogs:$$hogs"; \
	$(MAKE) test

demo: sync hsm
	QT_QPA_PLATFORM=offscreen $(UV) run smart-teller demo enquiry --out demo-out

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache
