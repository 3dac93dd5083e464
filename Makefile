# Dépêche: `make run` and `make test` are the two commands a fresh machine needs.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
INDEX   ?= $(or $(DEPECHE_INDEX),index)

.PHONY: run test install index serve browser bench eval clean opensearch opensearch-stop

# setup.py builds search/_kernels.c (the C scoring loops) with the system's C compiler.
$(STAMP): pyproject.toml setup.py search/_kernels.c
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

index: $(STAMP)
	DEPECHE_INDEX=$(INDEX) $(BIN)/depeche index rebuild seeds/

serve: $(STAMP)
	DEPECHE_INDEX=$(INDEX) $(BIN)/gunicorn -c gunicorn.conf.py 'web:create_app()'

run: index serve

# Chromium comes from Debian (never a browser download); only as root, and only when missing.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "chromium missing: browser tests will be skipped"; fi; fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n 2 tests

bench: $(STAMP)
	$(BIN)/python bench/index_speed.py
	$(BIN)/python bench/search_speed.py

eval: $(STAMP)
	$(BIN)/depeche eval --corpus orangesum
	$(BIN)/depeche eval --corpus piaf

# A local two-node OpenSearch cluster (opensearch/: Maven Central jars, Java 17) for the cluster
# backend's tests and benchmarks; `make run` never needs it. The cluster tests (-m opensearch)
# start it themselves for the session when it is not running, and stop it at the end.
opensearch:
	opensearch/cluster.sh start

opensearch-stop:
	opensearch/cluster.sh stop

clean:
	rm -rf $(VENV) build *.egg-info search/_kernels.*.so
