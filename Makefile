# candy_cadence_exporter. `make run` builds and starts the exporter; `make test` is what CI runs.
GO        ?= go
BIN       := candy_cadence_exporter
SIM       := candy_cadence_sim
PKG       := github.com/candy-cadence/candy_cadence_exporter
BUILD_DIR := .build
TOOLS_BIN := $(CURDIR)/.tools/bin

# Build settings: this block is the one place for build tags and linker flags. `make build`,
# `crossbuild` and `release` use it; .promu.yml mirrors it for those who build with promu, and
# TestPromuAgreesWithMakefile (release_test.go, part of `make test`) fails when the two differ
# (`make -s build-config` prints what it compares).
VERSION    := $(shell cat VERSION)
REVISION   := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     := $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER ?= $(shell whoami)@$(shell hostname)
# The build date is the commit's, not the clock's, so that building a commit twice gives the
# same binaries and archives (SOURCE_DATE_EPOCH as reproducible-builds.org defines it).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
BUILD_DATE := $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y%m%d-%H:%M:%S)
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
# -trimpath: no path of the build machine in the binaries (reproducible, and nothing private).
GO_BUILD := $(GO) build -trimpath -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS) $(STATIC)'
# The Windows build that the logon task starts: the GUI subsystem, so that Windows never gives
# it a console window (see deploy/windows/README.md). Same code, same flags otherwise.
WINDOWS_NOWINDOW_LDFLAGS := -H windowsgui

