#include "aiops/cli/commands.hpp"

namespace aiops::cli {

void add_config_commands(CLI::App& /*app*/, Action& /*action*/) {}

}  // namespace aiops::cli
