.PHONY: setup run test bench fit lint
setup:
	./setup.sh --dev
run: setup
	.venv/bin/qa serve
test:
	.venv/bin/python -m pytest -q
bench:
	.venv/bin/python -m benchmarks.ranking
	.venv/bin/python benchmarks/retrieval.py
fit:
	.venv/bin/python -m training.fit_ranker
lint:
	.venv/bin/ruff check qa embeddings tests benchmarks training app.py
