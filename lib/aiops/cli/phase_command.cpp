// `aiops phase <step>`: one step of a live update, through the running
// worker or — for validate, reorder and apply — directly on the segment and
// the log when no worker runs. `aiops buffer inspect|remove`: the
// speculative buffer's shared-memory segment, read directly.

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/cli/instance.hpp"
#include "aiops/core/units.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/phase/engine.hpp"
#include "aiops/specbuf/buffer.hpp"
#include "aiops/specbuf/inspect.hpp"
#include "aiops/worker/control_client.hpp"
#include "aiops/worker/worker.hpp"

namespace aiops::cli {
namespace {

// A step may apply a full buffer; the worker answers when it is done.
constexpr auto phase_timeout = std::chrono::minutes(30);

struct PhaseOptions {
  std::string step;
  std::string config;
  bool json = false;
  // swap
  std::string binary;
  std::string sha256;
  double timeout_s = 30;
  std::string mode = "migrate";
};

struct BufferOptions {
  std::string config;
  bool json = false;
  bool force = false;
};

void print_phase(const nlohmann::json& r) {
  char took[32];
  std::snprintf(took, sizeof took, "%.3f s", r.value("seconds", 0.0));
  std::cout << "phase " << r.value("step", "?") << ": done in " << took << "; phase is now " << r.value("phase", "?");
  if (r.contains("offline") && r["offline"].get<bool>()) std::cout << " (no worker running: done directly)";
  std::cout << "\n";
  for (const auto& [key, value] : r.items()) {
    if (key == "ok" || key == "step" || key == "phase" || key == "seconds" || key == "entries" || key == "offline")
      continue;
    std::cout << "  " << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
  }
  if (r.contains("entries")) {
    const auto& e = r["entries"];
    std::cout << "  buffer totals: accepted " << e.value("accepted", 0) << ", valid " << e.value("valid", 0)
              << ", rejected " << e.value("rejected", 0) << ", applied " << e.value("applied", 0) << ", discarded "
              << e.value("discarded", 0) << "\n";
  }
  std::cout.flush();
}

bool runs_offline(phase::Step step) {
  return step == phase::Step::validate || step == phase::Step::reorder || step == phase::Step::apply;
}

// No worker answers: the tool opens the log itself (taking its lock, so a
// worker that is starting cannot write meanwhile) and works on the segment.
nlohmann::json run_offline(const config::Config& config, phase::Step step) {
  auto options = worker::store_options(config);
  options.log.generation = need(phase::saved_generation(config));
  auto store = store::BlockStore::open(io::posix_file_system(), options);
  if (!store.ok()) {
    if (store.error().code() == Errc::busy)
      throw CommandFailed(Error(Errc::busy, "no worker answers on " + config.worker.control_socket.string() +
                                                " but the log is locked by another process: " +
                                                store.error().message()));
    throw CommandFailed(store.error());
  }
  auto buffer = specbuf::Buffer::open(config, specbuf::Buffer::Mode::offline);
  if (!buffer.ok()) {
    if (buffer.error().code() == Errc::not_found)
      throw CommandFailed(Error(Errc::not_found, std::string(phase::step_name(step)) + ": " +
                                                     buffer.error().message() + " — this instance has no buffer"));
    throw CommandFailed(buffer.error());
  }
  phase::EngineContext context{config, **buffer, **store, false, options.log.generation, nlohmann::json::array(), {},
                               {}};  // offline: no scheduler queue to drain
  nlohmann::json r = need(phase::run_step(context, step));
  r["ok"] = true;
  r["offline"] = true;
  return r;
}

int run_phase(const PhaseOptions& o) {
  const auto step = phase::parse_step(o.step);
  if (!step) throw CommandFailed(Error(Errc::invalid_argument, "no phase step \"" + o.step + "\""), exit_usage);
  nlohmann::json request = {{"command", "phase"}, {"step", o.step}};
  if (*step == phase::Step::swap) {
    if (o.binary.empty()) throw CommandFailed(Error(Errc::invalid_argument, "phase swap needs --binary PATH"), exit_usage);
    request["binary"] = std::filesystem::absolute(o.binary).string();
    request["mode"] = o.mode;
    request["timeout_s"] = o.timeout_s;
    if (!o.sha256.empty()) request["sha256"] = o.sha256;
  } else if (!o.binary.empty() || !o.sha256.empty()) {
    throw CommandFailed(Error(Errc::invalid_argument, "--binary and --sha256 belong to phase swap"), exit_usage);
  }
  config::Config config = load_instance_config(o.config);
  auto reply = worker::control_request(config.worker.control_socket, request, phase_timeout);
  nlohmann::json result;
  if (reply.ok()) {
    if (!reply->value("ok", false)) {
      // The worker's error code, so the exit status is the one the step
      // would have had run here; a corrupt log is a system failure of the
      // step, not a finding of a check.
      Errc code = Errc::io_error;
      const std::string name = reply->value("code", std::string());
      for (int i = 0; i <= static_cast<int>(Errc::disconnected); ++i)
        if (errc_name(Errc(i)) == name) code = Errc(i);
      if (code == Errc::corrupt) code = Errc::io_error;
      Error e(code, "phase " + o.step + ": " + reply->value("error", std::string("?")));
      if (*step == phase::Step::swap && code != Errc::busy) throw CommandFailed(e, exit_rolled_back);
      throw CommandFailed(e);
    }
    result = *reply;
  } else if (reply.error().code() == Errc::timeout) {
    throw CommandFailed(Error(Errc::timeout, "phase " + o.step + ": " + reply.error().message() +
                                                 "; the step may still be running (aiops buffer inspect shows it)"));
  } else if (reply.error().code() == Errc::unreachable && runs_offline(*step)) {
    result = run_offline(config, *step);
  } else if (reply.error().code() == Errc::unreachable) {
    throw CommandFailed(Error(Errc::unreachable, "phase " + o.step + " needs the running worker: " +
                                                     reply.error().message()));
  } else {
    throw CommandFailed(reply.error());
  }
  if (o.json) print_json(result);
  else print_phase(result);
  return exit_ok;
}

void print_inspect(const nlohmann::json& d) {
  if (!d.value("exists", true)) {
    std::cout << "no buffer: " << d.value("segment", "?") << " does not exist (the worker creates it when it starts)\n";
    return;
  }
  const auto& e = d["entries"];
  std::cout << "buffer " << d.value("segment", "?") << ": phase " << d.value("phase", "?") << ", intake "
            << d.value("intake", "?");
  if (!d["step_running"].is_null())
    std::cout << ", step " << d["step_running"].get<std::string>() << " "
              << (d.value("step_interrupted", false) ? "INTERRUPTED (run it again)" : "running");
  std::cout << "\n";
  std::cout << "entries: " << e.value("pending", 0) << " pending, " << e.value("valid", 0) << " valid, "
            << e.value("rejected", 0) << " rejected, " << e.value("writing", 0) << " writing, "
            << e.value("applied", 0) << " applied (" << e.value("live", 0) << " of " << e.value("capacity", 0)
            << " slots)\n";
  std::cout << "bytes: " << format_size(d.value("bytes_used", uint64_t{0})) << " used, "
            << format_size(d.value("bytes_free", uint64_t{0})) << " free";
  if (!d["oldest_entry_age_s"].is_null()) {
    char age[32];
    std::snprintf(age, sizeof age, "%.1f s", d["oldest_entry_age_s"].get<double>());
    std::cout << "; oldest entry " << age;
  }
  std::cout << "\n";
  if (!d["clients"].empty()) {
    std::printf("%-16s %10s %12s\n", "client", "entries", "bytes");
    std::fflush(stdout);
    for (const auto& c : d["clients"]) {
      std::printf("%-16s %10llu %12s\n", c["client"].get<std::string>().c_str(), c["entries"].get<unsigned long long>(),
                  format_size(c["bytes"].get<uint64_t>()).c_str());
    }
    std::fflush(stdout);
  }
  const auto& t = d["totals"];
  std::cout << "totals: accepted " << t.value("accepted", 0) << ", valid " << t.value("valid", 0) << ", rejected "
            << t.value("rejected", 0) << ", applied " << t.value("applied", 0) << ", discarded "
            << t.value("discarded", 0) << ", refused (full) " << t.value("refused_full", 0) << "\n";
  std::cout.flush();
}

std::string segment_name(const config::Config& config) {
  return specbuf::Segment::name_for(config.worker.name, config.worker.data_dir);
}

int run_inspect(const BufferOptions& o) {
  config::Config config = load_instance_config(o.config);
  const std::string name = segment_name(config);
  auto segment = specbuf::Segment::attach(name, static_cast<uint32_t>(::geteuid()));
  nlohmann::json doc;
  if (!segment.ok() && segment.error().code() == Errc::not_found) {
    doc = {{"exists", false},
           {"segment", "/dev/shm/" + name},
           {"phase", "idle"},
           {"intake", "log"},
           {"step_running", nullptr},
           {"entries", {{"writing", 0}, {"pending", 0}, {"valid", 0}, {"rejected", 0}, {"applied", 0}, {"live", 0}}},
           {"bytes_used", 0},
           {"oldest_entry_age_s", nullptr},
           {"clients", nlohmann::json::array()}};
  } else {
    doc = specbuf::inspect(*need(std::move(segment)), config);
    doc["exists"] = true;
  }
  if (o.json) print_json(doc);
  else print_inspect(doc);
  return exit_ok;
}

int run_remove(const BufferOptions& o) {
  config::Config config = load_instance_config(o.config);
  const std::string name = segment_name(config);
  // A running worker keeps using its mapping after the name is gone, and
  // what it buffers then can no longer be found by anyone else.
  if (worker::control_request(config.worker.control_socket, {{"command", "status"}}, std::chrono::seconds(5)).ok())
    throw CommandFailed(Error(Errc::busy, "a worker is running for " + o.config +
                                              "; stop it before removing its buffer"));
  auto segment = specbuf::Segment::attach(name, static_cast<uint32_t>(::geteuid()));
  const bool existed = segment.ok() || segment.error().code() != Errc::not_found;
  if (!segment.ok() && segment.error().code() != Errc::not_found && !o.force) throw CommandFailed(segment.error());
  if (segment.ok() && !o.force) {
    const auto& h = (*segment)->header();
    const uint64_t live = (*segment)->occupancy().entries;
    if (h.phase.load() != 0 || h.intake.load() != 0 || live > 0)
      throw CommandFailed(Error(Errc::busy, "buffer /dev/shm/" + name + " is in phase " +
                                                std::string(phase::phase_name(phase::Step{h.phase.load()})) + " with " +
                                                std::to_string(live) +
                                                " entries; apply and deactivate it first, or use --force to "
                                                "drop its entries (acknowledged writes among them are lost)"));
  }
  need(specbuf::Segment::remove(name));
  if (o.json) print_json({{"segment", "/dev/shm/" + name}, {"removed", existed}});
  else std::cout << (existed ? "removed /dev/shm/" : "no segment /dev/shm/") << name << "\n";
  return exit_ok;
}

}  // namespace

void add_phase_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<PhaseOptions>();
  CLI::App* phase = app.add_subcommand(
      "phase", "Run one step of a live update: prepare, activate, flush, validate, reorder, swap, apply, "
               "deactivate (through the running worker; validate, reorder and apply also without one)");
  phase->add_option("step", o->step, "The step to run")
      ->required()
      ->check(CLI::IsMember({"prepare", "activate", "flush", "validate", "reorder", "swap", "apply", "deactivate"}));
  phase->add_option("--config", o->config, "The worker's configuration file")->required();
  phase->add_option("--binary", o->binary, "swap: the new aiops-worker binary to start");
  phase->add_option("--sha256", o->sha256, "swap: the binary's expected SHA-256 (64 hex digits)");
  phase->add_option("--timeout", o->timeout_s, "swap: seconds the new binary has to report ready (default 30)")
      ->check(CLI::PositiveNumber);
  phase->add_option("--mode", o->mode, "swap: migrate (default), listeners or release")
      ->check(CLI::IsMember({"migrate", "listeners", "release"}));
  phase->add_flag("--json", o->json, "Print what the step did as JSON");
  phase->callback([&action, o] { action = [o] { return run_phase(*o); }; });
}

void add_buffer_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<BufferOptions>();
  CLI::App* buffer = app.add_subcommand("buffer", "Look at the speculative write buffer in shared memory");
  buffer->require_subcommand(1);
  CLI::App* inspect = buffer->add_subcommand(
      "inspect", "Phase, entries by state, bytes used and free, per-client counts, oldest entry age");
  inspect->add_option("--config", o->config, "The worker's configuration file")->required();
  inspect->add_flag("--json", o->json, "Print as JSON");
  inspect->callback([&action, o] { action = [o] { return run_inspect(*o); }; });
  CLI::App* remove = buffer->add_subcommand(
      "remove", "Remove the segment; only when idle and empty unless --force");
  remove->add_option("--config", o->config, "The worker's configuration file")->required();
  remove->add_flag("--force", o->force, "Remove it even if it holds entries (they are lost)");
  remove->add_flag("--json", o->json, "Print as JSON");
  remove->callback([&action, o] { action = [o] { return run_remove(*o); }; });
}

}  // namespace aiops::cli
