#!/usr/bin/env bash
# Every subcommand that `aiops --help` lists is completed by the bash, zsh
# and fish completions and described in aiops(1), and so is every option of
# every subcommand.
. "$(dirname "$0")/../integration/functions.sh"
. "$(dirname "$0")/cli_inventory.sh"

man="$AIOPS_SRC/man/aiops.1"
completions=("$AIOPS_SRC/completions/aiops.bash" "$AIOPS_SRC/completions/_aiops" "$AIOPS_SRC/completions/aiops.fish")
for f in "$man" "${completions[@]}"; do [[ -f $f ]] || fail "missing $f"; done

mapfile -t paths < <(command_paths)
((${#paths[@]} >= 6)) || fail "found only ${#paths[@]} commands in aiops --help: ${paths[*]}"
missing=()
for path in "${paths[@]}"; do
  name=${path##* }
  for f in "${completions[@]}"; do
    grep -qw -- "$name" "$f" || missing+=("$(basename "$f"): subcommand '$path'")
  done
  grep -q -- "^\.Cm $path\b\|Cm $path" "$man" || missing+=("aiops.1: subcommand '$path'")
  for opt in $(options_of "$path"); do
    [[ $opt == --help ]] && continue
    for f in "${completions[@]}"; do
      grep -q -- "${opt#--}" "$f" || missing+=("$(basename "$f"): option $opt of '$path'")
    done
    grep -q -- "Fl Fl ${opt#--}\b" "$man" || missing+=("aiops.1: option $opt of '$path'")
  done
done
if ((${#missing[@]} > 0)); then
  printf '  %s\n' "${missing[@]}" >&2
  fail "${#missing[@]} commands or options are not documented or completed"
fi
echo "ok: ${#paths[@]} commands, all documented and completed"
