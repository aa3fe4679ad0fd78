#pragma once
// Readiness and status for systemd (Type=notify): a datagram to the Unix
// socket named by $NOTIFY_SOCKET ("@name" for the abstract namespace), in
// the sd_notify(3) text format, e.g. "READY=1\nMAINPID=4242". Nothing is
// sent when the variable is unset. No libsystemd is needed for this.

#include <string_view>

#include "aiops/core/error.hpp"

namespace aiops::worker {

[[nodiscard]] Status sd_notify(std::string_view state);

}  // namespace aiops::worker
