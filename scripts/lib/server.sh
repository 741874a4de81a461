# Sourced by the scripts that run the server binary ("$bin") for a test or a benchmark.
#
# start_server LOG [NAME=VALUE...]: starts "$bin" with that environment on a free port, its
# output in LOG, and returns once /health answers, with $server (its pid) and $base
# (http://127.0.0.1:PORT) set; fails with the log if the server stops first or never answers.
# The server binds port 0 and its log says which port it got: a port picked beforehand is
# free only until released, and a test binding port 0 meanwhile (CI runs Schemathesis beside
# the test suite) could take it.
start_server() {
  local log="$1" address=""
  shift
  env "$@" TESTIT_BIND=127.0.0.1:0 RUST_LOG="${RUST_LOG:-warn},testit=info" "$bin" >"$log" 2>&1 &
  server=$!
  base=""
  for _ in $(seq 600); do
    if [ -z "$base" ]; then
      address=$(grep -o -m1 'listening on http://[0-9.]*:[0-9]*' "$log" || true)
      base="${address#listening on }"
    fi
    if [ -n "$base" ] && curl -fsS "$base/health" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$server" 2>/dev/null; then
      echo "the server stopped:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the server did not answer /health within a minute:" >&2
  cat "$log" >&2
  return 1
}
