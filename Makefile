# offboard — `make run` starts everything on this machine; `make test` runs every test.
export GOTOOLCHAIN := go1.27.3
GO ?= go
# Every package but the one that links the Temporal server.
PKGS_FAST = $$($(GO) list ./... | grep -v /internal/e2e)

.PHONY: build run test test-fast test-e2e lint bench clean tools

build:
	$(GO) build -o bin/offboard ./cmd/offboard

run: build
	bin/offboard dev

# Unit, connector and workflow tests first (fast), then the one package that
# links the Temporal server.
test: lint tools
	$(GO) test -count=1 $(PKGS_FAST)
	$(GO) test -count=1 -timeout 8m ./internal/e2e/

test-fast: tools
	$(GO) test -count=1 $(PKGS_FAST)

# The evidence store's tests run against moto's S3 (with Object Lock).
tools:
	@command -v moto_server >/dev/null || python3 -m pip install -q 'moto[server]'

test-e2e:
	$(GO) test -count=1 -timeout 8m -v ./internal/e2e/

# gofmt from the pinned toolchain, not whatever is on PATH; workflowcheck
# finds non-deterministic code in workflows (replay tests are the backstop).
lint:
	$(GO) vet ./...
	$(GO) run go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0 ./workflows/...
	@out=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The layoff and open-cases benchmarks take minutes (BenchmarkLayoff's
# OFFBOARD_LAYOFF sets its size, 50 by default).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -timeout 90m ./...

clean:
	rm -rf bin .offboard
