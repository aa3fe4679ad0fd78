#!/usr/bin/env bash
# The completion scripts parse, and the bash one completes what `aiops
# --help` lists at each level.
. "$(dirname "$0")/../integration/functions.sh"
. "$(dirname "$0")/cli_inventory.sh"

bash -n "$AIOPS_SRC/completions/aiops.bash" || fail "aiops.bash does not parse"
if command -v zsh >/dev/null; then zsh -n "$AIOPS_SRC/completions/_aiops" || fail "_aiops does not parse"; fi
if command -v fish >/dev/null; then fish -n "$AIOPS_SRC/completions/aiops.fish" || fail "aiops.fish does not parse"; fi

# shellcheck source=/dev/null
. "$AIOPS_SRC/completions/aiops.bash"
complete_words() {  # complete_words WORD... -> what bash offers for the last word
  COMP_WORDS=(aiops "$@")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=()
  _aiops
  printf '%s\n' "${COMPREPLY[@]}" | sort
}

for path in "" $(command_paths | tr ' ' '+'); do
  path=${path//+/ }
  want=$(subcommands_of "$path" | sort)
  [[ -z $want ]] && continue
  # shellcheck disable=SC2086
  got=$(complete_words $path "")
  [[ $got == "$want" ]] || fail "bash completion after 'aiops $path': got [$got], want [$want]"
done
for path in $(command_paths | tr ' ' '+'); do
  path=${path//+/ }
  [[ -n $(subcommands_of "$path") ]] && continue
  want=$(options_of "$path" | sort)
  # shellcheck disable=SC2086
  got=$(complete_words $path "--")
  [[ $got == "$want" ]] || fail "bash completion of options of 'aiops $path': got [$got], want [$want]"
done
echo "ok"
