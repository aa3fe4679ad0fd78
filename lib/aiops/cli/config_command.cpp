// `aiops config check FILE [--json]`: validate a worker configuration and
// show the effective settings.
//
// An invalid file is the expected outcome of this command, not a failure of
// the tool, so ConfigError is reported here with its position (and, with
// --json, as one object carrying file/line/column/key) rather than thrown
// to app.cpp, which would print a second, less precise error object.
#include <iostream>
#include <memory>
#include <string>

#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/config/config_loader.hpp"
#include "aiops/config/config_printer.hpp"

namespace aiops::cli {
namespace {

struct CheckOptions {
  std::string file;
  bool json = false;
};

int report_invalid(const CheckOptions& options, const config::ConfigError& error) {
  std::cerr << "aiops: error: " << error.what() << '\n';
  if (options.json) {
    print_json({{"ok", false},
                {"error",
                 {{"code", std::string(errc_name(Errc::invalid_input))},
                  {"message", error.what()},
                  {"file", error.file},
                  {"line", error.line},
                  {"column", error.column},
                  {"key", error.key}}},
                {"exit_code", exit_invalid_input}});
  }
  return exit_invalid_input;
}

int run_check(const CheckOptions& options) {
  config::Config loaded;
  try {
    loaded = config::load_config(options.file);
  } catch (const config::ConfigError& error) {
    return report_invalid(options, error);
  }
  if (options.json) {
    print_json({{"ok", true}, {"file", options.file}, {"config", config::to_json(loaded)}});
  } else {
    std::cout << options.file << ": ok\n" << config::to_toml(loaded) << std::flush;
  }
  return exit_ok;
}

}  // namespace

void add_config_commands(CLI::App& app, Action& action) {
  CLI::App* config = app.add_subcommand("config", "Validate worker configuration files (aiops.toml, see aiops.toml(5))");
  config->require_subcommand(1);

  auto options = std::make_shared<CheckOptions>();
  CLI::App* check = config->add_subcommand(
      "check",
      "Check FILE against every rule of aiops.toml(5). If it is valid, print \"FILE: ok\" and the effective "
      "configuration (every setting, defaults filled in, paths absolute) and exit 0. If not, print one line "
      "\"FILE:LINE:COLUMN: KEY: PROBLEM\" on stderr and exit 3.");
  check->add_option("FILE", options->file, "The configuration file to check, e.g. /etc/aiops/aiops.toml")
      ->required()
      ->type_name("");
  check->add_flag("--json", options->json,
                  "Print the result as one JSON object on stdout: {\"ok\": true, \"file\", \"config\"} or "
                  "{\"ok\": false, \"error\": {code, message, file, line, column, key}, \"exit_code\"}");
  check->callback([&action, options] { action = [options] { return run_check(*options); }; });
}

}  // namespace aiops::cli
