# Casebridge: `make run` serves the demo, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint install security screenshots token

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py compilemessages --ignore=.venv >/dev/null 2>&1 || true
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py load_demo
	@echo "Demo mode: two-factor authentication is OPTIONAL here (DEBUG=1); production requires it for coordinators and agency admins (REQUIRE_2FA_FOR_PRIVILEGED)."
	@echo "Casebridge: http://127.0.0.1:$(PORT)/admin/ (web admin), http://127.0.0.1:$(PORT)/api/docs/ (API docs)"
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# A partner system's API token on the demo database (or DATABASE_URL):
#   TOKEN=$$(make token AGENCY=KR-KNP ROLE=coordinator)
# Only the token goes to stdout; what was issued, and any error, to stderr
# (non-zero exit). NAME and DAYS are optional (DAYS=0: never expires). Not
# tied to $(STAMP): installing would print on stdout; `make run` installs.
AGENCY ?=
ROLE ?=
NAME ?= partner system
DAYS ?=
token:
	@test -x $(BIN)/python || { echo "No $(VENV): run 'make run' first." >&2; exit 1; }
	@test -n "$(AGENCY)" -a -n "$(ROLE)" || { echo "Usage: make token AGENCY=KR-KNP ROLE=coordinator [NAME=...] [DAYS=90]" >&2; exit 2; }
	@DEBUG=$${DEBUG:-1} $(BIN)/python manage.py issue_api_token --agency "$(AGENCY)" \
		--role "$(ROLE)" --name "$(NAME)" $(if $(DAYS),--expires-days "$(DAYS)")

test: $(STAMP)
	@bash scripts/ensure_services.sh
	DATABASE_URL=$$($(BIN)/python tests/db_url.py) SECRET_KEY=$${SECRET_KEY:-test-only-secret-key} \
		DECONFLICTION_HMAC_KEY=$${DECONFLICTION_HMAC_KEY:-test-only-hmac-key} \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# The cross-border story in Chromium, in English, Khmer and Korean
# (tests/system/story/); its screenshots are in test-results/story/<language>/, and a
# few of them (the case workspace, an MLA request, the notification list) are
# copied into docs/screenshots/ for the README. Fails as the story does, after
# copying what it took.
SCREENSHOTS := case-timeline:workspace mla-history:mla-request notification-list:notifications

screenshots: $(STAMP)
	status=0; $(MAKE) test PYTEST_ARGS="tests/system/story -m browser" || status=$$?; \
	mkdir -p docs/screenshots; \
	for lang in en km ko; do for pair in $(SCREENSHOTS); do \
		src=$$(ls test-results/story/$$lang/*-$${pair%%:*}.png 2>/dev/null | head -n 1); \
		if [ -n "$$src" ]; then cp "$$src" "docs/screenshots/$$lang-$${pair##*:}.png"; fi; \
	done; done; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/python scripts/check_translations.py

# bandit on the code, pip-audit on the dependencies (scripts/security_scan.py);
# SECURITY_STRICT=1 fails when the advisory service cannot be reached.
security: $(STAMP)
	$(BIN)/python scripts/security_scan.py
