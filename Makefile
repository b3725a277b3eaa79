# The two commands a newcomer needs: `make up` runs the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := mock-idp target-api source-api web-app
PACKAGES := common $(SERVICES) tools
REQUIREMENTS := requirements-dev.txt $(foreach s,$(SERVICES),$(s)/requirements.txt) e2e-tests/requirements.txt common/pyproject.toml \
	common/testing_support/pyproject.toml common/serving/pyproject.toml tools/pyproject.toml \
	$(foreach s,$(SERVICES),$(s)/pyproject.toml)

.DEFAULT_GOAL := help
.PHONY: help up down stop start test test-containers unit e2e lint compose-check bench load portability clean env tokens code reset walkthrough screenshots

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# One line per step, so the first run (about 40 s) does not look stuck; pip's own
# output stays quiet, its errors do not. On stderr: `eval "$(make -s env)"` (and tokens,
# code) read stdout, which must hold only the assignments even on the first run.
$(BIN)/.installed: $(REQUIREMENTS)
	@echo "make: creating the virtual environment in $(VENV) (first run, or a requirements file changed)" >&2
	@$(PYTHON) -m venv $(VENV)
	@set -e; for r in $(filter %.txt,$(REQUIREMENTS)); do \
		echo "make: installing $$r" >&2; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $$r; \
	done
	@echo "make: installing ./common (obo_common)" >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ./common
	@echo "make: installing ./common/testing_support (obo_testing, for the unit tests only)" >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ./common/testing_support
	@echo "make: installing ./common/serving (obo_serving: the gunicorn worker and healthcheck)" >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ./common/serving
	@echo "make: installing ./tools (the local stack, workshop, container test and benchmark tools)" >&2
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ./tools
	@set -e; for s in $(SERVICES); do \
		echo "make: installing ./$$s (for the e2e suite, which imports its settings and rules)" >&2; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e ./$$s; \
	done
	@touch $@
	@echo "make: virtual environment ready" >&2

up: $(BIN)/.installed ## Run the demo (Docker Compose if an engine answers, local processes otherwise)
	./tools/local_stack/up.sh

down: ## Stop what `make up` started
	./tools/local_stack/down.sh

stop: $(BIN)/.installed ## Stop one service, the others keep running: make stop SERVICE=target-api
	@$(BIN)/python -m local_stack.service_control stop "$(SERVICE)"

start: $(BIN)/.installed ## Start again a service stopped with make stop: make start SERVICE=target-api
	@$(BIN)/python -m local_stack.service_control start "$(SERVICE)"

test: lint unit e2e compose-check ## Run every test (creates the virtual environment on first use)

unit: $(BIN)/.installed ## Unit tests of each service, of the shared packages and of the tools
	@set -e; for s in $(PACKAGES); do echo "== $$s"; (cd $$s && ../$(BIN)/python -m pytest -q); done

e2e: $(BIN)/.installed ## End-to-end tests against the services started as real processes
	cd e2e-tests && ../$(BIN)/python -m pytest -q

TYPED := common/obo_common mock-idp/mock_idp target-api/target_api source-api/source_api web-app/web_app

lint: $(BIN)/.installed ## ruff (rules and formatting) and mypy over the repository
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@set -e; for p in $(TYPED); do \
		echo "mypy $$p"; (cd $$(dirname $$p) && ../$(BIN)/mypy --config-file ../mypy.ini $$(basename $$p)); \
	done

compose-check: ## Validate docker-compose.yml and its scale, https and tenant overrides (skipped without docker-compose)
	@if command -v docker-compose >/dev/null 2>&1; then \
		docker-compose -f docker-compose.yml config --quiet && echo "docker-compose.yml is valid" && \
		SOURCE_API_TOKEN_CACHE_KEY=any docker-compose -f docker-compose.yml -f docker-compose.scale.yml config --quiet && \
		echo "docker-compose.yml with docker-compose.scale.yml is valid" && \
		docker-compose -f docker-compose.yml -f docker-compose.https.yml config --quiet && \
		echo "docker-compose.yml with docker-compose.https.yml is valid" && \
		docker-compose -f docker-compose.yml -f docker-compose.tenant.yml config --quiet && \
		echo "docker-compose.yml with docker-compose.tenant.yml is valid"; \
	else echo "compose-check skipped: docker-compose is not installed (.ci/run installs it)"; fi
	$(BIN)/python -m container_test.check_dockerfiles

test-containers: $(BIN)/.installed ## Build the images and test the compose stack in containers (podman without Docker)
	$(BIN)/python -m container_test.containers_test

env: $(BIN)/.installed ## The demo's URLs and client secrets as shell variables: eval "$$(make -s env)" sets IDP, WEB, SRC, TGT
	@$(BIN)/python -m workshop.shell_variables

tokens: $(BIN)/.installed ## Log a demo user in and print the tokens as shell variables: eval "$(make -s tokens)" (ACR_VALUES=urn:mock:mfa: a stronger login)
	@$(BIN)/python -m workshop.demo_tokens $(if $(EMAIL),--email $(EMAIL)) $(if $(ACR_VALUES),--acr-values "$(ACR_VALUES)")

code: $(BIN)/.installed ## Log a demo user in, stop before the token request: eval "$(make -s code)" sets CODE, CODE_VERIFIER
	@$(BIN)/python -m workshop.demo_tokens --code $(if $(EMAIL),--email $(EMAIL))

reset: $(BIN)/.installed ## Put the running demo back to its start: tenant, keys, consents, logs, sessions, blocks, caches
	@$(BIN)/python -m workshop.reset_demo

walkthrough: $(BIN)/.installed ## The tutorial's five steps from the terminal, against the running demo (EMAIL=... for another user)
	@$(BIN)/python -m workshop.walkthrough $(if $(EMAIL),--email $(EMAIL))

screenshots: $(BIN)/.installed ## Take docs/workshop.md's pictures again from the running demo (resets it first)
	@$(BIN)/python -m workshop.screenshots

bench: $(BIN)/.installed ## The hop against its floors, the token endpoint (and a peer, if node is here): docs/benchmarks.md
	$(BIN)/python -m benchmarks.bench

portability: $(BIN)/.installed ## The APIs against a second provider with token exchange (authgent-server): docs/configuration.md
	$(BIN)/python -m portability.authgent_run

load: $(BIN)/.installed ## A bounded load run (many users, 60 s) against real processes on free ports: make load ARGS="--users 5"
	$(BIN)/python -m benchmarks.load_run $(ARGS)

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) .run */instance
