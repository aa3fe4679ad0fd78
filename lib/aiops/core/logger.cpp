#include "aiops/core/logger.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace aiops {
namespace {

std::mutex mu;
std::string program = "aiops";
LogLevel lowest_level = LogLevel::info;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warning: return "warning";
    case LogLevel::error: return "error";
  }
  return "?";
}

}  // namespace

void set_log_identity(std::string_view name, LogLevel lowest) {
  std::lock_guard lock(mu);
  program = name;
  lowest_level = lowest;
}

void log_line(LogLevel level, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock(mu);
  if (level < lowest_level) return;
  std::fprintf(stderr, "%s.%03dZ %s[%d] %s: %.*s\n", stamp, static_cast<int>(millis), program.c_str(),
               static_cast<int>(::getpid()), level_name(level), static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace aiops
