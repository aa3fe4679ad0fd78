#include "aiops/cli/app.hpp"

#include <iostream>


#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"

namespace aiops::cli {
namespace {

// True when the chosen (innermost) subcommand was given --json.
bool json_requested(const CLI::App& app) {
  const CLI::App* cur = &app;
  while (true) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) break;
    cur = subs.front();
  }
  const CLI::Option* opt = cur->get_option_no_throw("--json");
  return opt != nullptr && opt->count() > 0;
}

int report(const CLI::App& app, const Error& error, int code) {
  std::cerr << "aiops: error: " << error.message() << '\n';
  if (json_requested(app)) {
    print_json({{"ok", false},
                {"error", {{"code", std::string(errc_name(error.code()))}, {"message", error.message()}}},
                {"exit_code", code}});
  }
  return code;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"aiops — drive a live-updatable block-storage worker", "aiops"};
  app.set_version_flag("--version", std::string("aiops ") + AIOPS_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  Action action;
  add_config_commands(app, action);
  add_log_commands(app, action);
  add_status_commands(app, action);
  add_load_commands(app, action);
  add_verify_commands(app, action);
  add_phase_commands(app, action);
  add_buffer_commands(app, action);
  add_update_commands(app, action);
  add_demo_commands(app, action);
  add_forecast_commands(app, action);
  add_bench_commands(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "aiops: usage: " << e.what() << "\nRun 'aiops --help' for the commands and their options.\n";
    return exit_usage;
  }
  if (!action) {
    std::cerr << "aiops: usage: a subcommand is missing\nRun 'aiops --help' for the commands and their options.\n";
    return exit_usage;
  }
  try {
    return action();
  } catch (const CommandFailed& e) {
    return report(app, e.error(), e.exit_code());
  } catch (const std::exception& e) {
    return report(app, Error(Errc::invalid_argument, std::string("internal error: ") + e.what()), exit_internal);
  }
}

}  // namespace aiops::cli
