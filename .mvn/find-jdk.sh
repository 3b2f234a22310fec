# Sourced (POSIX sh) by mvnw, the Makefile and .ci/run: exports JAVA_HOME pointing at a JDK >= 21.
#
# Order: $JAVA_HOME, then every JDK under /usr/lib/jvm (newest first), then the javac on PATH.
# A JDK is accepted when its `release` file (or `java -version`) says major version >=
# OPEN_MIN_JAVA (21). When none qualifies we stop with a message naming every candidate and its
# version, so the fix is obvious.

OPEN_MIN_JAVA=${OPEN_MIN_JAVA:-21}

# Prints the major version of the JDK at $1, or nothing if $1 is not a JDK.
open_jdk_major() {
  [ -x "$1/bin/javac" ] || return 0
  _open_v=""
  if [ -f "$1/release" ]; then
    _open_v=$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$1/release")
  fi
  if [ -z "$_open_v" ]; then
    _open_v=$("$1/bin/java" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  _open_v=${_open_v#1.}          # 1.8.0_x -> 8.0_x
  echo "${_open_v%%[.+_-]*}"
}

# Prints candidate JDK homes, one per line, in order of preference.
open_jdk_candidates() {
  [ -n "${JAVA_HOME:-}" ] && echo "$JAVA_HOME"
  if [ -d /usr/lib/jvm ]; then
    for _open_d in /usr/lib/jvm/*/; do
      _open_d=${_open_d%/}
      [ -L "$_open_d" ] && continue
      _open_m=$(open_jdk_major "$_open_d")
      [ -n "$_open_m" ] && echo "$_open_m $_open_d"
    done | sort -rn | cut -d' ' -f2-
  fi
  if command -v javac >/dev/null 2>&1; then
    dirname "$(dirname "$(readlink -f "$(command -v javac)")")"
  fi
}

open_find_jdk() {
  _open_tried=""
  _open_found=""
  _open_list=$(open_jdk_candidates | awk '!seen[$0]++')
  # Iterate line by line without a subshell, so that the result can be exported.
  while IFS= read -r _open_c; do
    [ -n "$_open_c" ] || continue
    _open_m=$(open_jdk_major "$_open_c")
    if [ -n "$_open_m" ] && [ "$_open_m" -ge "$OPEN_MIN_JAVA" ] 2>/dev/null; then
      _open_found=$_open_c
      break
    fi
    _open_tried="$_open_tried
  $_open_c (${_open_m:-not a JDK})"
  done <<EOF_LIST
$_open_list
EOF_LIST
  if [ -n "$_open_found" ]; then
    JAVA_HOME=$_open_found
    export JAVA_HOME
    return 0
  fi
  echo "error: OPEN needs a JDK >= $OPEN_MIN_JAVA (the build targets --release 21 and runs on virtual threads)." >&2
  echo "Looked at JAVA_HOME, /usr/lib/jvm/* and the javac on PATH; found:${_open_tried:-
  nothing}" >&2
  echo "Install a JDK 21 or newer (e.g. Temurin) and/or point JAVA_HOME at it." >&2
  return 1
}
