# Every target works from a clean clone with Go installed; `proto` also
# needs protoc (Debian: protobuf-compiler) and installs the Go plugins at
# pinned versions into ./bin.
SHELL := /bin/bash
GO ?= go
MODULES := $(shell $(GO) list -m -f '{{.Dir}}')
BIN := $(CURDIR)/bin
PROTO_DIR := api/proto
GEN_DIR := api/gen
PROTOS := $(shell find $(PROTO_DIR) -name '*.proto' | sort)
TEST_FLAGS ?= -race -count=1 -timeout 15m

PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.0
GRPC_GATEWAY_VERSION := v2.33.0

GOVULNCHECK_VERSION := v1.9.0
# FUZZ_TARGETS are the fuzz targets CI runs for FUZZTIME each: module
# directory, package, target. `make test` (plain go test) runs their
# committed seed corpora (testdata/fuzz/<Target>); a crasher the fuzzer
# finds is written there too and stays as a regression case once
# committed.
FUZZTIME ?= 20s
# FUZZ_TOOLCHAIN runs the fuzzer on Go 1.27, fetched from the module proxy
# (76 MB, once per machine): go1.26's coordinator fails a target that found
# nothing with a bare "context deadline exceeded" when -fuzztime's deadline
# and its workers' cancellation race on a busy machine (go.dev/issue/75804,
# fixed in 1.27.0; CI lost a run to it on 2026-12-03). The build and the
# other tests stay on the machine's Go.
FUZZ_TOOLCHAIN ?= go1.27.3
FUZZ_TARGETS := \
	services/connection ./internal/codec FuzzDecodeClient \
	services/connection ./internal/codec FuzzNotesJSON \
	services/connection ./internal/mpp FuzzDecode \
	services/connection ./internal/edge FuzzValidateNotes \
	pkg ./text FuzzChat \
	pkg ./text FuzzName \
	services/room ./internal/room FuzzRoomSettings \
	pkg ./auth FuzzVerify \
	pkg ./auth FuzzClaims

.PHONY: test proto proto-check lint run bench bench-fanout tools fuzz vulncheck

# test runs every module's tests and fails at the end if any module failed,
# so one run shows every failure. With REDIS_URL set it then fails when the
# run left keys in that Redis: every test's keys are under
# t:$(PR_TEST_RUN): (storetest.Prefix), and internal/leftkeys counts them.
ifndef PR_TEST_RUN
PR_TEST_RUN := $(shell date +%s)-$(shell echo $$PPID)
endif
test:
	@export PR_TEST_RUN=$(PR_TEST_RUN); failed=""; \
	for m in $(MODULES); do echo "== $$m"; (cd $$m && $(GO) test $(TEST_FLAGS) ./...) || failed="$$failed $$m"; done; \
	if [ -n "$$REDIS_URL" ]; then echo "== keys left in $$REDIS_URL"; $(GO) run ./internal/leftkeys -prefix "t:$$PR_TEST_RUN:" || failed="$$failed (keys-left-in-redis)"; fi; \
	if [ -n "$$failed" ]; then echo "FAILED modules:$$failed"; exit 1; fi

