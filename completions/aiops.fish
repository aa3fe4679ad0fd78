# fish completion for aiops(1). Install into a vendor_completions.d directory.

function __aiops_typed
    # The words typed so far after "aiops" that are neither options nor
    # the values of options: subcommands, the phase step, positionals.
    set -l words (commandline -opc)
    set -e words[1]
    set -l with_value --config --dir --record --client --clients --duration --write-size --read-ratio \
        --fua-ratio --rate --class-clients --class-rate --max-attempts --timeline --volume --seed --threads --segment-size --group-commit-bytes \
        --group-commit-delay --keep-segments --entries --entry-size --rounds \
        --binary --sha256 --timeout --mode --seconds --worker
    set -l skip 0
    for w in $words
        if test $skip -eq 1
            set skip 0
            continue
        end
        if contains -- $w $with_value
            set skip 1
            continue
        end
        string match -q -- '-*' $w; and continue
        echo $w
    end
end

function __aiops_path_is
    # True when the subcommands typed so far are exactly $argv.
    set -l typed (__aiops_typed)
    test "$typed" = "$argv"
end

function __aiops_in_phase
    # True after "aiops phase", with or without its step.
    set -l typed (__aiops_typed)
    test "$typed[1]" = phase
end

function __aiops_swap_options
    # True where the options of the swap step apply: after "aiops update",
    # and after "aiops phase" with no step yet or the step swap.
    set -l typed (__aiops_typed)
    test "$typed" = update; or test "$typed" = phase; or test "$typed" = "phase swap"
end

complete -c aiops -f
complete -c aiops -n '__aiops_path_is' -l help -d 'Print help and exit'
complete -c aiops -n '__aiops_path_is' -l version -d 'Print the version and exit'
complete -c aiops -n '__aiops_path_is' -a config -d 'Validate configuration files'
complete -c aiops -n '__aiops_path_is' -a log -d 'Inspect the primary write log'
complete -c aiops -n '__aiops_path_is' -a status -d 'Ask the running worker for its state'
complete -c aiops -n '__aiops_path_is' -a load -d 'Drive a worker with many clients'
complete -c aiops -n '__aiops_path_is' -a verify -d 'Read back what a recorded load wrote'
complete -c aiops -n '__aiops_path_is' -a phase -d 'Run one step of a live update'
complete -c aiops -n '__aiops_path_is' -a update -d 'Replace the running worker by a new binary'
complete -c aiops -n '__aiops_path_is' -a buffer -d 'Look at the speculative write buffer'
complete -c aiops -n '__aiops_path_is' -a bench -d 'Measure parts of aiops on this machine'
complete -c aiops -n '__aiops_path_is' -a demo -d 'A live update under load, with a report'
complete -c aiops -n '__aiops_path_is' -a forecast -d 'Forecast client load from a trace and score priorities'

# config
complete -c aiops -n '__aiops_path_is config' -a check -d 'Validate a configuration file'
complete -c aiops -n '__aiops_path_is config check' -F -r
complete -c aiops -n '__aiops_path_is config check' -l json -d 'Print the result as JSON'
complete -c aiops -n '__aiops_path_is config' -a init -d 'Write a worker instance into a directory'
complete -c aiops -n '__aiops_path_is config init' -l dir -r -a '(__fish_complete_directories)' -d 'Directory of the instance'
complete -c aiops -n '__aiops_path_is config init' -l force -d 'Replace an existing instance, with new tokens'
complete -c aiops -n '__aiops_path_is config init' -l json -d 'Print the result as JSON'

# log
complete -c aiops -n '__aiops_path_is log' -a verify -d 'Check every segment and record'
complete -c aiops -n '__aiops_path_is log' -a dump -d 'Print every valid record'
complete -c aiops -n '__aiops_path_is log verify; or __aiops_path_is log dump' -a '(__fish_complete_directories)'
complete -c aiops -n '__aiops_path_is log verify; or __aiops_path_is log dump' -l json -d 'Print the result as JSON'

# status, load, verify
for c in status load verify
    complete -c aiops -n "__aiops_path_is $c" -l config -r -F -d 'The worker configuration file'
    complete -c aiops -n "__aiops_path_is $c" -l json -d 'Print the result as JSON'
