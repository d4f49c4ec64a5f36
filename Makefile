# Privilege — one entry point for contributors and CI.
GO        ?= go
PKGS      := ./...

.PHONY: run demo test deps generate fmt vet lint lint-selftest check bench docker

## golangci-lint, pinned, installed into .bin/ on first use (through the Go module proxy).
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT         := $(CURDIR)/.bin/golangci-lint

run:
	$(GO) run .

demo:
	$(GO) run . demo

## test: install what the tests need (Chromium), check generated code and formatting, run every test:
## all packages under the race detector, one package at a time (browser tests never share the CPU with the
## crash test), then the scale-out test (three replica processes) without it, as it would slow them tenfold.
test: deps check
	CGO_ENABLED=1 $(GO) test -race -count=1 -p 1 -timeout 30m -skip '^TestThreeReplicasShareABurst$$' $(PKGS)
	CGO_ENABLED=0 $(GO) test -count=1 -timeout 30m -run '^TestThreeReplicasShareABurst$$' .

## deps: Debian Chromium for the browser tests (skipped when present).
deps:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (browser tests)"; \
		SUDO=$$(command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

generate:
	$(GO) tool templ generate

fmt:
	gofmt -w $$(git ls-files '*.go')
	$(GO) tool templ fmt views

vet:
	$(GO) vet $(PKGS)

$(GOLANGCI_LINT):
	GOBIN=$(CURDIR)/.bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

## lint: the import direction (.golangci.yml, depguard); lint-selftest proves a forbidden import fails it.
lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

lint-selftest: $(GOLANGCI_LINT)
	GOLANGCI_LINT=$(GOLANGCI_LINT) .ci/lint-selftest

## check: generated code and formatting leave no diff; go vet and the import rules are clean.
check: vet lint lint-selftest
	$(GO) tool templ generate
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	@git diff --exit-code -- '*_templ.go' || { echo "templ generate changed files: commit them"; exit 1; }

## bench: benchmarks with their figures.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./models/
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./handlers/ ./jira/ .

docker:
	docker build -t privilege .
