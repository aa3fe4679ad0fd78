#pragma once

namespace aiops::cli {

/// Parses the command line, runs the chosen subcommand and returns the exit
/// code (cli/exit_code.hpp). Errors become one line on stderr.
[[nodiscard]] int run(int argc, char** argv);

}  // namespace aiops::cli
