#include "aiops/worker/trace_recorder.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>

#include "aiops/core/logger.hpp"

namespace aiops::worker {

TraceRecorder::TraceRecorder(boost::asio::io_context& io, std::filesystem::path dir, std::chrono::nanoseconds interval,
                             const CounterTable& counters, std::vector<ClientInfo> clients)
    : timer_(io), dir_(std::move(dir)), interval_(interval), counters_(counters), clients_(std::move(clients)) {}

TraceRecorder::~TraceRecorder() {
  if (file_ != nullptr) std::fclose(file_);
}

void TraceRecorder::start() {
  interval_start_ = std::chrono::system_clock::now();
  for (const auto& c : clients_) last_[c.id] = {};
  arm();
}

void TraceRecorder::arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    auto now = std::chrono::system_clock::now();
    record(interval_start_);
    interval_start_ = now;
    arm();
  });
}

void TraceRecorder::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  record(interval_start_);
}

std::FILE* TraceRecorder::file_for(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  if (file_ != nullptr && open_day_ == day) return file_;
  if (file_ != nullptr) std::fclose(file_);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  std::filesystem::path path = dir_ / (std::string(day) + ".csv");
  bool fresh = !std::filesystem::exists(path, ec);
  file_ = std::fopen(path.c_str(), "a");
  open_day_ = day;
  if (file_ == nullptr) {
    if (!warned_) log_warning("I/O history: cannot open " + path.string() + ": " + std::strerror(errno));
    warned_ = true;
    return nullptr;
  }
  if (fresh) std::fputs("timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential\n", file_);
  return file_;
}

void TraceRecorder::record(std::chrono::system_clock::time_point interval_start) {
  std::FILE* f = nullptr;
  long long stamp = std::chrono::duration_cast<std::chrono::seconds>(interval_start.time_since_epoch()).count();
  double length_s = std::chrono::duration<double>(std::chrono::system_clock::now() - interval_start).count();
  for (const auto& c : clients_) {
    const ClientCounters& now = counters_.at(c.id);
    Totals cur{now.reads.load(std::memory_order_relaxed), now.writes.load(std::memory_order_relaxed),
               now.read_bytes.load(std::memory_order_relaxed), now.write_bytes.load(std::memory_order_relaxed),
               now.sequential.load(std::memory_order_relaxed)};
    Totals& prev = last_[c.id];
    Totals d{cur.reads - prev.reads, cur.writes - prev.writes, cur.read_bytes - prev.read_bytes,
             cur.write_bytes - prev.write_bytes, cur.sequential - prev.sequential};
    prev = cur;
    if (d.reads == 0 && d.writes == 0) continue;
    if (f == nullptr && (f = file_for(interval_start)) == nullptr) return;
    std::fprintf(f, "%lld,%.3f,%s,%llu,%llu,%llu,%llu,%llu\n", stamp, length_s, c.name.c_str(),
                 static_cast<unsigned long long>(d.reads), static_cast<unsigned long long>(d.writes),
                 static_cast<unsigned long long>(d.read_bytes), static_cast<unsigned long long>(d.write_bytes),
                 static_cast<unsigned long long>(d.sequential));
  }
  if (f != nullptr && std::fflush(f) != 0 && !warned_) {
    log_warning("I/O history: write to " + dir_.string() + " failed: " + std::strerror(errno));
    warned_ = true;
  }
}

}  // namespace aiops::worker
