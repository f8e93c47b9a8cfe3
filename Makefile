# The front door: the README's commands. Every target sets up .venv itself.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Re-made only when the requirements change.
STAMP := $(VENV)/.requirements-installed
PYTEST_ARGS ?=
# Test processes (pytest-xdist), each with its own MiniStack; PYTEST_WORKERS=0 runs every
# test in one process. On 2 cores, 2 workers: the whole suite took 574 s with 2 and 558 s with
# 3 (within the noise of a shared machine), the unit tests 122 s with 2 and 168 s with 3.
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help venv test test-unit lint typecheck demo bench readme-permissions sandbox-status sandbox-stop sandbox-reset clean

help:
	@echo "make demo           CRR and SRR on the shipped config, then one rule into a locked vault"
	@echo "                    in a backup account (config/examples/backup_account.py), then a failover and"
	@echo "                    failback (config/examples/failover.py), and a restore after a bad deploy,"
	@echo "                    in the local sandbox"
	@echo "make test           all tests, in PYTEST_WORKERS (2) processes; PYTEST_ARGS are pytest's"
	@echo "make test-unit      the quick loop: the tests that need no MiniStack (-m 'not e2e')"
	@echo "make lint           ruff"
	@echo "make typecheck      mypy (settings in pyproject.toml)"
	@echo "make readme-permissions  the README's caller-permissions list, from the permissions table"
	@echo "make bench          benchmarks (loopback, then at 50 ms per API call: BENCH_LATENCY_MS, then start-up)"
	@echo "make sandbox-status | sandbox-stop | sandbox-reset"
	@echo "make clean          stop and delete the sandbox, .venv and caches"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

test: venv
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-unit: venv
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

typecheck: venv
	$(VENV)/bin/mypy

demo: venv
	@echo "== Cross-Region Replication (cr_replication.py --sandbox)"
	$(PY) cr_replication.py --sandbox
	@echo "== Same-Region Replication (sr_replication.py --sandbox)"
	$(PY) sr_replication.py --sandbox
	@echo "== Sample shop objects, one per rule: source COMPLETED, replica REPLICA"
	$(PY) -m s3replication.sandbox.demo
	@echo "== Canary per rule: write, wait for the replica, measure, clean up (verify)"
	$(PY) cr_replication.py verify --sandbox && $(PY) sr_replication.py verify --sandbox
	@echo "== Nothing left to change (plan exits 0)"
	$(PY) cr_replication.py plan --sandbox && $(PY) sr_replication.py plan --sandbox
	@echo "== The vault: order records into a bucket of backup account 222222222222 under Object Lock"
	@echo "   COMPLIANCE retention; production reads it, the backup account's admins write it"
	$(PY) cr_replication.py --sandbox --config config/examples/backup_account.py apply
	@echo "== A sample order under that rule: the replica, read with the backup account's own keys"
	$(PY) -m s3replication.sandbox.demo config/examples/backup_account.py
	@echo "== The lock: a version in the vault that no one can delete before its retention ends"
	$(PY) -m s3replication.sandbox.vault_demo config/examples/backup_account.py
	@echo "== Failover through a Multi-Region Access Point (config/examples/failover.py)"
	$(PY) cr_replication.py --sandbox --config config/examples/failover.py apply
	$(PY) cr_replication.py --sandbox --config config/examples/failover.py readiness
	$(PY) cr_replication.py --sandbox --config config/examples/failover.py failover storefront --to shopco-web-usw2 --yes
	$(PY) cr_replication.py --sandbox --config config/examples/failover.py status
	$(PY) cr_replication.py --sandbox --config config/examples/failover.py plan
	@echo "== Failback: MiniStack publishes no replication metrics, so the backlog toward the old primary"
	@echo "   is unknown and failback refuses (exit 3) without --force; on AWS, wait for 'pending 0'"
	$(PY) cr_replication.py --sandbox --config config/examples/failover.py failback storefront --yes --force
	@echo "== A bad deploy rewrites and deletes catalog records; restore brings catalog/ back to the moment before it"
	@moment=$$($(PY) -m s3replication.sandbox.restore_demo) && \
	  echo "$(PY) cr_replication.py --sandbox restore --to $$moment --rule catalog-usw2 (the plan: exit 3)" && \
	  { $(PY) cr_replication.py --sandbox restore --to $$moment --rule catalog-usw2; test $$? -eq 3; } && \
	  $(PY) cr_replication.py --sandbox restore --to $$moment --rule catalog-usw2 --yes && \
	  $(PY) cr_replication.py --sandbox restore --to $$moment --rule catalog-usw2
	@echo "== The log (logs/replication_logs.txt), last lines"
	@tail -n 12 logs/replication_logs.txt
	@echo "Sandbox still running: 'make sandbox-stop' stops it, 'make sandbox-reset' wipes it."

readme-permissions: venv
	$(PY) -m s3replication.commands.permissions_readme --readme

bench: venv
	$(PY) bench/run.py
	$(PY) bench/latency_bench.py
	$(PY) bench/startup_bench.py
	$(PY) bench/restore_bench.py

# exit 3 (not running) is an answer, not a failure of make; any other failure still is
sandbox-status: venv
	@$(PY) -m s3replication.sandbox status || [ $$? -eq 3 ]

sandbox-stop: venv
	$(PY) -m s3replication.sandbox stop

sandbox-reset: venv
	$(PY) -m s3replication.sandbox reset

clean:
	if [ -x $(PY) ]; then $(PY) -m s3replication.sandbox reset; fi
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache bench/.work
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
