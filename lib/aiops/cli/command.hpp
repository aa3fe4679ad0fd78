#pragma once
// Shared pieces of the `aiops` subcommands: how a command reports failure
// and prints machine-readable output. Each command file registers its
// subcommands with an `add_*_commands` function (cli/commands.hpp).

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "aiops/core/error.hpp"

namespace aiops::cli {

/// What a parsed subcommand does; returns the process exit code.
using Action = std::function<int()>;

/// Thrown by command code to stop with one error line on stderr (and, with
/// --json, an error object on stdout) and the exit code of `error`.
class CommandFailed : public std::runtime_error {
 public:
  explicit CommandFailed(Error error);
  CommandFailed(Error error, int exit_code);
  [[nodiscard]] const Error& error() const noexcept { return error_; }
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

 private:
  Error error_;
  int exit_code_;
};

/// Unwrap a Result / Status or throw CommandFailed with its error.
template <class T>
T need(Result<T> result) {
  if (!result.ok()) throw CommandFailed(result.error());
  return std::move(result).value();
}
void need(const Status& status);

/// Prints `doc` on stdout, indented, followed by a newline.
void print_json(const nlohmann::json& doc);

/// The size an option was given (a number or e.g. "4KiB"); a malformed or
/// too large one stops the command with exit code 2 (bad command line),
/// naming the option.
[[nodiscard]] uint64_t size_option(const std::string& name, const std::string& text, uint64_t max = UINT64_MAX);

/// True when stdout is a terminal (progress output is shown only then).
[[nodiscard]] bool stdout_is_tty();
[[nodiscard]] bool stderr_is_tty();

}  // namespace aiops::cli
