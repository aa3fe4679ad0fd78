// The aiops worker daemon. All behaviour lives in the library
// (lib/aiops/worker); this file only hands over the arguments.
#include "aiops/worker/worker_main.hpp"

int main(int argc, char** argv) { return aiops::worker::worker_main(argc, argv); }
