.PHONY: setup run test bench fit lint
setup:
	./setup.sh --dev
run: setup
	.venv/bin/qa serve
test:
	.venv/bin/python -m pytest -q
# Every benchmark, each writing its table under benchmarks/results/ (long: not timed as a whole; the
# concurrency run alone took about 15 minutes here, the 1M-vector run is of the same order).
BENCHMARKS = ranking retrieval query_path threads build cold_start int8 extraction highlights absent_words \
	vector_index load_test concurrency
bench:
	for name in $(BENCHMARKS); do .venv/bin/python -m benchmarks.$$name || exit 1; done
fit:
	.venv/bin/python -m training.fit_ranker
lint:
	.venv/bin/ruff check qa embeddings tests benchmarks training app.py