end
complete -c aiops -n '__aiops_path_is load' -l clients -r -d 'Concurrent clients'
complete -c aiops -n '__aiops_path_is load' -l duration -r -d 'Seconds to run'
complete -c aiops -n '__aiops_path_is load' -l write-size -r -d 'Bytes per write and read'
complete -c aiops -n '__aiops_path_is load' -l read-ratio -r -d 'Share of requests that are reads'
complete -c aiops -n '__aiops_path_is load' -l fua-ratio -r -d 'Share of writes sent with FUA'
complete -c aiops -n '__aiops_path_is load' -l rate -r -d 'Requests per second over all clients (0: unpaced)'
complete -c aiops -n '__aiops_path_is load' -l class-clients -r -d 'CLASS=N,...: load clients per SLA class'
complete -c aiops -n '__aiops_path_is load' -l class-rate -r -d 'CLASS=R,...: requests per second per SLA class'
complete -c aiops -n '__aiops_path_is load' -l max-attempts -r -d 'Attempts per request when told to retry'
complete -c aiops -n '__aiops_path_is load' -l timeline -r -F -d 'Write every outcome to a CSV file'
complete -c aiops -n '__aiops_path_is load' -l record -r -F -d 'Append every write and acknowledgement to a file'
complete -c aiops -n '__aiops_path_is load' -l volume -r -d 'Volume to use'
complete -c aiops -n '__aiops_path_is load' -l seed -r -d 'Run id and random seed'
complete -c aiops -n '__aiops_path_is verify' -l record -r -F -d 'The record file of aiops load --record'
complete -c aiops -n '__aiops_path_is verify' -l client -r -d 'Client to read as'

# phase: the step, then options in any order.
complete -c aiops -n __aiops_in_phase -l config -r -F -d 'The worker configuration file'
complete -c aiops -n __aiops_in_phase -l json -d 'Print what the step did as JSON'
complete -c aiops -n '__aiops_path_is phase' -a prepare -d 'Save configuration and priorities to state/'
complete -c aiops -n '__aiops_path_is phase' -a activate -d 'Switch new writes to the buffer'
complete -c aiops -n '__aiops_path_is phase' -a flush -d 'Make the log durable and seal it'
complete -c aiops -n '__aiops_path_is phase' -a validate -d 'Decide every entry in the buffer'
complete -c aiops -n '__aiops_path_is phase' -a reorder -d 'Give the valid entries their apply order'
complete -c aiops -n '__aiops_path_is phase' -a swap -d 'Start the new binary, hand it sockets and connections'
complete -c aiops -n '__aiops_path_is phase' -a apply -d 'Append the buffer to the log and free it'
complete -c aiops -n '__aiops_path_is phase' -a deactivate -d 'Apply what is left, writes back to the log'

# update, and the swap step of phase
complete -c aiops -n '__aiops_path_is update' -l config -r -F -d 'The running worker configuration file'
complete -c aiops -n '__aiops_path_is update' -l json -d 'Print the steps, pids and handover as JSON'
complete -c aiops -n __aiops_swap_options -l binary -r -F -d 'The new worker binary'
complete -c aiops -n __aiops_swap_options -l sha256 -x -d 'SHA-256 the binary must have, in hex'
complete -c aiops -n __aiops_swap_options -l timeout -x -d 'Seconds the new binary has to report ready'
complete -c aiops -n __aiops_swap_options -l mode -x -a 'migrate\t"Sockets and connections (default)" listeners\t"Listening sockets only" release\t"Nothing; ports bound again"' -d 'What the new binary is handed'

# buffer
complete -c aiops -n '__aiops_path_is buffer' -a inspect -d 'Phase, entries by state, bytes, per-client counts'
complete -c aiops -n '__aiops_path_is buffer' -a remove -d 'Remove the shared-memory segment'
for c in inspect remove
    complete -c aiops -n "__aiops_path_is buffer $c" -l config -r -F -d 'The worker configuration file'
    complete -c aiops -n "__aiops_path_is buffer $c" -l json -d 'Print the result as JSON'
end
complete -c aiops -n '__aiops_path_is buffer remove' -l force -d 'Remove it even if it holds entries (they are lost)'

