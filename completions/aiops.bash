# bash completion for aiops(1)                          -*- shell-script -*-
# Install as /usr/share/bash-completion/completions/aiops, or source it.

_aiops() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  # Subcommands of each command path, and the options of each leaf command.
  local -A subs=(
    [aiops]="config log status load verify phase buffer bench"
    [aiops config]="check init"
    [aiops log]="verify dump"
    [aiops buffer]="inspect remove"
    [aiops bench]="log buffer"
  )
  local -A opts=(
    [aiops]="--help --version"
    [aiops config check]="--json --help"
    [aiops config init]="--dir --force --json --help"
    [aiops log verify]="--json --help"
    [aiops log dump]="--json --help"
    [aiops status]="--config --json --help"
    [aiops load]="--config --clients --duration --write-size --read-ratio --fua-ratio --rate --record --volume
                  --seed --json --help"
    [aiops verify]="--config --record --client --json --help"
    [aiops phase]="--config --json --help"
    [aiops buffer inspect]="--config --json --help"
    [aiops buffer remove]="--config --force --json --help"
    [aiops bench log]="--dir --threads --duration --write-size --durable --segment-size --group-commit-bytes
                       --group-commit-delay --keep-segments --json --help"
    [aiops bench buffer]="--entries --entry-size --rounds --json --help"
  )
  # The steps of `aiops phase`, in the order they are run.
  local steps="prepare activate flush validate reorder apply deactivate"

  # The command path typed so far: "aiops" and the words that name subcommands.
  local path=aiops i word
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    if [[ " ${subs[$path]-} " == *" $word "* ]]; then
      path="$path $word"
    fi
  done

  case $prev in
    --dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    --config|--record) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    --threads|--duration|--write-size|--segment-size|--group-commit-bytes|--group-commit-delay|--keep-segments| \
      --clients|--read-ratio|--fua-ratio|--rate|--volume|--seed|--client|--entries|--entry-size|--rounds)
      return ;;
  esac

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "${opts[$path]:---help}" -- "$cur")
  elif [[ -n ${subs[$path]-} ]]; then
    mapfile -t COMPREPLY < <(compgen -W "${subs[$path]}" -- "$cur")
  else
    case $path in
      "aiops config check") mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
      "aiops phase")
        # One step, unless one was given already.
        for ((i = 2; i < COMP_CWORD; i++)); do
          [[ " $steps " == *" ${COMP_WORDS[i]} "* && ${COMP_WORDS[i-1]} != --config ]] && return
        done
        mapfile -t COMPREPLY < <(compgen -W "$steps" -- "$cur")
        ;;
      "aiops log verify"|"aiops log dump") mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    esac
  fi
}
complete -F _aiops aiops
