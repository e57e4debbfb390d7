.PHONY: setup run test bench lint
setup:
	./setup.sh --dev
run: setup
	.venv/bin/qa serve
test:
	.venv/bin/python -m pytest -q
bench:
	.venv/bin/python benchmarks/retrieval.py
lint:
	.venv/bin/ruff check qa embeddings tests benchmarks app.py
