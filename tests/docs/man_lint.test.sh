#!/usr/bin/env bash
# The man pages are clean for `mandoc -T lint` (warnings included).
. "$(dirname "$0")/../integration/functions.sh"

command -v mandoc >/dev/null || fail "mandoc is not installed (share/aiops/setup.sh installs it)"
pages=("$AIOPS_SRC"/man/*.[0-9])
((${#pages[@]} >= 2)) || fail "expected man pages in $AIOPS_SRC/man"
out=$(mandoc -T lint -W warning "${pages[@]}" 2>&1) || true
[[ -z $out ]] || fail "mandoc -T lint reports:
$out"
echo "ok: ${#pages[@]} man pages lint clean"
