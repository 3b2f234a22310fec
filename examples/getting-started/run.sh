#!/usr/bin/env bash
# The getting-started guide (docs/guides/getting-started.md), done and checked by a script:
# installs OPEN into ~/.m2, builds this project against it as a user's project would, runs it,
# and checks what it prints and the HTML report it writes. Exits non-zero on any difference.
#
#   examples/getting-started/run.sh                 # from anywhere; installs the library first
#   examples/getting-started/run.sh --skip-install  # the library is already in ~/.m2
#
# Python: $OPEN_PYTHON, else the repository's .venv/bin/python (make venv), else python3.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"   # installing the library builds the Rust kernels

install=true
for arg in "$@"; do
  case "$arg" in
    --skip-install) install=false ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--skip-install]" >&2; exit 2 ;;
  esac
done

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# 1. The guide quotes App.java verbatim: check that it still does, before spending a build.
guide="$repo/docs/guides/getting-started.md"
app="$here/src/main/java/com/example/App.java"
quoted="$(awk '
  $0 == "<!-- quote: examples/getting-started/src/main/java/com/example/App.java -->" { want = 1; next }
  want && /^```/ { if (inside) exit; inside = 1; next }
  want && inside { print }
' "$guide")"
[ -n "$quoted" ] || fail "$guide has no quote of App.java (the <!-- quote: ... --> marker)"
diff -u "$app" <(printf '%s\n' "$quoted") >&2 \
  || fail "the App.java quoted in $guide differs from $app (diff above); quote the file again"

# 2. A JDK >= 21, found as the repository's build finds one (JAVA_HOME, then /usr/lib/jvm).
# shellcheck source=../../.mvn/find-jdk.sh
. "$repo/.mvn/find-jdk.sh"
open_find_jdk
java="$JAVA_HOME/bin/java"
mvn=("$repo/mvnw" -B -ntp -q)

python="${OPEN_PYTHON:-}"
if [ -z "$python" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then python="$repo/.venv/bin/python"; else python=python3; fi
fi

# 3. The library, into ~/.m2, as the guide says.
if $install; then
  echo "== ./mvnw install -DskipTests (OPEN into ~/.m2)"
  (cd "$repo" && "${mvn[@]}" install -DskipTests)
fi

# 4. This project: compiled against ~/.m2, its dependencies copied to target/lib.
echo "== building examples/getting-started"
rm -f "$here/target/getting-started.html"
(cd "$here" && "${mvn[@]}" package)

# 5. Run it from its directory (the pool finds python/hello_tasks.py there).
echo "== java -Dopen.python=$python -cp 'target/classes:target/lib/*' com.example.App"
log="$here/target/run.log"
(cd "$here" && "$java" -Dopen.python="$python" -cp 'target/classes:target/lib/*' com.example.App) \
  | tee "$log"

# 6. What the guide promises.
expect() {
  grep -qF -- "$1" "$log" || fail "the output lacks '$1' (it is in $log)"
}
expect "Hello, Ada, Grace and Linus, from Python "
expect "(3 names, 13 letters)"
expect "4 succeeded, 0 failed, 0 skipped, 0 cancelled"
expect "greeting  python  SUCCEEDED  1 attempt(s)"
html="$here/target/getting-started.html"
[ -s "$html" ] || fail "no HTML report at $html"
grep -qi '<html' "$html" || fail "$html is not HTML"
grep -qF 'greeting' "$html" || fail "$html does not mention the node 'greeting'"
echo "== OK: the getting-started project built, ran Python and wrote $html"
