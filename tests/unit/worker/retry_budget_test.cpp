// The retry budget in a real worker (in this process, on loopback): a
// client that sends RETRY-marked writes as fast as it can is refused early
// once its bucket is empty, with a long delay, while another client's
// writes, and its occasional retries, all go through; `status` shows both.

#include <doctest/doctest.h>

#include <fstream>

#include "aiops/auth/token.hpp"
#include "aiops/client/native_client.hpp"
#include "aiops/config/config_loader.hpp"
#include "aiops/worker/worker.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;

TEST_CASE("worker: a retry storm is stopped by the client's budget and other clients are unaffected") {
  test::TempDir dir;
  std::string text = "[worker]\nname = \"storm\"\ndata_dir = \"data\"\ncontrol_socket = \"control.sock\"\n"
                     "[[listener]]\nprotocol = \"native\"\naddress = \"127.0.0.1:0\"\n"
                     "[log]\nsegment_size = \"1MiB\"\n"
                     "[[volume]]\nname = \"vol0\"\nid = 1\nsize = \"1MiB\"\n";
  for (const char* name : {"storm", "calm"})
    text += std::string("[[client]]\nname = \"") + name + "\"\nid = " + (name[0] == 's' ? "1" : "2") +
            "\nsla = \"bronze\"\ntoken_sha256 = \"" + auth::sha256_hex(std::string(name) + "-token") +
            "\"\naccess = { vol0 = \"rw\" }\n";
  std::ofstream(dir / "aiops.toml") << text;
  config::Config config = config::load_config(dir / "aiops.toml");
  auto w = worker::Worker::start(config);
  REQUIRE_MESSAGE(w.ok(), w.error().message());
  std::string address = (*w)->status()["listeners"][0]["address"];
  client::Endpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = static_cast<uint16_t>(std::stoul(address.substr(address.rfind(':') + 1)));
  auto storm = client::NativeClient::connect(endpoint, "storm", "storm-token", std::chrono::seconds(5));
  auto calm = client::NativeClient::connect(endpoint, "calm", "calm-token", std::chrono::seconds(5));
  REQUIRE(storm.ok());
  REQUIRE(calm.ok());
  const auto data = test::payload_for(1, 4096);
  unsigned storm_ok = 0, storm_busy = 0, calm_ok = 0;
  uint32_t least_delay = UINT32_MAX;
  for (uint64_t i = 0; i < 200; ++i) {
    REQUIRE((*storm)->send_write(i + 1, 1, 0, data, false, /*retry=*/true).ok());
    auto r = (*storm)->receive();
    REQUIRE(r.ok());
    if (r->header.status == net::Status::ok) {
      ++storm_ok;
    } else {
      CHECK(r->header.status == net::Status::busy);
      least_delay = std::min(least_delay, r->header.retry_after_ms);
      ++storm_busy;
    }
    // The calm client: first attempts, and a retry now and then.
    REQUIRE((*calm)->send_write(i + 1, 1, 8192, data, false, /*retry=*/i % 20 == 19).ok());
    auto c = (*calm)->receive();
    REQUIRE(c.ok());
    if (c->header.status == net::Status::ok) ++calm_ok;
  }
  CHECK(storm_ok == 10);  // bronze: retry_burst 10, and it earns nothing
  CHECK(storm_busy == 190);
  // 8 x the delay of bronze's first-ranked client (the lower id) at full
  // load: 8 x 20 ms x 1 x 10, before jitter.
  CHECK(least_delay >= 1600);
  CHECK(calm_ok == 200);
  nlohmann::json status = (*w)->status();
  bool seen = false;
  for (const auto& c : status["scheduler"]["clients"]) {
    if (c["name"] != "storm") continue;
    seen = true;
    CHECK(c["retry_budget"]["retries"] == 10);
    CHECK(c["refused"]["budget"] == 190);
    CHECK(c["retry_budget"]["tokens"].get<double>() < 1.0);
  }
  CHECK(seen);
  CHECK((*w)->shutdown().ok());
}
