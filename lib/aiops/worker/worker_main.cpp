#include "aiops/worker/worker_main.hpp"

#include <iostream>

namespace aiops::worker {

int worker_main(int /*argc*/, char** /*argv*/) {
  std::cerr << "aiops-worker: not built yet\n";
  return 70;
}

}  // namespace aiops::worker