# bench
complete -c aiops -n '__aiops_path_is bench' -a log -d 'Closed-loop appends to a write log'
complete -c aiops -n '__aiops_path_is bench' -a buffer -d 'Buffer intake against memcpy'
complete -c aiops -n '__aiops_path_is bench log' -l dir -r -a '(__fish_complete_directories)' -d 'Log directory to write'
complete -c aiops -n '__aiops_path_is bench log' -l threads -r -d 'Concurrent writers'
complete -c aiops -n '__aiops_path_is bench log' -l duration -r -d 'Seconds to run'
complete -c aiops -n '__aiops_path_is bench log' -l write-size -r -d 'Payload bytes per write'
complete -c aiops -n '__aiops_path_is bench log' -l durable -d 'Acknowledge each write only once fdatasynced'
complete -c aiops -n '__aiops_path_is bench log' -l segment-size -r -d 'Log segment size'
complete -c aiops -n '__aiops_path_is bench log' -l group-commit-bytes -r -d 'Largest commit batch'
complete -c aiops -n '__aiops_path_is bench log' -l group-commit-delay -r -d 'How long a batch may wait to fill'
complete -c aiops -n '__aiops_path_is bench log' -l keep-segments -r -d 'Retire all but this many newest segments'
complete -c aiops -n '__aiops_path_is bench log' -l json -d 'Print the result as JSON'
complete -c aiops -n '__aiops_path_is bench buffer' -l entries -r -d 'Entries per round'
complete -c aiops -n '__aiops_path_is bench buffer' -l entry-size -r -d 'Payload bytes per entry'
complete -c aiops -n '__aiops_path_is bench buffer' -l rounds -r -d 'Rounds; the median is reported'
complete -c aiops -n '__aiops_path_is bench buffer' -l json -d 'Print the result as JSON'

# demo
complete -c aiops -n '__aiops_path_is demo' -l seconds -x -d 'Seconds before and after the update'
complete -c aiops -n '__aiops_path_is demo' -l clients -x -d 'Concurrent load clients'
complete -c aiops -n '__aiops_path_is demo' -l rate -x -d 'Requests per second of gold and silver (0: unpaced)'
complete -c aiops -n '__aiops_path_is demo' -l hold -x -d 'Seconds writes stay in the buffer before flush'
complete -c aiops -n '__aiops_path_is demo' -l max-attempts -x -d 'Attempts per request before giving up'
complete -c aiops -n '__aiops_path_is demo' -l mode -x -a 'migrate listeners release' -d 'The update mode'
complete -c aiops -n '__aiops_path_is demo' -l worker -r -F -d 'The worker binary to start and update to'
complete -c aiops -n '__aiops_path_is demo' -l json -d 'Print the report as JSON'

# forecast
complete -c aiops -n '__aiops_path_is forecast' -l trace -r -F -d 'Trace file or the worker trace/ directory'
complete -c aiops -n '__aiops_path_is forecast' -l format -x -a 'auto native msr series worker' -d 'Trace format'
complete -c aiops -n '__aiops_path_is forecast' -l interval -x -d 'Length of one step, e.g. 1m'
complete -c aiops -n '__aiops_path_is forecast' -l window -x -d 'Update window START/DURATION'
complete -c aiops -n '__aiops_path_is forecast' -l horizon -x -d 'Window right after the trace, e.g. 15m'
complete -c aiops -n '__aiops_path_is forecast' -l season -x -d 'One cycle of N intervals'
complete -c aiops -n '__aiops_path_is forecast' -l config -r -F -d 'Configuration file'
complete -c aiops -n '__aiops_path_is forecast' -l out -r -F -d 'Write the priority list here'
complete -c aiops -n '__aiops_path_is forecast' -l plot -x -a '(__fish_complete_directories)' -d 'Write one SVG per client here'
complete -c aiops -n '__aiops_path_is forecast' -l backtest -x -d 'Hold out the last N intervals'
complete -c aiops -n '__aiops_path_is forecast' -l jobs -x -d 'Threads fitting models'
complete -c aiops -n '__aiops_path_is forecast' -l json -d 'Print the result as JSON'
