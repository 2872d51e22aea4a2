# The two commands of the README.
.PHONY: run test

## Set up what is missing, build (release) and serve vmshift on http://127.0.0.1:3000.
run:
	bash scripts/setup.sh run
	@echo "==> building and serving vmshift (release; on a fresh machine ~6 min for the browser bundle and ~10 min for the server on 2 cores, seconds once built)"
	cargo leptos serve --release --split --precompress

## Set up what is missing, then run every check and test.
test:
	bash scripts/test.sh
