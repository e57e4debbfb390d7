.PHONY: setup run test bench bench-scale fit lint
setup:
	./setup.sh --dev
run: setup
	.venv/bin/qa serve
test:
	.venv/bin/python -m pytest -q
# Every benchmark, each writing its table under benchmarks/results/ (long: not timed as a whole; the
# concurrency run alone took about 15 minutes here, the 1M-vector run is of the same order).
BENCHMARKS = ranking retrieval query_path threads build cold_start int8 extraction highlights absent_words \
	vector_index load_test concurrency citation_floor
bench:
	for name in $(BENCHMARKS); do .venv/bin/python -m benchmarks.$$name || exit 1; done
# The scale benchmarks need a distractor corpus from Debian packages
# and hours for a million sentences: a target of their own.
# The corpus needs Debian packages: apt-get install python3-doc debian-handbook dict-gcide postgresql-doc-15 dict-wn \
#   perl-doc git-doc sqlite3-doc octave-doc linux-doc-6.1 (benchmarks/large_corpus.py PACKAGES)
bench-scale:
	.venv/bin/python -m benchmarks.large_corpus --sentences 1000000 --out .qa/scale/distractors-1000000.jsonl
	.venv/bin/python -m benchmarks.vector_cache --sentences 1000000
	.venv/bin/python -m benchmarks.scale --sizes 100000 1000000 --vector-cache
	.venv/bin/python -m benchmarks.ann_choice --index .qa/scale/library-1000000.idx
	.venv/bin/python -m benchmarks.hnsw_removal --vectors 100000
	.venv/bin/python -m benchmarks.shards --index .qa/scale/library-100000.idx
	.venv/bin/python -m benchmarks.ray_build --sentences 5000
fit:
	.venv/bin/python -m training.fit_ranker
lint:
	.venv/bin/ruff check qa embeddings tests benchmarks training app.py
