// The worker's priority list reloader (priority_reloader.hpp).
#include "aiops/worker/priority_reloader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "aiops/core/logger.hpp"
#include "aiops/core/units.hpp"

namespace aiops::worker {
namespace {

int64_t nanoseconds_of(const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

nlohmann::json clients_json(const specbuf::PriorityList& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const specbuf::ClientPriority& c : list.clients) {
    nlohmann::json entry = {{"name", c.name}, {"id", c.id}, {"rank", c.rank}, {"score", c.score}};
    if (c.predicted_ops) entry["predicted_ops"] = *c.predicted_ops;
    if (c.predicted_bytes) entry["predicted_bytes"] = *c.predicted_bytes;
    if (c.interval) entry["interval"] = format_duration(*c.interval);
    if (c.window) entry["window"] = format_duration(*c.window);
    if (!c.model.empty()) entry["model"] = c.model;
    if (!c.app_type.empty()) entry["app_type"] = c.app_type;
    out.push_back(std::move(entry));
  }
  return out;
}

// "source forecast, 4 clients, generated 2026-11-25T10:00:00Z"; a list
// without a generation time (the SLA list) leaves the last part out.
std::string summary(const specbuf::PriorityList& list) {
  return "source " + list.source + ", " + std::to_string(list.clients.size()) + " clients" +
         (list.generated ? ", generated " + format_utc(*list.generated) : std::string());
}

// What the buffer has in force before this reloader put anything there: the
// list a previous worker (or `aiops phase prepare`) published into the
// segment header, or, when none was, the SLA list that the buffer uses then.
specbuf::PriorityList held_by(const specbuf::Buffer& buffer, const config::Config& config) {
  specbuf::Segment& segment = buffer.segment();
  const auto& header = segment.header();
  specbuf::PriorityList out;
  out.source = "buffer";
  {
    specbuf::Segment::Lock lock(segment);
    const uint32_t n = std::min<uint32_t>(header.priority_count.load(std::memory_order_acquire),
                                          static_cast<uint32_t>(specbuf::max_priorities));
    for (uint32_t i = 0; i < n; ++i) {
      const specbuf::PriorityRow& row = header.priorities[i];
      const config::ClientConfig* client = config.find_client(row.client);
      out.clients.emplace_back(client != nullptr ? client->name : "#" + std::to_string(row.client), row.client,
                               row.score, row.rank);
    }
  }
  if (out.clients.empty()) return specbuf::priorities_from_sla(config);
  std::sort(out.clients.begin(), out.clients.end(),
            [](const specbuf::ClientPriority& a, const specbuf::ClientPriority& b) { return a.rank < b.rank; });
  return out;
}

// The buffer ranks by what its header holds: `list` cut to the rows the
// header has room for, compared by client id, rank and score.
bool held_in(const specbuf::PriorityList& list, const specbuf::PriorityList& held) {
  const std::size_t n = std::min(list.clients.size(), specbuf::max_priorities);
  if (held.clients.size() != n) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const specbuf::ClientPriority& a = list.clients[i];
    const specbuf::ClientPriority& b = held.clients[i];
    if (a.id != b.id || a.rank != b.rank || a.score != b.score) return false;
  }
  return true;
}

}  // namespace

PriorityReloader::PriorityReloader(boost::asio::io_context& io, const config::Config& config,
                                   specbuf::Buffer& buffer)
    : timer_(io), config_(config), buffer_(buffer) {}

PriorityReloader::~PriorityReloader() { stop(); }

void PriorityReloader::start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  ++epoch_;
  check();
  arm(epoch_);
}

void PriorityReloader::stop() {
  std::lock_guard lock(mu_);
  if (!running_) return;
  running_ = false;
  timer_.cancel();
}

void PriorityReloader::arm(uint64_t epoch) {
  timer_.expires_after(config_.forecast.reload_interval);
  timer_.async_wait([this, epoch](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: stop(), or a later arm()
    std::lock_guard lock(mu_);
    // A wait that had already completed when stop() cancelled it, run
    // after a later start(): that start() has its own timer chain.
    if (!running_ || epoch != epoch_) return;
    check();
    arm(epoch);
  });
}

PriorityReloader::Stamp PriorityReloader::look() const {
  Stamp stamp;
  struct stat st {};
  if (::stat(config_.forecast.priority_file.c_str(), &st) != 0) {
    if (errno != ENOENT) stamp.error = errno;
    return stamp;
  }
  stamp.exists = true;
  stamp.device = static_cast<uint64_t>(st.st_dev);
  stamp.inode = static_cast<uint64_t>(st.st_ino);
  stamp.size = static_cast<int64_t>(st.st_size);
  stamp.modified_ns = nanoseconds_of(st.st_mtim);
  stamp.changed_ns = nanoseconds_of(st.st_ctim);
  return stamp;
}

void PriorityReloader::check() {
  const Stamp stamp = look();
  if (seen_ && *seen_ == stamp) return;
  const bool first = !seen_.has_value();
  seen_ = stamp;
  const std::string& file = config_.forecast.priority_file.string();
  if (stamp.error != 0) {
    error_ = "cannot look at " + file + ": " + std::strerror(stamp.error);
    if (first) in_force_ = held_by(buffer_, config_);
    log_error("priority list: " + error_ + "; the list in force stays (" + summary(in_force_) + ")");
    return;
  }
  if (!stamp.exists) {
    error_.clear();
    put_in_force(specbuf::priorities_from_sla(config_), "");
    log_info("priority list: " + (first ? "no file " + file : file + " is gone") + "; SLA weights rank the clients (" +
             summary(in_force_) + ")");
    return;
  }
  auto list = specbuf::load_priority_list(config_.forecast.priority_file, config_);
  if (!list.ok()) {
    error_ = list.error().message();
    // At the first look nothing was put in force yet: what is, is what the
    // buffer holds.
    if (first) in_force_ = held_by(buffer_, config_);
    log_error("priority list: " + error_ + "; the list in force stays (" + summary(in_force_) +
              ") until the file changes");
    return;
  }
  error_.clear();
  put_in_force(std::move(*list), file);
  log_info("priority list: put in force " + file + " (" + summary(in_force_) + ")");
}

specbuf::PriorityList PriorityReloader::in_force() const {
  std::lock_guard lock(mu_);
  return in_force_;
}

void PriorityReloader::put_in_force(specbuf::PriorityList list, std::string loaded_from) {
  buffer_.publish_priorities(list);
  in_force_ = std::move(list);
  loaded_from_ = std::move(loaded_from);
  since_ = std::chrono::system_clock::now();
  ++changes_;
}

nlohmann::json PriorityReloader::status() const {
  std::lock_guard lock(mu_);
  nlohmann::json out = {
      {"file", config_.forecast.priority_file.string()},
      {"reload_interval_s", std::chrono::duration<double>(config_.forecast.reload_interval).count()},
      {"running", running_},
      {"changes", changes_},
  };
  out["source"] = in_force_.source;
  out["generated"] = in_force_.generated ? nlohmann::json(format_utc(*in_force_.generated)) : nlohmann::json();
  out["loaded_from"] = loaded_from_.empty() ? nlohmann::json() : nlohmann::json(loaded_from_);
  // Nothing put in force by this reloader yet (a bad file at the first
  // look): in force since before it started.
  out["since"] = changes_ > 0 ? nlohmann::json(format_utc(since_)) : nlohmann::json();
  out["clients"] = clients_json(in_force_);
  out["in_buffer"] = held_in(in_force_, held_by(buffer_, config_));
  if (!error_.empty()) out["error"] = error_;
  return out;
}

}  // namespace aiops::worker
