# candy_cadence_exporter. `make run` builds and starts the exporter; `make test` is what CI runs.
GO        ?= go
BIN       := candy_cadence_exporter
SIM       := candy_cadence_sim
PKG       := github.com/candy-cadence/candy_cadence_exporter
BUILD_DIR := .build
TOOLS_BIN := $(CURDIR)/.tools/bin

VERSION    := $(shell cat VERSION)
REVISION   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER := $(shell whoami)@$(shell hostname)
BUILD_DATE := $(shell date -u +%Y%m%d-%H:%M:%S)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS := -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
           -X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
           -X $(VERSION_PKG).BuildDate=$(BUILD_DATE)
# Released binaries are linked statically: they run on any desktop whatever its C library,
# and without a shared libc mapped they stay smaller in memory. The tags keep everything that
# would need the dynamic loader out (the cgo DNS resolver and user lookup, SQLite extensions).
# sqlite_fts5: the application's library has FTS5 tables, which PRAGMA quick_check verifies.
GO_TAGS := netgo osusergo sqlite_omit_load_extension sqlite_fts5
STATIC  := -linkmode external -extldflags "-static"

# Pinned tool versions, fetched into .tools/bin when not already on PATH.
PROMTOOL_VERSION    := v0.316.0
AMTOOL_VERSION      := v0.35.0
# The Alertmanager server since v0.32 embeds a web UI that its Go module does not ship, so
# `go install` fails for it; v0.31.1 is the newest server that installs from the module proxy.
ALERTMANAGER_VERSION := v0.31.1
STATICCHECK_VERSION := v0.8.2
PROMTOOL    := $(or $(shell command -v promtool 2>/dev/null),$(TOOLS_BIN)/promtool)
AMTOOL      := $(or $(shell command -v amtool 2>/dev/null),$(TOOLS_BIN)/amtool)
# The servers of the end-to-end test (Debian names its Alertmanager prometheus-alertmanager).
PROMETHEUS   := $(or $(shell command -v prometheus 2>/dev/null),$(TOOLS_BIN)/prometheus)
ALERTMANAGER := $(or $(shell command -v prometheus-alertmanager 2>/dev/null),$(shell command -v alertmanager 2>/dev/null),$(TOOLS_BIN)/alertmanager)
STATICCHECK := $(or $(shell command -v staticcheck 2>/dev/null),$(TOOLS_BIN)/staticcheck)

# The Windows build needs a mingw C compiler for go-sqlite3; without one it is built
# without cgo, which still compiles every Windows-only file of ours.
WINDOWS_CC := $(shell command -v x86_64-w64-mingw32-gcc 2>/dev/null)
ARGS ?=
FUZZTIME ?= 10s
# Tests, vet and staticcheck need FTS5 too (internal/appsim creates the application's FTS5
# tables); a -tags on the command line, as in build, replaces this one.
export GOFLAGS += -tags=sqlite_fts5

.PHONY: all build run test unit fuzz rules-test lint fmt vet staticcheck crossbuild build-windows tools clean demo e2e

all: lint build test

build:
	$(GO) build -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS) $(STATIC)' -o $(BIN) ./cmd/$(BIN)
	$(GO) build -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS) $(STATIC)' -o $(SIM) ./cmd/$(SIM)

run: build
	./$(BIN) $(ARGS)

test: lint unit fuzz rules-test build-windows e2e

# Override the tools to check another Prometheus generation, e.g. the pinned 3.x builds:
# make unit PROMETHEUS=$PWD/.tools/bin/prometheus ALERTMANAGER=$PWD/.tools/bin/alertmanager
unit: $(PROMTOOL) $(AMTOOL) $(PROMETHEUS) $(ALERTMANAGER)
	PROMTOOL=$(PROMTOOL) AMTOOL=$(AMTOOL) PROMETHEUS=$(PROMETHEUS) ALERTMANAGER=$(ALERTMANAGER) \
	  $(GO) test -race -count=1 ./...

