#!/bin/sh
# Semantic search benchmark (figures, not pass/fail), against the release fake server: a
# store of 100,000 messages that all have 768-dimension vectors (made once with sqlite3
# and kept under $TMPDIR, keyed by the schema version), and `natter sessions search
# --semantic` over it, the median of several runs (hyperfine): the whole command (start,
# configuration, the query's embedding from the fake server, the scan of every vector,
# printing the best 20). Next to it, in the same run: `natter embed` of the query alone
# (what the search costs before it scans) and sqlite3 reading every vector's bytes (what
# a one-pass scan would read; the search reads the bits, an eighth of that, and the bytes
# of the nearest 256).
# Target: the search <= 100 ms.
#   sh tests/bench/semantic.sh BUILD_DIR      (make bench builds everything first)
set -eu
B=${1:-build/release}
NATTER=$B/natter
FS=$B/fakeserver
N=${BENCH_VECTORS:-100000}
DIMS=${BENCH_DIMS:-768}
RUNS=${BENCH_RUNS:-10}
KEY=sk-bench-not-a-real-key
for f in "$NATTER" "$FS"; do
	[ -x "$f" ] || { echo "semantic.sh: $f is missing (run make bench)" >&2; exit 1; }
done
for t in hyperfine sqlite3; do
	command -v "$t" >/dev/null || { echo "semantic.sh: $t is not installed" >&2; exit 1; }
done

. "$(dirname "$0")/lib.sh"
bench_start semantic.sh "$FS" "$KEY"

mkdir -p "$TMP/cfg/natter"
cat >"$TMP/cfg/natter/natter.yaml" <<YAML
providers:
  pe: {protocol: openai, base_url: 'http://127.0.0.1:$PORT/v1', key: $KEY, max_retries: 0}
models:
  emb: {provider: pe, id: text-embedding-3-small, kind: embedding, dimensions: $DIMS}
embedding_model: emb
YAML
chmod 600 "$TMP/cfg/natter/natter.yaml"
export XDG_CONFIG_HOME="$TMP/cfg"

# The store, made once: natter creates it (every migration), sqlite3 fills it.
VERSION=$(NATTER_DB="$TMP/probe.db" "$NATTER" sessions >/dev/null 2>&1;
	sqlite3 "$TMP/probe.db" "PRAGMA user_version")
DB=${TMPDIR:-/tmp}/natter-bench-semantic-v$VERSION-$N-$DIMS.db
if [ ! -s "$DB" ]; then
	echo "making $DB ($N messages with $DIMS-byte vectors)..."
	rm -f "$DB" "$DB-wal" "$DB-shm"
	NATTER_DB="$DB" "$NATTER" sessions >/dev/null
	sqlite3 "$DB" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
INSERT INTO sessions (id, title, created, updated) VALUES (1, 'bench', 0, 0);
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $N)
INSERT INTO messages (session_id, seq, role, content, created_ms, state)
	SELECT 1, i, CASE i % 2 WHEN 0 THEN 'assistant' ELSE 'user' END,
	'message number ' || i || ' about something or other', i * 1000, 'complete' FROM k;
INSERT INTO vector_models (id, key, upto)
	VALUES (1, 'pe/text-embedding-3-small@$DIMS', (SELECT max(id) FROM messages));
INSERT INTO message_vectors (message_id, model, vec)
	SELECT id, 1, randomblob($DIMS) FROM messages;
INSERT INTO message_vector_bits (message_id, model, bits)
	SELECT id, 1, randomblob($DIMS / 8) FROM messages;
COMMIT;
SQL
fi
export NATTER_DB="$DB"

SEARCH="$NATTER sessions search --semantic n=5 something or other"
EMBED="$NATTER embed -m emb --dimensions $DIMS 'n=5 something or other'"
READ="sqlite3 $DB \"SELECT sum(length(vec)) FROM message_vectors\""
# A run that fails or embeds anything must not be timed as a fast one.
$SEARCH >"$TMP/out" 2>"$TMP/err"
[ "$(wc -l <"$TMP/out" | tr -d ' ')" -eq 20 ] && [ ! -s "$TMP/err" ] ||
	{ echo "semantic.sh: the search did not print 20 hits quietly:" >&2; cat "$TMP/err" >&2; exit 1; }
echo "== semantic search over $N vectors of $DIMS dimensions"
hyperfine --warmup 2 --runs "$RUNS" --style basic --export-json "$TMP/s.json" \
	--export-markdown "$TMP/s.md" -n "sqlite3 reading the vectors" "$READ" \
	-n "natter embed (the query alone)" "$EMBED" -n "natter sessions search --semantic" "$SEARCH"
cat "$TMP/s.md"
median() { bench_median "$TMP/s.json" "$1"; }
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
echo "median: sqlite3 read $(ms "$(median 1)") ms, query embedding $(ms "$(median 2)") ms, search $(ms "$(median 3)") ms"
echo "semantic search: $(ms "$(median 3)") ms (target <= 100 ms)"
