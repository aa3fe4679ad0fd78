#pragma once
// Keeps the worker's priority list in force in step with the priority list
// file (forecast.priority_file of aiops.toml; format in
// specbuf/priority_list.hpp), so that a list that `aiops forecast` writes is
// used without restarting the worker.
//
// At start() and then every forecast.reload_interval it stats the file and
// compares device, inode, size, modification and change time with what it
// saw last; only a difference counts as a change (an atomic replace, as
// save_priority_list does, always gives a new inode). On a change:
//   * the file exists and loads (load_priority_list, against the worker's
//     configuration): the list is published to the speculative buffer
//     (Buffer::publish_priorities) and is in force; one info line says so,
//     with the list's source, client count and generated time;
//   * the file exists but does not load: the error (FILE:LINE:COLUMN: ...)
//     is logged once, kept for status(), and the list in force stays until
//     the file changes again;
//   * the file does not exist (removed, or never written): the SLA list
//     (priorities_from_sla) is published and in force;
//   * the file cannot be looked at (stat fails other than ENOENT): logged
//     once, the list in force stays.
// "The list in force" before the first list was put in force is what the
// buffer holds: the list a previous worker or `aiops phase prepare`
// published into the segment, or the SLA list.
// The first look, in start(), counts as a change, so a starting worker puts
// the file's list (or the SLA list) in force before it reports ready, and a
// worker that takes over in a live update puts in force what the file says
// under its own configuration.
//
// The file is read by whatever reads it when it is stat'ed; a file being
// written in place may be read half-written and refused, and is read again
// once its writer is done, since that changes its size or times. Writers
// should still replace the file atomically.
//
// Live update: the old worker stops its reloader before it hands the buffer
// over (nothing may be published into a buffer another process owns), and
// starts it again if the swap is rolled back; the new worker runs its own.
//
// Thread-safety: start(), stop() and status() may be called from any
// thread; the periodic checks run on the io_context. One mutex orders them,
// so once stop() has returned nothing is published until start(). The
// object must outlive the io_context's handlers (destroy it after the
// io_context stops running, as Worker::stop_io does).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "aiops/config/config.hpp"
#include "aiops/core/asio.hpp"
#include "aiops/specbuf/buffer.hpp"
#include "aiops/specbuf/priority_list.hpp"

namespace aiops::worker {

class PriorityReloader {
 public:
  /// `config` and `buffer` must outlive the reloader.
  PriorityReloader(boost::asio::io_context& io, const config::Config& config, specbuf::Buffer& buffer);
  ~PriorityReloader();
  PriorityReloader(const PriorityReloader&) = delete;
  PriorityReloader& operator=(const PriorityReloader&) = delete;

  /// Looks at the file now, on the calling thread, then every
  /// reload_interval on the io_context. Does nothing when running.
  void start();
  /// Stops the periodic checks; a check under way finishes first.
  void stop();

  /// The list in force and where it came from:
  ///   {"file": configured path, "reload_interval_s": number,
  ///    "running": bool, "source": the list's source ("forecast", "sla",
  ///    what the file says), or "buffer" when a bad file at the first look
  ///    left in force what the segment held,
  ///    "generated": "2026-11-25T10:00:00Z" or null,
  ///    "loaded_from": path or null (not from the file),
  ///    "since": when this reloader put it in force, or null,
  ///    "changes": how many lists it put in force,
  ///    "in_buffer": whether the segment header holds this list (client
  ///                 ids, ranks, scores); false when something else, such
  ///                 as `aiops phase prepare` reading a newer file, has
  ///                 published since,
  ///    "error": the last problem with the file, while it lasts (absent
  ///             otherwise),
  ///    "clients": [{"name", "id", "rank", "score", and those of
  ///                 "predicted_ops", "predicted_bytes", "interval",
  ///                 "window", "model", "app_type" the file gave}]}
  [[nodiscard]] nlohmann::json status() const;
  /// The list in force.
  [[nodiscard]] specbuf::PriorityList in_force() const;

 private:
  // What stat said about the file. Equal stamps: no change.
  struct Stamp {
    int error = 0;  // errno of a failed stat other than ENOENT; 0 otherwise
    bool exists = false;
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t modified_ns = 0;
    int64_t changed_ns = 0;

    bool operator==(const Stamp&) const = default;
  };

  [[nodiscard]] Stamp look() const;
  void check();                  // mu_ held
  void arm(uint64_t epoch);      // mu_ held
  void put_in_force(specbuf::PriorityList list, std::string loaded_from);  // mu_ held

  boost::asio::steady_timer timer_;
  const config::Config& config_;
  specbuf::Buffer& buffer_;

  mutable std::mutex mu_;
  bool running_ = false;
  uint64_t epoch_ = 0;  // a new one at each start(): handlers of an earlier one end
  std::optional<Stamp> seen_;  // nothing before the first look
  specbuf::PriorityList in_force_;
  std::string loaded_from_;  // empty: the SLA list
  std::chrono::system_clock::time_point since_{};
  uint64_t changes_ = 0;
  std::string error_;  // empty when the file is fine (or absent)
};

}  // namespace aiops::worker