# A brief run of each fuzz test beyond its seed corpus (which `unit` already runs); longer by
# hand: make fuzz FUZZTIME=10m
fuzz:
	$(GO) test -run XXX -fuzz '^FuzzParseLine$$' -fuzztime $(FUZZTIME) ./internal/applog

# A simulated fleet against the real Prometheus and Alertmanager with the shipped rules and
# routing: one line per fault, the calm phase, the recording rules (docs/simulator.md).
e2e: build $(PROMETHEUS) $(ALERTMANAGER)
	CANDY_CADENCE_E2E=1 SIM_BINARY=$(CURDIR)/$(SIM) EXPORTER_BINARY=$(CURDIR)/$(BIN) \
	  PROMETHEUS=$(PROMETHEUS) ALERTMANAGER=$(ALERTMANAGER) \
	  $(GO) test -count=1 -v -timeout 20m -run '^TestFleetEndToEnd$$' ./cmd/$(SIM)

# FLEET simulated workstations, each with its exporter, a real Prometheus and Alertmanager,
# until Ctrl-C. DEMO_ARGS passes flags, e.g. DEMO_ARGS=--for-divisor=60 for alerts in seconds.
FLEET ?= 3
DEMO_ARGS ?=
demo: build $(PROMETHEUS) $(ALERTMANAGER)
	./$(SIM) demo --workstations $(FLEET) --exporter $(CURDIR)/$(BIN) \
	  --prometheus $(PROMETHEUS) --alertmanager $(ALERTMANAGER) $(DEMO_ARGS)

# The rules bundle and the deploy configs, checked and tested with the tools that load them
# (both must pass with Debian's promtool 2.x/amtool 0.25 and the pinned 3.x/0.35).
# Coverage of runbook, docs and tests is checked by the Go tests in rules/ (part of unit).
rules-test: $(PROMTOOL) $(AMTOOL)
	$(PROMTOOL) check rules rules/*.yml
	$(PROMTOOL) test rules rules/tests/*.yml
	$(PROMTOOL) check config deploy/prometheus/prometheus.yml
	$(AMTOOL) check-config deploy/alertmanager/alertmanager.yml
	AMTOOL=$(AMTOOL) deploy/alertmanager/routes_test.sh

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=windows CGO_ENABLED=0 $(GO) vet ./...

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

crossbuild:
	GOOS=linux GOARCH=amd64 CGO_ENABLED=1 $(GO) build -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS) $(STATIC)' -o $(BUILD_DIR)/linux-amd64/$(BIN) ./cmd/$(BIN)
	$(MAKE) build-windows

build-windows:
ifneq ($(WINDOWS_CC),)
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$(WINDOWS_CC) $(GO) build -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS) $(STATIC)' -o $(BUILD_DIR)/windows-amd64/$(BIN).exe ./cmd/$(BIN)
else
	@echo "x86_64-w64-mingw32-gcc not found: building windows/amd64 without cgo (apt-get install gcc-mingw-w64-x86-64 for the real build)"
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/windows-amd64/$(BIN).exe ./cmd/$(BIN)
endif

tools: $(PROMTOOL) $(AMTOOL) $(PROMETHEUS) $(ALERTMANAGER) $(STATICCHECK)

$(TOOLS_BIN)/promtool:
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)

$(TOOLS_BIN)/amtool:
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/prometheus/alertmanager/cmd/amtool@$(AMTOOL_VERSION)

$(TOOLS_BIN)/prometheus:
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/prometheus/prometheus/cmd/prometheus@$(PROMTOOL_VERSION)

$(TOOLS_BIN)/alertmanager:
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/prometheus/alertmanager/cmd/alertmanager@$(ALERTMANAGER_VERSION)

$(TOOLS_BIN)/staticcheck:
	GOBIN=$(TOOLS_BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

clean:
	rm -rf $(BIN) $(SIM) $(BUILD_DIR)
