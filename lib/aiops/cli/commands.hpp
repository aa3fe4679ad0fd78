#pragma once
// Registration of every `aiops` subcommand, one function per command file.
// Each adds its subcommand(s) to `app` and, when one of them is chosen on the
// command line, stores what to run in `action`.

#include <CLI/CLI.hpp>

#include "aiops/cli/command.hpp"

namespace aiops::cli {

void add_config_commands(CLI::App& app, Action& action);  // config_command.cpp
void add_log_commands(CLI::App& app, Action& action);     // log_command.cpp
void add_bench_commands(CLI::App& app, Action& action);   // bench_command.cpp
void add_status_commands(CLI::App& app, Action& action);  // status_command.cpp
void add_load_commands(CLI::App& app, Action& action);    // load_command.cpp
void add_verify_commands(CLI::App& app, Action& action);  // load_command.cpp
void add_phase_commands(CLI::App& app, Action& action);   // phase_command.cpp
void add_buffer_commands(CLI::App& app, Action& action);  // phase_command.cpp
void add_update_commands(CLI::App& app, Action& action);  // update_command.cpp
void add_demo_commands(CLI::App& app, Action& action);    // demo_command.cpp
void add_forecast_commands(CLI::App& app, Action& action);  // forecast_command.cpp

}  // namespace aiops::cli
