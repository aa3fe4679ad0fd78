// `aiops demo`: the README's main job. In a scratch directory: an instance
// (config init), a worker, recorded mixed-priority load, a live update to
// the same binary in the middle of it, `verify`, and one table per SLA
// class: before, during and after the update.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/cli/instance.hpp"
#include "aiops/config/instance_init.hpp"
#include "aiops/load/load_generator.hpp"
#include "aiops/load/verifier.hpp"
#include "aiops/load/window_report.hpp"
#include "aiops/phase/engine.hpp"
#include "aiops/phase/update.hpp"
#include "aiops/specbuf/segment.hpp"
#include "aiops/worker/control_client.hpp"

extern char** environ;

namespace aiops::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct DemoOptions {
  bool json = false;
  double seconds = 4;
  unsigned clients = 12;
  std::string worker;
  std::string mode = "migrate";
  double rate = 2000;
  double hold = 1.5;  // seconds the update keeps writes in the buffer
  unsigned max_attempts = 30;
};

std::filesystem::path default_worker() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path("aiops-worker") : self.parent_path() / "aiops-worker";
}

// Everything the demo made, removed however it ends.
class Scratch {
 public:
  Scratch() {
    char templ[] = "/tmp/aiops-demo.XXXXXX";
    if (::mkdtemp(templ) == nullptr) throw CommandFailed(error_from_errno(errno, "mkdtemp /tmp/aiops-demo.XXXXXX"));
    dir = templ;
  }
  ~Scratch() {
    for (pid_t pid : pids)
      if (phase::process_alive(pid)) ::kill(pid, SIGKILL);
    if (child > 0) (void)::waitpid(child, nullptr, 0);
    if (!segment.empty()) (void)specbuf::Segment::remove(segment);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  std::filesystem::path dir;
  std::vector<pid_t> pids;  // workers to kill if still there
  pid_t child = 0;          // the first worker, ours to reap
  std::string segment;
};

pid_t start_worker(const std::filesystem::path& binary, const std::filesystem::path& config,
                   const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  const std::string bin = binary.string(), cfg = config.string();
  char* argv[] = {const_cast<char*>(bin.c_str()), const_cast<char*>("--config"), const_cast<char*>(cfg.c_str()),
                  nullptr};
  pid_t pid = 0;
  int e = ::posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (e != 0) throw CommandFailed(error_from_errno(e, "start " + bin));
  return pid;
}

void say(const DemoOptions& o, const std::string& line) {
  if (!o.json && stderr_is_tty()) std::fprintf(stderr, "demo: %s\n", line.c_str());
}

int run_demo(const DemoOptions& o) {
  const std::filesystem::path worker = o.worker.empty() ? default_worker() : std::filesystem::path(o.worker);
  if (::access(worker.c_str(), X_OK) != 0)
    throw CommandFailed(Error(Errc::not_found, "no aiops-worker at " + worker.string() + " (use --worker PATH)"));
  Scratch scratch;
  need(config::init_instance(scratch.dir, false));
  config::Config config = load_instance_config((scratch.dir / "aiops.toml").string());
  scratch.segment = specbuf::Segment::name_for(config.worker.name, config.worker.data_dir);
  say(o, "instance in " + scratch.dir.string() + "; starting " + worker.string());
  scratch.child = start_worker(worker, scratch.dir / "aiops.toml", scratch.dir / "worker.log");
  scratch.pids.push_back(scratch.child);
  nlohmann::json status;
  for (int i = 0;; ++i) {
    auto s = worker::control_request(config.worker.control_socket, {{"command", "status"}}, std::chrono::seconds(2));
    if (s.ok()) {
      status = *s;
      break;
    }
    if (i > 100 || !phase::process_alive(scratch.child))
      throw CommandFailed(Error(Errc::unreachable, "the worker did not start; its log: " +
                                                       (scratch.dir / "worker.log").string()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  config::Credentials credentials = load_instance_credentials(config);
  load::LoadOptions lo;
  lo.endpoint = native_endpoint(config);
  lo.identities = identities(config, credentials);
  lo.clients = o.clients;
  lo.duration = std::chrono::duration<double>(3 * o.seconds + 1);
  lo.read_ratio = 0.2;
  // Gold and silver at the paced rate, bronze as fast as the worker lets
  // it: the table shows what the scheduler does for each class.
  lo.class_rate = {{"gold", o.rate / 2}, {"silver", o.rate / 2}, {"bronze", 0.0}};
  lo.timeline = true;
  // Refused bronze requests wait out the worker's delays through the hold;
  // enough attempts that none gives up before the buffer drains.
  lo.max_attempts = o.max_attempts;
  lo.record = scratch.dir / "load.rec";
  say(o, std::to_string(o.clients) + " clients (gold and silver paced, bronze flooding) writing and reading for " +
             std::to_string(static_cast<int>(3 * o.seconds + 1)) + " s");
  Result<load::LoadResult> loaded = Error(Errc::invalid_argument, "load did not run");
  std::thread load_thread([&] { loaded = load::run_load(lo); });

  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds + 0.5));
  say(o, "live update to " + worker.string() + " (mode " + o.mode + ")");
  phase::UpdateOptions uo;
  uo.binary = worker;
  uo.mode = *swap::parse_mode(o.mode);
  // Hold after activate, as a runbook that inspects before it flushes: the
  // buffer takes every write meanwhile, so its watermarks and the
  // scheduler's priorities decide who waits (bronze first, gold last).
  uo.on_step = [&o](const std::string& step, double) {
    if (step == "activate" && o.hold > 0) {
      char line[96];
      std::snprintf(line, sizeof line, "writes go to the buffer; holding %.1f s before flush", o.hold);
      say(o, line);
      std::this_thread::sleep_for(std::chrono::duration<double>(o.hold));
    }
  };
  const auto update_begin = Clock::now();
  phase::UpdateResult update = phase::run_update(config, uo);
  const auto update_end = Clock::now();
  if (update.ok) scratch.pids.push_back(update.doc.value("new_pid", 0));
  load_thread.join();
  load::LoadResult r = need(std::move(loaded));

  say(o, "verifying every recorded block");
  load::VerifyOptions vo;
  vo.endpoint = lo.endpoint;
  vo.record = *lo.record;
  vo.client = lo.identities.front().name;
  vo.token = lo.identities.front().token;
  load::VerifyResult verified = need(load::run_verify(vo));

  // Stop whichever worker serves now, and wait until it is gone.
  if (auto s = worker::control_request(config.worker.control_socket, {{"command", "status"}}, std::chrono::seconds(5));
      s.ok()) {
    const pid_t serving = s->value("pid", 0);
    ::kill(serving, SIGTERM);
    for (int i = 0; i < 300 && phase::process_alive(serving); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  const auto since_start = [&](Clock::time_point t) { return std::chrono::duration<double>(t - r.started).count(); };
  const double t0 = since_start(update_begin), t1 = since_start(update_end);
  const std::vector<load::Window> windows = {{"before", 0.5, t0}, {"during", t0, t1}, {"after", t1, r.seconds}};
  const auto rows = load::window_report(r, windows);
  const bool clean = update.ok && r.refused == 0 && r.disconnects == 0 && r.errors == 0 && verified.lost == 0 &&
                     verified.unexpected == 0 && r.read_mismatches == 0;

  if (o.json) {
    nlohmann::json classes = nlohmann::json::array();
    for (const auto& w : rows)
      classes.push_back({{"sla", w.sla},
                         {"window", w.window},
                         {"seconds", w.seconds},
                         {"ops", w.ok},
                         {"ops_per_s", w.ops_per_s},
                         {"p99_ms", w.p99_ms},
                         {"max_ms", w.max_ms},
                         {"max_stall_ms", w.max_stall_ms},
                         {"refusals", w.errors},
                         {"disconnects", w.disconnects},
                         {"refused", w.refused}});
    nlohmann::json retry = nlohmann::json::object();
    for (const auto& [sla, c] : r.classes)
      retry[sla] = {{"first_attempts", c.first_attempts}, {"retries", c.retries}, {"refusals", c.refusals},
                    {"mean_delay_ms", c.mean_delay_ms()}};
    print_json({{"ok", clean},
                {"update", update.doc},
                {"classes", classes},
                {"retry", retry},
                {"refused", r.refused},
                {"disconnects", r.disconnects},
                {"errors", r.errors},
                {"errors_by_status", r.errors_by_status},
                {"read_mismatches", r.read_mismatches},
                {"acked", r.acked},
                {"checked", verified.checked},
                {"lost", verified.lost},
                {"unexpected", verified.unexpected}});
  } else {
    if (update.ok)
      std::printf("live update (%s): worker pid %d -> pid %d, %d connections handed over, clients paused %.1f ms\n",
                  o.mode.c_str(), update.doc.value("old_pid", 0), update.doc.value("new_pid", 0),
                  update.doc.value("connections", 0), update.doc.value("pause_ms", 0.0));
    else
      std::printf("live update FAILED: %s\n", update.error ? update.error->message().c_str() : "?");
    std::printf("phases:");
    for (const auto& p : update.doc["phases"]) {
      std::printf(" %s %.1f ms", p.value("name", "?").c_str(), p.value("ms", 0.0));
      if (p.value("name", "") == "activate" && o.hold > 0) std::printf(" (then writes held in the buffer %.1f s)", o.hold);
    }
    std::printf("\n\n%-8s %-7s %9s %9s %9s %13s %9s\n", "class", "window", "ops/s", "p99 ms", "max ms", "max stall ms",
                "refusals");
    for (const auto& w : rows)
      std::printf("%-8s %-7s %9.0f %9.2f %9.2f %13.1f %9llu\n", w.sla.c_str(), w.window.c_str(), w.ops_per_s,
                  w.p99_ms, w.max_ms, w.max_stall_ms, static_cast<unsigned long long>(w.errors));
    std::printf("\n%-8s %14s %9s %9s %14s\n", "class", "first attempts", "retries", "refusals", "mean delay ms");
    for (const auto& [sla, c] : r.classes)
      std::printf("%-8s %14llu %9llu %9llu %14.1f\n", sla.c_str(), static_cast<unsigned long long>(c.first_attempts),
                  static_cast<unsigned long long>(c.retries), static_cast<unsigned long long>(c.refusals),
                  c.mean_delay_ms());
    std::printf("\nrefused %llu, disconnects %llu, errors %llu, lost %llu  (%llu writes acknowledged, %llu blocks "
                "read back by aiops verify)\n",
                static_cast<unsigned long long>(r.refused), static_cast<unsigned long long>(r.disconnects),
                static_cast<unsigned long long>(r.errors), static_cast<unsigned long long>(verified.lost),
                static_cast<unsigned long long>(r.acked), static_cast<unsigned long long>(verified.checked));
    for (const auto& [why, n] : r.errors_by_status)
      std::printf("  refused by the worker with %s: %llu\n", why.c_str(), static_cast<unsigned long long>(n));
    std::printf("%s\n", clean ? "no client saw an error and no acknowledged write was lost"
                              : "PROBLEM: see the counts above");
    std::fflush(stdout);
  }
  return clean ? exit_ok : exit_check_failed;
}

}  // namespace

void add_demo_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand(
      "demo", "In a scratch directory: start a worker, drive paced gold/silver load and a bronze flood, update it live "
              "to the same binary, verify, and print each class's view before, during and after, with the refusals, "
              "retries and delays the scheduler gave");
  demo->add_option("--seconds", o->seconds, "Length of the before and after windows (default 4)")
      ->check(CLI::Range(1.0, 600.0));
  demo->add_option("--clients", o->clients, "Load clients (default 12)")->check(CLI::Range(1, 256));
  demo->add_option("--rate", o->rate,
                   "Requests per second of the gold and silver clients together (default 2000; 0 = as fast as they "
                   "can); the bronze clients always go as fast as the worker lets them")
      ->check(CLI::NonNegativeNumber);
  demo->add_option("--hold", o->hold,
                   "Seconds the update keeps writes in the buffer after activate, before it flushes (default 1.5; 0 = "
                   "no pause), so the buffer fills and the scheduler refuses the lowest class first")
      ->check(CLI::Range(0.0, 60.0));
  demo->add_option("--max-attempts", o->max_attempts,
                   "Attempts per request before a load client gives up (default 30)")
      ->check(CLI::Range(1, 1000));
  demo->add_option("--mode", o->mode, "The update's mode: migrate (default), listeners, release")
      ->check(CLI::IsMember({"migrate", "listeners", "release"}));
  demo->add_option("--worker", o->worker, "The aiops-worker binary (default: the one next to aiops)");
  demo->add_flag("--json", o->json, "Print the result as JSON");
  demo->callback([&action, o] { action = [o] { return run_demo(*o); }; });
}

}  // namespace aiops::cli
