// `aiops config check FILE [--json]`: validate a worker configuration and
// show the effective settings.
// `aiops config init --dir DIR [--force] [--json]`: write a complete worker
// instance (aiops.toml and credentials.toml) into DIR; see
// config/instance_init.hpp.
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
#include "aiops/config/instance_init.hpp"

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

struct InitOptions {
  std::string dir;
  bool force = false;
  bool json = false;
};

int run_init(const InitOptions& options) {
  auto result = config::init_instance(options.dir, options.force);
  if (!result.ok() && result.error().code() == Errc::already_exists)
    throw CommandFailed(Error(Errc::already_exists, result.error().message() +
                                                        "; it is not replaced without --force, which also "
                                                        "replaces every client token"),
                        exit_invalid_input);
  config::InitResult written = need(std::move(result));
  if (options.json) {
    print_json({{"ok", true},
                {"config", written.config_file.string()},
                {"credentials", written.credentials_file.string()},
                {"listener", written.listener},
                {"nbd_listener", written.nbd_listener},
                {"control_socket", written.control_socket.string()},
                {"clients", written.clients},
                {"volumes", written.volumes}});
  } else {
    std::cout << "wrote " << written.config_file.string() << " and " << written.credentials_file.string()
              << " (mode 0600); start the worker with: aiops-worker --config " << written.config_file.string()
              << "\nclients connect to " << written.listener << " (native protocol); NBD clients to nbd://"
              << written.nbd_listener << "/vol0 (or vol1)\n"
              << std::flush;
  }
  return exit_ok;
}

void add_check_command(CLI::App& config, Action& action) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* check = config.add_subcommand(
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

void add_init_command(CLI::App& config, Action& action) {
  auto options = std::make_shared<InitOptions>();
  CLI::App* init = config.add_subcommand(
      "init",
      "Write a complete configuration for a worker instance that lives in DIR: DIR/aiops.toml (a native "
      "and an NBD listener on 127.0.0.1, each at a free port, volumes vol0 and vol1 of 256MiB, SLA classes gold, "
      "silver and bronze, clients gold-1 ... bronze-2 with fresh tokens, NBD exports vol0 and vol1 for loopback "
      "peers) and DIR/credentials.toml (the clear tokens, mode "
      "0600). All paths in it are relative to DIR. Both files are checked before success is reported; then "
      "'aiops-worker --config DIR/aiops.toml' starts the worker. Exits 3 if DIR already holds either file.");
  init->add_option("--dir", options->dir,
                   "Directory of the instance; created (mode 0700) if missing. DIR/control.sock must fit in a "
                   "Unix socket address, so the absolute path of DIR may be at most 94 bytes long")
      ->required()
      ->type_name("DIR");
  init->add_flag("--force", options->force,
                 "Replace DIR/aiops.toml and DIR/credentials.toml if they exist, with new tokens and a new port; "
                 "clients using the old tokens are refused afterwards");
  init->add_flag("--json", options->json,
                 "Print the result as one JSON object on stdout: {\"ok\": true, \"config\", \"credentials\", "
                 "\"listener\", \"nbd_listener\", \"control_socket\", \"clients\", \"volumes\"} or {\"ok\": false, \"error\": "
                 "{code, message}, \"exit_code\"}");
  init->callback([&action, options] { action = [options] { return run_init(*options); }; });
}

}  // namespace

void add_config_commands(CLI::App& app, Action& action) {
  CLI::App* config = app.add_subcommand("config", "Validate or create worker configuration files (aiops.toml, see aiops.toml(5))");
  config->require_subcommand(1);

  add_check_command(*config, action);
  add_init_command(*config, action);
}

}  // namespace aiops::cli
