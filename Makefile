# The two commands of the README.
.PHONY: run test

## Set up what is missing, build (release) and serve vmshift on http://127.0.0.1:3000.
run:
	bash scripts/setup.sh run
	cargo leptos serve --release --split --precompress

## Set up what is missing, then run every check and test.
test:
	bash scripts/test.sh
