// `aiops update`: the whole live update (phase/update.hpp), with one line
// per step and the old and new pids.

#include <cstdio>
#include <iostream>
#include <memory>

#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/cli/instance.hpp"
#include "aiops/phase/update.hpp"

namespace aiops::cli {
namespace {

struct UpdateCommandOptions {
  std::string binary;
  std::string config;
  std::string sha256;
  double timeout_s = 30;
  std::string mode = "migrate";
  bool json = false;
};

int run_update_command(const UpdateCommandOptions& o) {
  config::Config config = load_instance_config(o.config);
  phase::UpdateOptions options;
  options.binary = o.binary;
  if (!o.sha256.empty()) options.sha256 = o.sha256;
  options.timeout_s = o.timeout_s;
  options.mode = *swap::parse_mode(o.mode);
  if (!o.json)
    options.on_step = [](const std::string& step, double ms) {
      std::printf("%-11s %9.1f ms\n", step.c_str(), ms);
      std::fflush(stdout);
    };
  phase::UpdateResult r = phase::run_update(config, options);
  if (o.json) {
    print_json(r.doc);
  } else if (r.ok) {
    std::cout << "updated: pid " << r.doc.value("old_pid", 0) << " -> pid " << r.doc.value("new_pid", 0) << " (mode "
              << o.mode << ", " << r.doc.value("connections", 0) << " connections handed over";
    if (r.resumed_from != "idle") std::cout << "; resumed after phase " << r.resumed_from;
    std::cout << ")\n";
  }
  if (r.ok) return exit_ok;
  if (!o.json) {
    std::cerr << "aiops: error: update: " << r.error->message();
    if (r.rolled_back) std::cerr << "; pid " << r.doc.value("old_pid", 0) << " serves on";
    std::cerr << "\n";
  }
  if (r.rolled_back) return exit_rolled_back;
  return exit_code_for(*r.error);
}

}  // namespace

void add_update_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<UpdateCommandOptions>();
  CLI::App* update = app.add_subcommand(
      "update", "Live update: prepare, activate, flush, validate, reorder, swap to --binary, apply, deactivate; "
                "resumes an update left in progress");
  update->add_option("--binary", o->binary, "The new aiops-worker binary")->required();
  update->add_option("--config", o->config, "The worker's configuration file")->required();
  update->add_option("--sha256", o->sha256, "The binary's expected SHA-256 (64 hex digits)");
  update->add_option("--timeout", o->timeout_s, "Seconds the new binary has to report ready (default 30)")
      ->check(CLI::PositiveNumber);
  update->add_option("--mode", o->mode, "migrate (default): hand over connections too; listeners; release")
      ->check(CLI::IsMember({"migrate", "listeners", "release"}));
  update->add_flag("--json", o->json, "Print the result as JSON");
  update->callback([&action, o] { action = [o] { return run_update_command(*o); }; });
}

}  // namespace aiops::cli
