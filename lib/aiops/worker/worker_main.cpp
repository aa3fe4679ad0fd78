#include "aiops/worker/worker_main.hpp"

#include <iostream>

#include <CLI/CLI.hpp>

#include "aiops/cli/exit_code.hpp"
#include "aiops/config/config_loader.hpp"
#include "aiops/core/logger.hpp"
#include "aiops/worker/worker.hpp"

namespace aiops::worker {

int worker_main(int argc, char** argv) {
  CLI::App app{"aiops-worker — the aiops block-storage worker (runs in the foreground; logs to stderr)",
               "aiops-worker"};
  std::string config_path;
  app.set_version_flag("--version", std::string("aiops-worker ") + AIOPS_VERSION);
  app.add_option("--config", config_path, "Configuration file (aiops.toml(5))")->required();
  int takeover_fd = -1;
  app.add_option("--takeover-fd", takeover_fd,
                 "Internal: take over from the running worker at the other end of this descriptor "
                 "(a running worker passes it when it starts the new binary during aiops update)")
      ->check(CLI::NonNegativeNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "aiops-worker: usage: " << e.what() << "\nRun 'aiops-worker --help' for the options.\n";
    return cli::exit_usage;
  }
  set_log_identity("aiops-worker");
  config::Config config;
  try {
    config = config::load_config(config_path);
  } catch (const config::ConfigError& e) {
    log_error(e.what());
    return cli::exit_invalid_input;
  }
  auto worker = takeover_fd >= 0 ? Worker::take_over(config, takeover_fd) : Worker::start(config);
  if (!worker.ok()) {
    log_error("cannot start: " + worker.error().message());
    return cli::exit_code_for(worker.error());
  }
  std::string signal = worker.value()->wait_for_signal();
  if (signal == "handover") log_info("handed over to the new worker; exiting");
  else log_info(signal + " received; finishing requests in progress and closing the log");
  if (Status s = worker.value()->shutdown(); !s.ok()) {
    log_error("shutdown: " + s.error().message());
    return cli::exit_code_for(s.error());
  }
  if (signal == "failed rollback") return cli::exit_system;
  log_info("stopped");
  return cli::exit_ok;
}

}  // namespace aiops::worker
