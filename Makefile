# lifang — common tasks. `make test` is the README's test command plus nothing else.
GO ?= go

.PHONY: build test bench lint demo
build:
	$(GO) build -o lifang ./cmd/lifang

test:
	$(GO) test ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...

demo:
	$(GO) run ./cmd/lifang demo --out out/demo
