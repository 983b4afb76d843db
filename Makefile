# Veil — the two commands: `make up` (run it) and `make test` (prove it).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
export PYTHONPATH := $(CURDIR)

.PHONY: help install proto lint test unit up down status chat bench bench-notifier chaos clean

help:
	@echo "make up      run Veil locally (emulator unless VEIL_BOT_TOKEN is set; prints the sandbox URL)"
	@echo "make chat    talk to the local bot as a member (after make up)"
	@echo "make down    stop everything started by make up"
	@echo "make test    lint, then the whole suite against real Postgres/Redis/gRPC"
	@echo "make unit    the unit layer only (tests/unit: pure code, no stack; seconds)"
	@echo "make bench   open-loop mixed load through the real stack (k6), against stock aiogram"
	@echo "make bench-notifier  a burst through the notifier under Telegram's flood limits"
	@echo "make chaos   faults under load (2 of every process behind nginx); ledger and alerts"
	@echo "make proto   regenerate gRPC code from protos/"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

proto: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(PY) -m grpc_tools.protoc -Iprotos \
		--python_out=. --grpc_python_out=. --mypy_out=. --mypy_grpc_out=. \
		protos/veil/v1/*.proto
	@touch veil/v1/__init__.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

test: lint
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

up: $(STAMP)
	$(PY) -m tools.devstack up

down: $(STAMP)
	$(PY) -m tools.devstack down

status: $(STAMP)
	$(PY) -m tools.devstack status

chat: $(STAMP)
	$(PY) -m tools.chat --emulator http://127.0.0.1:58081 --bot $$($(PY) -m tools.devstack bot-id) --user $${VEIL_CHAT_USER:-1001}

bench: $(STAMP)
	$(PY) -m tools.bench

bench-notifier: $(STAMP)
	$(PY) -m tools.bench.notifier

chaos: $(STAMP)
	$(PY) -m tools.chaos

clean: down
	rm -rf .veil
