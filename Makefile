# gapspider: the two commands a new machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast dashboard bench bench-fetch postgres chromium clean

install: $(STAMP)

$(STAMP): requirements.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

## The whole fetch, offline, against the Gap replica, on SQLite (tmp/gapspider.db).
demo: install
	$(PY) scripts/demo.py

## Install, make sure PostgreSQL runs and Chromium is there, run the whole suite.
test: install postgres chromium
	$(PY) -m pytest -q -p no:cacheprovider tests

test-fast: install postgres
	$(PY) -m pytest -q -p no:cacheprovider -m "not browser" tests

postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		echo "Starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | sort -V | tail -n 1) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
		pg_isready -h 127.0.0.1 -p 5432; }

chromium:
	@test -x /usr/bin/chromium || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## The Gap replica, a real scrapyd and the Flask dashboard on loopback ports (see dashboard/README.md).
dashboard: install
	$(PY) -m dashboard.run

bench: install
	$(PY) benchmarks/bench_parsing.py

## A whole fetch against the replica, timed per stage, with peak memory: the real captures (241 products), then
## ~1,000 synthetic ones. BENCH_FETCH_ARGS=--postgres also runs each on a scratch PostgreSQL database.
bench-fetch: install
	$(PY) benchmarks/bench_fetch.py $(BENCH_FETCH_ARGS)
	$(PY) benchmarks/bench_fetch.py --products 1000 $(BENCH_FETCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
