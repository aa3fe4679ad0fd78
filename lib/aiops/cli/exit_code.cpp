#include "aiops/cli/exit_code.hpp"

namespace aiops::cli {

int exit_code_for(const Error& error) noexcept {
  switch (error.code()) {
    case Errc::corrupt: return exit_check_failed;
    case Errc::invalid_argument:
    case Errc::invalid_input:
    case Errc::unsupported:
    case Errc::not_found: return exit_invalid_input;
    case Errc::busy: return exit_busy;
    case Errc::timeout:
    case Errc::unreachable:
    case Errc::disconnected: return exit_unreachable;
    case Errc::permission_denied:
    case Errc::io_error:
    case Errc::no_space:
    case Errc::log_failed:
    case Errc::crashed:
    case Errc::already_exists: return exit_system;
  }
  return exit_internal;
}

}  // namespace aiops::cli
