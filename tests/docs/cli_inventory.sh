# Helpers for the documentation tests: walk `aiops --help` and list every
# command path and the options of each. Sourced after functions.sh.

# subcommands_of "log" -> names listed under "Subcommands:" of `aiops log --help`
subcommands_of() {
  # shellcheck disable=SC2086
  aiops $1 --help | awk '/^Subcommands:/ {on=1; next} /^[^ ]/ {on=0} on && /^  [a-z]/ {print $1}'
}

# options_of "bench log" -> every --long option of that command
options_of() {
  # shellcheck disable=SC2086
  aiops $1 --help | awk '/^Options:/ {on=1; next} /^[^ ]/ {on=0} on' | grep -oE '^ +(-[a-zA-Z],)?--[a-z][a-z0-9-]*' \
    | grep -oE -- '--[a-z][a-z0-9-]*'
}

# command_paths -> "config", "config check", "log", ... (every subcommand path)
command_paths() {
  local queue=("") path sub
  while ((${#queue[@]} > 0)); do
    path=${queue[0]}
    queue=("${queue[@]:1}")
    for sub in $(subcommands_of "$path"); do
      echo "${path:+$path }$sub"
      queue+=("${path:+$path }$sub")
    done
  done
}
