#include "aiops/cli/command.hpp"

#include <unistd.h>

#include <iostream>

#include "aiops/cli/exit_code.hpp"
#include "aiops/core/units.hpp"

namespace aiops::cli {

CommandFailed::CommandFailed(Error error)
    : CommandFailed(error, exit_code_for(error)) {}

CommandFailed::CommandFailed(Error error, int exit_code)
    : std::runtime_error(error.message()), error_(std::move(error)), exit_code_(exit_code) {}

void need(const Status& status) {
  if (!status.ok()) throw CommandFailed(status.error());
}

void print_json(const nlohmann::json& doc) { std::cout << doc.dump(2) << '\n' << std::flush; }

uint64_t size_option(const std::string& name, const std::string& text, uint64_t max) {
  auto r = parse_size(text);
  if (!r.ok()) throw CommandFailed(Error(Errc::invalid_argument, name + ": " + r.error().message()), exit_usage);
  if (r.value() > max) throw CommandFailed(Error(Errc::invalid_argument, name + ": too large"), exit_usage);
  return r.value();
}

bool stdout_is_tty() { return ::isatty(STDOUT_FILENO) == 1; }
bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace aiops::cli
