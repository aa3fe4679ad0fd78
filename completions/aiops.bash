# bash completion for aiops(1)                          -*- shell-script -*-
# Install as /usr/share/bash-completion/completions/aiops, or source it.

# _aiops_is_step I: word I of the command line is a phase step, not the
# value of an option. Uses the locals steps and swap_opts of _aiops.
_aiops_is_step() {
  [[ " $steps " == *" ${COMP_WORDS[$1]} "* && " --config $swap_opts " != *" ${COMP_WORDS[$1-1]} "* ]]
}

_aiops() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  # Subcommands of each command path, and the options of each leaf command.
  local -A subs=(
    [aiops]="config log status load verify phase update buffer bench demo forecast"
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
    [aiops load]="--config --clients --duration --write-size --read-ratio --fua-ratio --rate --class-clients
                  --class-rate --max-attempts --timeline --record --volume --seed --json --help"
    [aiops verify]="--config --record --client --json --help"
    [aiops phase]="--config --binary --sha256 --timeout --mode --json --help"
    [aiops update]="--binary --config --sha256 --timeout --mode --json --help"
    [aiops buffer inspect]="--config --json --help"
    [aiops buffer remove]="--config --force --json --help"
    [aiops bench log]="--dir --threads --duration --write-size --durable --segment-size --group-commit-bytes
                       --group-commit-delay --keep-segments --json --help"
    [aiops bench buffer]="--entries --entry-size --rounds --json --help"
    [aiops demo]="--seconds --clients --rate --hold --max-attempts --mode --worker --json --help"
    [aiops forecast]="--trace --format --interval --window --horizon --season --config --out --plot --backtest --jobs
                      --json --help"
  )
  # The steps of `aiops phase`, in the order they are run; the options only
  # `swap` takes.
  local steps="prepare activate flush validate reorder swap apply deactivate"
  local swap_opts="--binary --sha256 --timeout --mode"

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
    --dir|--plot) mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    --format) mapfile -t COMPREPLY < <(compgen -W "auto native msr series worker" -- "$cur"); return ;;
    --config|--record|--binary|--worker|--trace|--out|--timeline) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    --mode) mapfile -t COMPREPLY < <(compgen -W "migrate listeners release" -- "$cur"); return ;;
    --threads|--duration|--write-size|--segment-size|--group-commit-bytes|--group-commit-delay|--keep-segments| \
      --clients|--read-ratio|--fua-ratio|--rate|--class-clients|--class-rate|--max-attempts|--volume|--seed|--client|--entries|--entry-size|--rounds| \
      --sha256|--timeout|--seconds|--interval|--window|--horizon|--season|--backtest|--jobs)
      return ;;
  esac

  if [[ $cur == -* ]]; then
    local words=${opts[$path]:---help} o
    if [[ $path == "aiops phase" ]]; then
      # Once a step other than swap is given, leave out swap's options.
      for ((i = 2; i < COMP_CWORD; i++)); do
        if _aiops_is_step "$i" && [[ ${COMP_WORDS[i]} != swap ]]; then
          for o in $swap_opts; do words=${words/$o /}; done
          break
        fi
      done
    fi
    mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
  elif [[ -n ${subs[$path]-} ]]; then
    mapfile -t COMPREPLY < <(compgen -W "${subs[$path]}" -- "$cur")
  else
    case $path in
      "aiops config check") mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
      "aiops phase")
        # One step, unless one was given already.
        for ((i = 2; i < COMP_CWORD; i++)); do
          _aiops_is_step "$i" && return
        done
        mapfile -t COMPREPLY < <(compgen -W "$steps" -- "$cur")
        ;;
      "aiops log verify"|"aiops log dump") mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    esac
  fi
}
complete -F _aiops aiops