# What a release holds besides the binaries (every command under cmd/), on which platforms.
# dashboards/ joins when it exists: paths that do not exist are left out here and must not
# be listed in .promu.yml either.
COMMANDS          := $(notdir $(wildcard cmd/*))
RELEASE_FILES     := README.md LICENSE CHANGELOG.md rules dashboards deploy
RELEASE_PLATFORMS := linux/amd64 windows/amd64
RELEASE_DIR       := $(BUILD_DIR)/release
RELEASE_PREFIX    := $(BIN)-$(VERSION)

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
# A count, not a duration: with a duration Go 1.26's fuzzing coordinator can fail the target with
# "context deadline exceeded" and no crasher when the deadline races its workers' shutdown
# (golang/go#75804, fixed in Go 1.27); a count has no deadline. 500000 runs take about 10 s here.
FUZZTIME ?= 500000x
# Tests, vet and staticcheck need FTS5 too (internal/appsim creates the application's FTS5
# tables); a -tags on the command line, as in build, replaces this one.
export GOFLAGS += -tags=sqlite_fts5

.PHONY: all build run test unit server-test exactness fuzz rules-test lint fmt vet staticcheck crossbuild build-windows tools clean \
        release release-linux-amd64 release-windows-amd64 release-test build-config demo e2e

all: lint build test

build:
	$(GO_BUILD) -o $(BIN) ./cmd/$(BIN)
	$(GO_BUILD) -o $(SIM) ./cmd/$(SIM)

run: build
	./$(BIN) $(ARGS)

# The release is built and checked when it can be (mingw for the Windows binaries);
# otherwise the Windows code is at least compiled.
test: lint unit server-test e2e exactness fuzz rules-test $(if $(WINDOWS_CC),release-test,build-windows)

# The tests that start a real Prometheus or Alertmanager: `unit` leaves them to `server-test`,
# so that unit tests need no server binaries.
SERVER_TESTS := ^(TestEndToEndWithPrometheusAndAlertmanager|TestInhibition)$$

# The tests that run promtool: rules-test runs them with $(PROMTOOL).
PROMTOOL_TESTS := ^TestAlertBudget$$

# Every other test, the long ones included (go test -short leaves those out while iterating).
unit:
	$(GO) test -race -count=1 -skip '$(SERVER_TESTS)|$(PROMTOOL_TESTS)' ./...

# Override the tools to check another Prometheus generation, e.g. the pinned 3.x builds:
# make server-test PROMETHEUS=$PWD/.tools/bin/prometheus ALERTMANAGER=$PWD/.tools/bin/alertmanager
server-test: $(PROMETHEUS) $(ALERTMANAGER)
	PROMETHEUS=$(PROMETHEUS) ALERTMANAGER=$(ALERTMANAGER) \
	  $(GO) test -race -count=1 -run '$(SERVER_TESTS)' ./cmd/... ./rules

# Issue 15's bar: at the application's normal pace every log record is read exactly once, ten
# runs of 20 s in a row. Alone (not beside the other packages' tests, as in unit, which runs it
# once) and without the race detector, as the exporter runs.
EXACT_RUNS ?= 10
exactness:
	$(GO) test -count=1 -run '^TestNormalRateExact$$' -timeout 15m ./internal/tailer -tailer.exact.runs $(EXACT_RUNS)

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

# A brief run of each fuzz test beyond its seed corpus (which `unit` already runs); longer by
# hand: make fuzz FUZZTIME=30000000x (a duration such as 10m works too, see FUZZTIME above)
fuzz:
	$(GO) test -run XXX -fuzz '^FuzzParseLine$$' -fuzztime $(FUZZTIME) ./internal/applog

# The rules bundle and the deploy configs, checked and tested with the tools that load them
# (both must pass with Debian's promtool 2.x/amtool 0.25 and the pinned 3.x/0.35).
# Coverage of runbook, docs and tests is checked by the Go tests in rules/ (part of unit); the
# alert budget (TestAlertBudget: scenarios of whole days through promtool) runs here.
rules-test: $(PROMTOOL) $(AMTOOL)
	$(PROMTOOL) check rules rules/*.yml
	$(PROMTOOL) test rules rules/tests/*.yml
	$(PROMTOOL) check config deploy/prometheus/prometheus.yml
	$(AMTOOL) check-config deploy/alertmanager/alertmanager.yml
	AMTOOL=$(AMTOOL) deploy/alertmanager/routes_test.sh
	PROMTOOL=$(PROMTOOL) $(GO) test -count=1 -run '$(PROMTOOL_TESTS)' ./rules

# Grafana dashboards: dashboards/*.json is generated by internal/dashboards (Grafana Foundation
# SDK); regenerate after changing the Go code or the alerts' runbook addresses, and commit both.
# The tests in internal/dashboards (part of unit) fail when the committed JSON differs, and run
# every panel's queries against a live Prometheus; dashboards-check runs them alone.
.PHONY: dashboards dashboards-check
dashboards:
	$(GO) run ./internal/cmd/dashboardgen -out dashboards -rules rules

dashboards-check: $(PROMETHEUS)
	PROMETHEUS=$(PROMETHEUS) $(GO) test -count=1 -v -run . ./internal/dashboards

lint: fmt vet staticcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

vet:
	$(GO) vet ./...
	GOOS=windows CGO_ENABLED=0 $(GO) vet ./...

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

crossbuild: release-linux-amd64 release-windows-amd64

# Windows binaries need a mingw C compiler for go-sqlite3; without one the code is still
# compiled (without cgo) so that every Windows-only file of ours is checked.
build-windows:
ifneq ($(WINDOWS_CC),)
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$(WINDOWS_CC) $(GO_BUILD) -o $(BUILD_DIR)/windows-amd64/$(BIN).exe ./cmd/$(BIN)
else
	@echo "x86_64-w64-mingw32-gcc not found: building windows/amd64 without cgo (apt-get install gcc-mingw-w64-x86-64 for the real build)"
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -trimpath -tags '$(GO_TAGS)' -ldflags '$(LDFLAGS)' -o $(BUILD_DIR)/windows-amd64/$(BIN).exe ./cmd/$(BIN)
endif

# make release: one archive per platform in .build/release/ with every command, the files of
# RELEASE_FILES that exist, and sha256sums.txt. Same commit, same toolchain: same bytes.
release: release-linux-amd64 release-windows-amd64
	cd $(RELEASE_DIR) && sha256sum $(RELEASE_PREFIX).*.tar.gz $(RELEASE_PREFIX).*.zip > sha256sums.txt
	@cat $(RELEASE_DIR)/sha256sums.txt

release-linux-amd64:
	rm -rf $(BUILD_DIR)/linux-amd64 && mkdir -p $(BUILD_DIR)/linux-amd64 $(RELEASE_DIR)
	for cmd in $(COMMANDS); do \
	  GOOS=linux GOARCH=amd64 CGO_ENABLED=1 $(GO_BUILD) -o $(BUILD_DIR)/linux-amd64/$$cmd ./cmd/$$cmd || exit 1; \
	done
	$(GO) run ./internal/cmd/releasearchive -o $(RELEASE_DIR)/$(RELEASE_PREFIX).linux-amd64.tar.gz \
	  -prefix $(RELEASE_PREFIX).linux-amd64 -mtime $(SOURCE_DATE_EPOCH) \
	  $(BUILD_DIR)/linux-amd64/* $(wildcard $(RELEASE_FILES))

release-windows-amd64:
ifeq ($(WINDOWS_CC),)
	@echo "release-windows-amd64: x86_64-w64-mingw32-gcc not found (apt-get install gcc-mingw-w64-x86-64)"; exit 1
endif
	rm -rf $(BUILD_DIR)/windows-amd64 && mkdir -p $(BUILD_DIR)/windows-amd64 $(RELEASE_DIR)
	for cmd in $(COMMANDS); do \
	  GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$(WINDOWS_CC) $(GO_BUILD) -o $(BUILD_DIR)/windows-amd64/$$cmd.exe ./cmd/$$cmd || exit 1; \
	done
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$(WINDOWS_CC) $(GO) build -trimpath -tags '$(GO_TAGS)' \
	  -ldflags '$(LDFLAGS) $(STATIC) $(WINDOWS_NOWINDOW_LDFLAGS)' -o $(BUILD_DIR)/windows-amd64/$(BIN)_nowindow.exe ./cmd/$(BIN)
	$(GO) run ./internal/cmd/releasearchive -o $(RELEASE_DIR)/$(RELEASE_PREFIX).windows-amd64.zip \
	  -prefix $(RELEASE_PREFIX).windows-amd64 -mtime $(SOURCE_DATE_EPOCH) \
	  $(BUILD_DIR)/windows-amd64/* $(wildcard $(RELEASE_FILES))

# Builds the release and checks what is in it (layout, checksums, --version of the Linux
# binary): TestReleaseArchives in release_test.go, which skips when no release was built.
release-test: release
	CANDY_CADENCE_RELEASE_DIR=$(CURDIR)/$(RELEASE_DIR) $(GO) test -count=1 -run '^TestRelease' .

# What TestPromuAgreesWithMakefile compares with .promu.yml.
build-config:
	@echo 'tags=$(GO_TAGS)'
	@echo 'flags=-trimpath'
	@echo 'ldflags=$(LDFLAGS) $(STATIC)'
	@echo 'commands=$(COMMANDS)'
	@echo 'release_files=$(wildcard $(RELEASE_FILES))'
	@echo 'platforms=$(RELEASE_PLATFORMS)'
	@echo 'version=$(VERSION)'
	@echo 'revision=$(REVISION)'

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
