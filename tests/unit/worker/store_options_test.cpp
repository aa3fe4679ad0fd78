#include <doctest/doctest.h>

#include "aiops/config/config_loader.hpp"
#include "aiops/worker/worker.hpp"

using namespace aiops;

namespace {

config::Config with_log(const std::string& log) {
  return config::parse_config("[log]\n" + log + "[[volume]]\nname = \"vol0\"\nid = 1\nsize = \"1GiB\"\n",
                              "/etc/aiops/aiops.toml");
}

}  // namespace

TEST_CASE("the log keeps as many spare segments as a checkpoint retires, at least 8") {
  // 256MiB of checkpoint in 16MiB segments: up to 16 retire at once; kept,
  // they take the log to the next checkpoint without a zero-fill.
  CHECK(worker::store_options(with_log("segment_size = \"16MiB\"\n")).log.max_spare_segments == 18);
  CHECK(worker::store_options(with_log("")).log.max_spare_segments == 8);  // 64MiB segments: 4 (+2) retire
  auto o = worker::store_options(with_log("segment_size = \"1MiB\"\ncheckpoint_bytes = \"64MiB\"\n"));
  CHECK(o.log.max_spare_segments == 66);
  CHECK(o.log.segment_bytes == 1 << 20);
  CHECK(o.checkpoint_bytes == 64ull << 20);
  // Spares stay on disk: at most about 1GiB of them.
  CHECK(worker::store_options(with_log("checkpoint_bytes = \"8GiB\"\n")).log.max_spare_segments == 18);
}
