#include "aiops/phase/engine.hpp"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>

#include "aiops/core/logger.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/io/replace_file.hpp"
#include "aiops/specbuf/inspect.hpp"

namespace aiops::phase {

namespace {

Status write_state_file(const config::Config& config, const std::string& name, const std::string& contents) {
  AIOPS_TRY(io::create_directories(io::posix_file_system(), state_dir(config)));
  return io::replace_file(io::posix_file_system(), state_dir(config) / name, contents);
}

// state/phase.json mirrors the header, so an operator (or a new binary
// without the segment, after a reboot) can see where an update stopped.
Status mirror(const EngineContext& c) {
  const auto& h = c.buffer.segment().header();
  nlohmann::json doc = phase_summary(c.buffer.segment());
  doc["generation"] = h.generation.load();
  doc["segment"] = c.buffer.segment().name();
  return write_state_file(c.config, "phase.json", doc.dump(2) + "\n");
}


Step current(const specbuf::Segment& s) { return Step{s.header().phase.load(std::memory_order_acquire)}; }

Status need_activated(const EngineContext& c, Step step) {
  const Step now = current(c.buffer.segment());
  // The intake flag too: a runner that died inside activate leaves it set
  // with the phase still "prepared".
  if (now >= Step::activate || c.buffer.intake_active()) return {};
  return Error(Errc::invalid_argument, std::string(step_name(step)) + ": the buffer was not activated (phase " +
                                           std::string(phase_name(now)) + "); run prepare and activate first");
}

Status need_worker(const EngineContext& c, Step step) {
  if (c.worker) return {};
  return Error(Errc::unreachable, std::string(step_name(step)) +
                                      " needs the running worker (it changes where the worker takes writes); "
                                      "start aiops-worker, or run validate, reorder or apply");
}

Result<nlohmann::json> prepare(EngineContext& c) {
  // The log is applied to the volumes now, while it still takes the writes:
  // what is left to apply at the swap (when the new binary opens the log)
  // is only what comes in until activate.
  AIOPS_TRY(c.store.checkpoint_now());
  AIOPS_ASSIGN(std::string text, io::read_text(io::posix_file_system(), c.config.source_file));
  AIOPS_TRY(write_state_file(c.config, "config.toml", text));
  specbuf::PriorityList list;
  std::error_code ec;
  if (std::filesystem::exists(c.config.forecast.priority_file, ec)) {
    AIOPS_ASSIGN(list, specbuf::load_priority_list(c.config.forecast.priority_file, c.config));
  } else {
    list = specbuf::priorities_from_sla(c.config);
  }
  c.buffer.publish_priorities(list);
  AIOPS_TRY(specbuf::save_priority_list(state_dir(c.config) / "priorities.in-force.toml", list));
  nlohmann::json priorities = nlohmann::json::array();
  for (const auto& p : list.clients) priorities.push_back({{"client", p.name}, {"score", p.score}, {"rank", p.rank}});
  nlohmann::json saved = {{"generation", c.generation},
                          {"config", c.config.source_file.string()},
                          {"listeners", c.listeners},
                          {"control_socket", c.config.worker.control_socket.string()},
                          {"priority_source", list.source},
                          {"priorities", priorities}};
  AIOPS_TRY(write_state_file(c.config, "update.json", saved.dump(2) + "\n"));
  AIOPS_TRY(write_state_file(c.config, "generation", std::to_string(c.generation) + "\n"));
  c.buffer.segment().header().generation.store(c.generation, std::memory_order_release);
  return nlohmann::json{{"priority_source", list.source}, {"clients", list.clients.size()},
                        {"state_dir", state_dir(c.config).string()}};
}

Result<nlohmann::json> body(EngineContext& c, Step step) {
  switch (step) {
    case Step::prepare:
      AIOPS_TRY(need_worker(c, step));
      return prepare(c);
    case Step::activate: {
      AIOPS_TRY(need_worker(c, step));
      if (current(c.buffer.segment()) < Step::prepare)
        return Error(Errc::invalid_argument, "activate: run prepare first (phase idle)");
      // Every log write queued so far is acknowledged before the first
      // buffer entry exists: the log's sync is a barrier behind them, and
      // behind those the scheduler still held.
      AIOPS_TRY(c.buffer.switch_intake(true, [&] {
        if (c.drain_log_queue) c.drain_log_queue();
        return c.store.flush();
      }));
      return nlohmann::json{{"intake", "buffer"}};
    }
    case Step::flush: {
      AIOPS_TRY(need_worker(c, step));
      AIOPS_TRY(need_activated(c, step));
      AIOPS_TRY(c.store.flush());
      return nlohmann::json{{"log_durable_sequence", c.store.stats().durable_sequence}};
    }
    case Step::validate: {
      AIOPS_TRY(need_activated(c, step));
      AIOPS_ASSIGN(auto r, c.buffer.validate());
      return nlohmann::json{{"valid", r.valid}, {"rejected", r.rejected}, {"discarded", r.discarded}};
    }
    case Step::reorder: {
      AIOPS_TRY(need_activated(c, step));
      AIOPS_ASSIGN(uint64_t ranked, c.buffer.reorder());
      return nlohmann::json{{"ordered", ranked}};
    }
    case Step::swap: {
      AIOPS_TRY(need_worker(c, step));
      if (current(c.buffer.segment()) < Step::reorder)
        return Error(Errc::invalid_argument, std::string("swap: run prepare .. reorder first (phase ") +
                                                 std::string(phase_name(current(c.buffer.segment()))) + ")");
      if (!c.swap) return Error(Errc::unsupported, "swap: this worker cannot start a successor");
      return c.swap();
    }
    case Step::apply: {
      AIOPS_TRY(need_activated(c, step));
      AIOPS_ASSIGN(auto r, c.buffer.apply(c.store));
      return nlohmann::json{{"applied", r.entries}, {"bytes", r.bytes}, {"batches", r.batches}};
    }
    case Step::deactivate: {
      AIOPS_TRY(need_worker(c, step));
      // Most of the buffer is applied while writes still come in; only the
      // rest is applied with new writes held back.
      AIOPS_ASSIGN(specbuf::ApplyReport first, c.buffer.apply(c.store));
      specbuf::ApplyReport last;
      AIOPS_TRY(c.buffer.switch_intake(false, [&]() -> Status {
        AIOPS_ASSIGN(last, c.buffer.apply(c.store));
        if (!c.buffer.reset_if_drained())
          return Error(Errc::busy, "deactivate: entries are still in the buffer after the last apply");
        return {};
      }));
      return nlohmann::json{{"intake", "log"}, {"applied", first.entries + last.entries},
                            {"applied_while_held", last.entries}};
    }
    case Step::none: break;
  }
  return Error(Errc::invalid_argument, "no such phase step");
}

}  // namespace

bool process_alive(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: trust kill()
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

std::filesystem::path state_dir(const config::Config& config) { return config.worker.data_dir / "state"; }

Result<uint64_t> saved_generation(const config::Config& config) {
  auto text = io::read_text(io::posix_file_system(), state_dir(config) / "generation");
  if (!text.ok()) return uint64_t{0};
  try {
    return static_cast<uint64_t>(std::stoull(*text));
  } catch (const std::exception&) {
    return Error(Errc::corrupt, (state_dir(config) / "generation").string() + ": not a number");
  }
}

nlohmann::json phase_summary(const specbuf::Segment& segment) {
  const auto& h = segment.header();
  const Step running{h.phase_running.load(std::memory_order_acquire)};
  nlohmann::json doc = {{"phase", phase_name(current(segment))},
                        {"intake", h.intake.load() != 0 ? "buffer" : "log"},
                        {"step_running", running == Step::none ? nlohmann::json(nullptr)
                                                               : nlohmann::json(step_name(running))}};
  if (running != Step::none) {
    const auto pid = static_cast<pid_t>(h.phase_pid.load());
    doc["step_pid"] = pid;
    doc["step_interrupted"] = !process_alive(pid);
  }
  return doc;
}

Result<nlohmann::json> run_step(EngineContext& c, Step step) {
  auto& h = c.buffer.segment().header();
  const Step interrupted{h.phase_running.load(std::memory_order_acquire)};
  if (interrupted != Step::none && interrupted != step)
    log_warning("phase: step " + std::string(step_name(interrupted)) + " was interrupted; running " +
                std::string(step_name(step)) + " now (run " + std::string(step_name(interrupted)) +
                " again to finish it)");
  h.phase_pid.store(static_cast<uint32_t>(::getpid()), std::memory_order_relaxed);
  h.phase_running.store(static_cast<uint32_t>(step), std::memory_order_release);
  (void)mirror(c);  // the step itself decides success; a stale mirror is refreshed below
  const auto started = std::chrono::steady_clock::now();
  auto result = body(c, step);
  if (!result.ok()) {
    h.phase_running.store(0, std::memory_order_release);
    (void)mirror(c);
    return result.error();
  }
  h.phase.store(step == Step::deactivate ? 0 : static_cast<uint32_t>(step), std::memory_order_release);
  h.phase_ns.store(specbuf::wall_clock_ns(), std::memory_order_relaxed);
  h.phase_running.store(0, std::memory_order_release);
  AIOPS_TRY(mirror(c));
  nlohmann::json doc = *result;
  doc["step"] = step_name(step);
  doc["phase"] = phase_name(current(c.buffer.segment()));
  doc["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  doc["entries"] = specbuf::entry_totals(c.buffer.segment());
  log_info("phase " + std::string(step_name(step)) + " done: " + result->dump());
  return doc;
}

}  // namespace aiops::phase
