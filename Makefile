# The two set-up commands of the README: `make run` starts the app, `make test` runs the tests.
# Both install what they need on a fresh Debian (apt packages as root, or through sudo).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Qt's xcb platform plugin, an X server for headless runs, and the real services the tests drive.
APT_RUNTIME := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 \
  libxcb-keysyms1 libxcb-shape0 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 \
  libxcb-randr0 libfontconfig1 libdbus-1-3 libglib2.0-0
APT_TEST := qbittorrent-nox ffmpeg nginx-light openssl xvfb xauth binutils e2fsprogs

.PHONY: run test lint unit system-deps test-deps venv bench translations clean

system-deps:
	@dpkg -s $(APT_RUNTIME) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_RUNTIME) >/dev/null; }

test-deps: system-deps
	@dpkg -s $(APT_TEST) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_TEST) >/dev/null; }

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

run: system-deps venv
	$(VENV)/bin/earmark

lint: venv
	$(VENV)/bin/ruff check gui tests bench
	$(VENV)/bin/mypy

test: test-deps venv lint packaging-deps
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q -p no:cacheprovider

bench: test-deps venv
	$(PY) bench/sync_scale.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/table_refresh.py
	$(PY) bench/ranking_speed.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/library_view.py

# The translators' template: every tr()/translate()/QT_TRANSLATE_NOOP string of gui/.
translations: venv
	$(VENV)/bin/pyside6-lupdate -no-obsolete -locations relative $$(find gui -name '*.py' | sort) -ts resources/translations/earmark.ts

clean:
	rm -rf $(VENV) build dist *.egg-info

include packaging/Makefile.inc
