// `aiops status --config FILE`: what the running worker says about itself.

#include <cstdio>
#include <iostream>
#include <memory>

#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/cli/instance.hpp"
#include "aiops/core/units.hpp"
#include "aiops/worker/control_client.hpp"

namespace aiops::cli {
namespace {

struct StatusOptions {
  std::string config;
  bool json = false;
};

std::string uptime(double seconds) {
  auto s = static_cast<long long>(seconds);
  char buf[64];
  if (s >= 86400) std::snprintf(buf, sizeof buf, "%lldd%lldh", s / 86400, s % 86400 / 3600);
  else if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%lldm", s / 3600, s % 3600 / 60);
  else std::snprintf(buf, sizeof buf, "%lldm%llds", s / 60, s % 60);
  return buf;
}

// The scheduler's queue, then per client: its tags, what it was served,
// and its retry budget and refusals.
void print_scheduler(const nlohmann::json& sc) {
  std::printf("scheduler: %s, %llu queued of %llu, %llu in the log of %llu\n",
              sc.value("policy", std::string("?")).c_str(), sc.value("queued", 0ull), sc.value("queue_limit", 0ull),
              sc.value("in_flight", 0ull), sc.value("queue_depth", 0ull));
  std::printf("%-16s %7s %8s %7s %10s %9s %8s %11s %8s %9s\n", "client", "weight", "reserve", "limit", "dispatched",
              "wait ms", "retries", "budget", "refused", "delay ms");
  for (const auto& c : sc["clients"]) {
    unsigned long long refused = 0;
    for (const auto& [why, n] : c["refused"].items()) refused += n.get<unsigned long long>();
    const auto& b = c["retry_budget"];
    const std::string budget =
        std::to_string(static_cast<long long>(b.value("tokens", 0.0))) + "/" +
        std::to_string(static_cast<long long>(b.value("burst", 0.0)));
    std::printf("%-16s %7.1f %8.0f %7.0f %10llu %9.2f %8llu %11s %8llu %9.1f\n",
                c.value("name", std::string("?")).c_str(), c.value("weight", 0.0), c.value("reservation", 0.0),
                c.value("limit", 0.0), c.value("dispatched", 0ull), c.value("wait_ms_mean", 0.0),
                b.value("retries", 0ull), budget.c_str(), refused, c.value("delay_ms_mean", 0.0));
  }
}

void print_human(const nlohmann::json& s) {
  std::cout << "worker " << s.value("name", "?") << " (pid " << s.value("pid", 0) << "), aiops "
            << s.value("version", "?") << ", up " << uptime(s.value("uptime_s", 0.0)) << "\n";
  for (const auto& l : s["listeners"]) std::cout << "listener: " << l["protocol"].get<std::string>() << " " << l["address"].get<std::string>() << "\n";
  std::cout << "control socket: " << s.value("control_socket", "?") << "\n";
  const auto& log = s["log"];
  std::cout << "log: " << log.value("state", "?") << ", " << log.value("records", 0) << " records, durable through "
            << log.value("durable_sequence", 0) << ", applied through " << log.value("applied_through", 0) << ", "
            << format_size(log.value("unapplied_bytes", uint64_t{0})) << " unapplied, " << log.value("checkpoints", 0)
            << " checkpoints, " << log.value("segments", 0) << " segments\n";
  if (log.contains("error")) std::cout << "log error: " << log["error"].get<std::string>() << "\n";
  std::cout << "connections: " << s.value("connections", 0) << "\n";
  if (s.contains("priorities")) {
    // The priority list in force (forecast.priority_file, reloaded).
    const auto& p = s["priorities"];
    std::cout << "priorities: " << p.value("source", "?");
    if (p.contains("loaded_from") && p["loaded_from"].is_string())
      std::cout << " from " << p["loaded_from"].get<std::string>();
    if (p.contains("generated") && p["generated"].is_string())
      std::cout << ", generated " << p["generated"].get<std::string>();
    std::cout << ", " << (p.contains("clients") ? p["clients"].size() : 0) << " clients";
    if (p.contains("error")) std::cout << "; the file is refused: " << p["error"].get<std::string>();
    std::cout << "\n";
  }
  std::printf("%-16s %-8s %5s %10s %10s %8s %12s %12s %8s\n", "client", "sla", "conn", "writes", "reads", "flushes",
              "written", "read", "refused");
  for (const auto& c : s["clients"]) {
    std::printf("%-16s %-8s %5llu %10llu %10llu %8llu %12s %12s %8llu\n", c["name"].get<std::string>().c_str(),
                c["sla"].get<std::string>().c_str(), c["connections"].get<unsigned long long>(),
                c["writes"].get<unsigned long long>(), c["reads"].get<unsigned long long>(),
                c["flushes"].get<unsigned long long>(), format_size(c["write_bytes"].get<uint64_t>()).c_str(),
                format_size(c["read_bytes"].get<uint64_t>()).c_str(), c["refused"].get<unsigned long long>());
  }
  if (s.contains("scheduler")) print_scheduler(s["scheduler"]);
  std::fflush(stdout);
}

int run_status(const StatusOptions& opt) {
  config::Config config = load_instance_config(opt.config);
  auto reply = worker::control_request(config.worker.control_socket, {{"command", "status"}}, std::chrono::seconds(5));
  if (!reply.ok()) {
    if (reply.error().code() == Errc::unreachable)
      throw CommandFailed(Error(Errc::unreachable, "no worker is running for " + opt.config + ": " + reply.error().message()));
    throw CommandFailed(reply.error());
  }
  if (!reply->value("ok", false))
    throw CommandFailed(Error(Errc::invalid_input, "the worker refused: " + reply->value("error", std::string("?"))),
                        exit_unreachable);
  if (opt.json) print_json(*reply);
  else print_human(*reply);
  return exit_ok;
}

}  // namespace

void add_status_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* status = app.add_subcommand(
      "status", "Ask the running worker (through its control socket) for its state: listeners, connections, log, "
                "per-client counters");
  status->add_option("--config", o->config, "The worker's configuration file")->required();
  status->add_flag("--json", o->json, "Print the worker's reply as JSON");
  status->callback([&action, o] { action = [o] { return run_status(*o); }; });
}

}  // namespace aiops::cli