# fuzz runs every fuzz target for FUZZTIME and stops at the first failure
# (its input is then in the package's testdata/fuzz: commit it).
fuzz:
	@set -e; set -- $(FUZZ_TARGETS); while [ $$# -gt 0 ]; do \
	  echo "== fuzz $$3 ($$1 $$2, $(FUZZTIME))"; \
	  (cd $$1 && GOTOOLCHAIN=$(FUZZ_TOOLCHAIN) $(GO) test -run '^$$' -fuzz "^$$3\$$" -fuzztime $(FUZZTIME) $$2); \
	  shift 3; \
	done

# vulncheck runs govulncheck (pinned) over every module of the workspace
# against the Go vulnerability database as published in the module
# golang.org/x/vulndb (pinned: VULNDB_VERSION; vuln.go.dev itself is not
# reachable from these machines), indexed locally with its own indexdb.
# internal/vulngate fails on every called vulnerability in a dependency;
# VULNCHECK_STDLIB=warn lists those of the standard library without
# failing, since they are fixed only by a newer Go toolchain (see the
# README's Security checks).
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNCHECK_STDLIB ?= warn
VULNDB := $(BIN)/vulndb-$(VULNDB_VERSION)
# One govulncheck over every module's packages, in workspace mode (the
# versions our programs are built with): the workspace's packages are
# loaded and analysed once, about 30 s here, where one run per module took
# about 4 minutes of CI's 20.
VULN_PATTERNS := $(foreach m,$(MODULES),$(patsubst $(CURDIR)%,.%/...,$(m)))
vulncheck:
	@mkdir -p $(BIN)
	@test -x $(BIN)/govulncheck-$(GOVULNCHECK_VERSION) || \
	  (GOBIN=$(BIN) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) && mv $(BIN)/govulncheck $(BIN)/govulncheck-$(GOVULNCHECK_VERSION))
	@test -f $(VULNDB)/index/db.json || { \
	  GOBIN=$(BIN) GOFLAGS=-mod=mod $(GO) install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) && \
	  src=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p') && \
	  rm -rf $(VULNDB).tmp && $(BIN)/indexdb -vulns $$src/data/osv -out $(VULNDB).tmp && mv $(VULNDB).tmp $(VULNDB); }
	@echo "== govulncheck $(VULN_PATTERNS)"
	@set -o pipefail; $(BIN)/govulncheck-$(GOVULNCHECK_VERSION) -db file://$(VULNDB) -format json $(VULN_PATTERNS) | \
	  $(GO) run ./internal/vulngate -stdlib=$(VULNCHECK_STDLIB)

tools:
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
	GOBIN=$(BIN) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)

proto: tools
	rm -rf $(GEN_DIR) && mkdir -p $(GEN_DIR)/openapi
	PATH=$(BIN):$$PATH protoc -I $(PROTO_DIR) \
	  --go_out=$(GEN_DIR) --go_opt=module=github.com/pianorhythm/server/api/gen \
	  --go-grpc_out=$(GEN_DIR) --go-grpc_opt=module=github.com/pianorhythm/server/api/gen \
	  --grpc-gateway_out=$(GEN_DIR) --grpc-gateway_opt=module=github.com/pianorhythm/server/api/gen \
	  --grpc-gateway_opt=grpc_api_configuration=$(PROTO_DIR)/http.yaml \
	  --openapiv2_out=$(GEN_DIR)/openapi \
	  --openapiv2_opt=grpc_api_configuration=$(PROTO_DIR)/http.yaml \
	  --openapiv2_opt=openapi_configuration=$(PROTO_DIR)/openapi.yaml \
	  --openapiv2_opt=allow_merge=true,merge_file_name=pianorhythm,json_names_for_fields=true \
	  $(PROTOS)

# proto-check fails when the committed generated code differs from a fresh
# `make proto`.
proto-check: proto
	@git diff --exit-code --stat -- $(GEN_DIR) || (echo "generated code is stale: run make proto and commit" && exit 1)
	@test -z "$$(git status --porcelain -- $(GEN_DIR))" || (git status --porcelain -- $(GEN_DIR); echo "generated code is stale: run make proto and commit"; exit 1)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^api/gen/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) vet ./...); done

run:
	$(GO) run ./cmd/pianorhythm

bench:
	@set -e; for m in $(MODULES); do (cd $$m && $(GO) test -run '^$$' -bench . -benchmem ./...); done

# bench-fanout drives our all-in-one, the plain relay (bench/fanout/naive)
# and the Centrifuge reference with the same load generator, back to back
# (a few minutes), and writes bench/fanout/results-<LABEL>.json and
# RESULTS.md. Our server uses REDIS_URL (empty: its embedded Redis). Not
# part of `make test`. BENCH_FANOUT_FLAGS: e.g. -only oneroom -duration 10s.
LABEL ?= run
BENCH_FANOUT_FLAGS ?=
bench-fanout:
	cd bench/fanout/centrifuge && $(GO) run ./cmd/bench -root $(CURDIR) -label $(LABEL) $(BENCH_FANOUT_FLAGS)
