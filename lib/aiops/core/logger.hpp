#pragma once
// Log lines of the aiops programs, on stderr: one line per event,
// "2026-11-25T10:14:03.123Z aiops-worker[4242] warning: MESSAGE".
// The message names what it is about (client, volume, path, offset).
//
// Thread-safety: lines from different threads never interleave.

#include <string_view>

namespace aiops {

enum class LogLevel { debug, info, warning, error };

/// Sets the program name in each line and the lowest level printed (info by
/// default); call once at start-up.
void set_log_identity(std::string_view program, LogLevel lowest = LogLevel::info);

void log_line(LogLevel level, std::string_view message);
inline void log_info(std::string_view m) { log_line(LogLevel::info, m); }
inline void log_warning(std::string_view m) { log_line(LogLevel::warning, m); }
inline void log_error(std::string_view m) { log_line(LogLevel::error, m); }
inline void log_debug(std::string_view m) { log_line(LogLevel::debug, m); }

}  // namespace aiops
