// The `aiops` command-line tool. All behaviour lives in the library
// (lib/aiops/cli); this file only hands over the arguments.
#include "aiops/cli/app.hpp"

int main(int argc, char** argv) { return aiops::cli::run(argc, argv); }
