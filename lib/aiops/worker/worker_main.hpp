#pragma once

namespace aiops::worker {

/// `aiops-worker --config FILE`: runs the worker in the foreground until
/// SIGTERM or SIGINT; returns the process exit code.
[[nodiscard]] int worker_main(int argc, char** argv);

}  // namespace aiops::worker
