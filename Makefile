SHELL := /bin/bash
# wasmeow: `make demo` runs the demo on the embedded offline server,
# `make test` runs every test. Both install what a fresh Debian machine lacks.

GO        ?= go
TOOLS     := $(CURDIR)/.tools/bin
DIST      := $(CURDIR)/dist
CHROMIUM  ?= /usr/bin/chromium
WASMBROWSERTEST_VERSION := v0.11.0
# staticcheck 2026.2.2 (honnef.co/go/tools v0.8.2), which builds with Go 1.26;
# its checks are in staticcheck.conf.
STATICCHECK_VERSION := v0.8.2
WASM_ENV  := GOOS=js GOARCH=wasm
# Go packages that run in headless chromium (real IndexedDB) under wasmbrowsertest.
WASM_TEST_PKGS ?= $(shell GOOS=js GOARCH=wasm $(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./idbstore/... ./kv/... ./jsbridge/... 2>/dev/null)
# Go packages built for js/wasm, vetted and linted as such.
WASM_LINT_PKGS := ./wasm ./core ./jsbridge/... ./idbstore/... ./kv/...

export CHROMIUM

.PHONY: all deps postgresql wasm package test test-native test-wasm test-e2e demo bench bench-e2e bench-sessiond bench-fleet traces clean hidden-tab

all: wasm

## ---- set-up ---------------------------------------------------------------

deps: $(CHROMIUM) $(TOOLS)/wasmbrowsertest $(TOOLS)/staticcheck web/node_modules/.installed postgresql

# PostgreSQL server binaries for the session service's tests (sessiond/pgtest
# runs initdb and postgres from /usr/lib/postgresql/<version>/bin in a
# temporary folder; no system cluster is used), and openssl, which makes the
# self-signed certificate of the service's HTTPS tests (bench-fleet).
PG_INITDB := $(lastword $(sort $(wildcard /usr/lib/postgresql/*/bin/initdb)))
postgresql:
	@{ test -n "$(PG_INITDB)" && test -x /usr/bin/openssl; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql openssl; }

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium brotli

/usr/bin/brotli:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq brotli

$(TOOLS)/wasmbrowsertest:
	GOBIN=$(TOOLS) $(GO) install github.com/agnivade/wasmbrowsertest@$(WASMBROWSERTEST_VERSION)

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

## ---- build ----------------------------------------------------------------

wasm: $(DIST)/wasmeow.wasm $(DIST)/wasm_exec.js $(DIST)/wasmeow.js $(DIST)/wasmeow.d.ts

$(DIST)/wasmeow.wasm: $(shell find . -name '*.go' -not -path './.tools/*') go.mod go.sum | /usr/bin/brotli
	@mkdir -p $(DIST)
	$(WASM_ENV) $(GO) build -trimpath -ldflags="-s -w" -o $@ ./wasm
	@printf 'wasmeow.wasm: %s bytes raw, %s bytes brotli\n' \
		"$$(wc -c < $@)" "$$(brotli -c -q 11 $@ | wc -c)"

$(DIST)/wasm_exec.js: $(shell $(GO) env GOROOT)/lib/wasm/wasm_exec.js
	@mkdir -p $(DIST)
	cp $< $@

# dist/ is the deployable set: the module, its types, the wasm and Go's loader.
$(DIST)/wasmeow.js $(DIST)/wasmeow.d.ts: $(DIST)/%: web/%
	@mkdir -p $(DIST)
	cp $< $@

## ---- npm package ----------------------------------------------------------

# `make package`: the npm package wasmeow (web/package/), packed into
# dist/npm/wasmeow-<version>.tgz, and the test kit (dist/npm/kit/, below);
# not published from here.
package: $(DIST)/npm/.packed $(DIST)/npm/kit/.packed

$(DIST)/wasmeow.wasm.br: $(DIST)/wasmeow.wasm | /usr/bin/brotli
	brotli -c -q 11 $< > $@.tmp && mv $@.tmp $@

$(DIST)/wasmeow.wasm.gz: $(DIST)/wasmeow.wasm
	gzip -9 -c $< > $@.tmp && mv $@.tmp $@

$(DIST)/npm/.packed: $(DIST)/wasmeow.wasm $(DIST)/wasmeow.wasm.br $(DIST)/wasmeow.wasm.gz $(DIST)/wasm_exec.js \
		web/wasmeow.js web/wasmeow.d.ts $(wildcard web/package/*)
	node web/package/build.mjs
	touch $@

# The test kit wasmeow-testing (web/testing/) and fakewa cross-built with CGO
# off into one optional package per platform, packed into dist/npm/kit/.
FAKEWA_PLATFORMS := linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64
FAKEWA_BINS := $(foreach p,$(FAKEWA_PLATFORMS),$(DIST)/fakewa/$(p)/fakewa$(if $(filter win32-%,$(p)),.exe))

$(FAKEWA_BINS): $(shell find fakewa cmd/fakewa -name '*.go') go.mod go.sum
	@mkdir -p $(@D)
	p=$(notdir $(@D)); os=$${p%-*}; arch=$${p#*-}; [ $$os = win32 ] && os=windows; [ $$arch = x64 ] && arch=amd64; \
	CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags="-s -w" -o $@ ./cmd/fakewa

$(DIST)/npm/kit/.packed: $(FAKEWA_BINS) web/package/package.json web/package/LICENSE $(wildcard web/testing/*)
	node web/testing/build.mjs
	touch $@

## ---- tests ----------------------------------------------------------------

test: deps
	$(MAKE) test-native
	$(MAKE) test-wasm
	$(MAKE) test-e2e

test-native: $(TOOLS)/staticcheck
	@bad="$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go'))"; \
		test -z "$$bad" || { echo "gofmt -l: not formatted:"; echo "$$bad"; exit 1; }
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...
	cd wsshim && $(GO) vet ./... && $(TOOLS)/staticcheck ./...
	$(GO) test -count=1 ./...
	cd wsshim && $(GO) test -count=1 ./...

test-wasm: $(TOOLS)/wasmbrowsertest $(TOOLS)/staticcheck
	@test -n "$(WASM_TEST_PKGS)" || { echo "no js/wasm test packages found"; exit 1; }
	$(WASM_ENV) $(GO) vet $(WASM_LINT_PKGS)
	$(WASM_ENV) $(TOOLS)/staticcheck $(WASM_LINT_PKGS)
	cd wsshim && $(WASM_ENV) $(GO) vet ./... && $(WASM_ENV) $(TOOLS)/staticcheck ./...
	set -o pipefail; $(WASM_ENV) $(GO) test -count=1 -timeout 25m -exec $(TOOLS)/wasmbrowsertest $(WASM_TEST_PKGS) 2>&1 \
		| grep -v 'could not unmarshal event'
	set -o pipefail; cd wsshim && $(WASM_ENV) $(GO) test -count=1 -exec $(TOOLS)/wasmbrowsertest ./... 2>&1 \
		| grep -v 'could not unmarshal event'

test-e2e: wasm package web/node_modules/.installed
	cd web && node --test --test-concurrency=1 test/

## ---- figures --------------------------------------------------------------

bench: deps
	$(GO) run ./cmd/bench

# End to end against native whatsmeow and Baileys on one fakewa
# (web/scripts/bench-e2e.mjs; BENCH_E2E_ARGS='--runs 5', '--only wasmeow,native-full', …).
bench-e2e: deps wasm
	cd web && node scripts/bench-e2e.mjs $(BENCH_E2E_ARGS)

# The session service under many sessions at once (docs/FLEET.md): ops/s
# and latency percentiles. SESSIOND_BENCH_ARGS='-sessions 1000 -rate 1', ...
bench-sessiond: postgresql
	$(GO) run ./cmd/sessiond-bench $(SESSIOND_BENCH_ARGS)

# The same service under real pages (web/scripts/bench-fleet.mjs): 200
# sessions over 4 chromium processes on httpKeyStore, paired by QR, fakewa's
# phones sending a steady rate then a burst. BENCH_FLEET_ARGS='--sessions 400
# --processes 8 --duration 60 --rate 1 --burst 20 --pool 20 --json out.json'.
bench-fleet: deps wasm
	cd web && node scripts/bench-fleet.mjs $(BENCH_FLEET_ARGS)

traces:
	$(GO) run ./cmd/tracegen -out idbstore/testdata/traces

## ---- measurements, not part of `make test` --------------------------------

# A paired session in a hidden, throttled tab (page and Worker) for 12 minutes
# (docs/BACKGROUND.md). HIDDEN_TAB_ARGS='--grace 10', '--stall-at 2', ...: see
# web/scripts/hidden-tab.mjs.
hidden-tab: deps wasm
	cd web && node scripts/hidden-tab.mjs $(HIDDEN_TAB_ARGS)

## ---- demo -----------------------------------------------------------------

demo: deps wasm
	$(GO) run ./cmd/demo

clean:
	rm -rf $(DIST) .tools web/node_modules
