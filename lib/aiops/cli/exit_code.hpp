#pragma once
// The documented exit codes of the `aiops` tool (man/aiops.1, EXIT STATUS).
// This is the only place that maps library errors to them.

#include "aiops/core/error.hpp"

namespace aiops::cli {

enum ExitCode : int {
  exit_ok = 0,
  exit_check_failed = 1,   // the command ran and found damage / lost writes
  exit_usage = 2,          // bad command line
  exit_invalid_input = 3,  // configuration, trace or other input file is invalid
  exit_system = 4,         // I/O or system error (disk, permissions, space)
  exit_unreachable = 5,    // the worker cannot be reached or broke the protocol
  exit_busy = 6,           // someone else holds the lock / runs an update
  exit_rolled_back = 7,    // aiops update: the swap failed; the old worker serves
  exit_internal = 70,      // a bug: an unexpected exception
};

[[nodiscard]] int exit_code_for(const Error& error) noexcept;

}  // namespace aiops::cli
