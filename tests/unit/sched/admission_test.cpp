// Admission control as the worker uses it: retry budgets per client, the
// watermark thresholds by priority, and fifo's indifference to priority.

#include <doctest/doctest.h>

#include "aiops/config/config_loader.hpp"
#include "aiops/sched/admission.hpp"

using namespace aiops;
using aiops::sched::Admission;
using aiops::sched::Refusal;

namespace {

// Clients 1 (gold), 2 (silver), 3 and 4 (bronze); the SLA list ranks them 1..4.
config::Config three_classes(const std::string& scheduler = "") {
  std::string text = "[[volume]]\nname = \"v\"\nid = 1\nsize = \"1MiB\"\n";
  const char* classes[] = {"gold", "silver", "bronze", "bronze"};
  for (int i = 0; i < 4; ++i)
    text += "[[client]]\nname = \"c" + std::to_string(i + 1) + "\"\nid = " + std::to_string(i + 1) + "\nsla = \"" +
            classes[i] + "\"\ntoken_sha256 = \"" + std::string(64, '0') + "\"\naccess = { v = \"rw\" }\n";
  return config::parse_config(text + scheduler, "aiops.toml");
}

}  // namespace

TEST_CASE("admission: a client retrying as fast as it can is stopped by its budget; the others are not") {
  config::Config config = three_classes();
  Admission admission(config, specbuf::priorities_from_sla(config));
  // Client 3 storms: retries only. Its bucket (burst 10) lets 10 through.
  unsigned through = 0, refused = 0;
  uint32_t shortest_budget_delay = UINT32_MAX;
  for (int i = 0; i < 1000; ++i) {
    auto d = admission.on_request(3, true);
    if (d.admitted()) {
      ++through;
    } else {
      ++refused;
      CHECK(d.refusal == Refusal::budget);
      shortest_budget_delay = std::min(shortest_budget_delay, d.retry_after_ms);
    }
  }
  CHECK(through == 10);
  CHECK(refused == 990);
  // Refused early with a longer delay than an ordinary refusal of that
  // client could get at any load (the penalty is 8x; the load factor 10x
  // at most, and budget refusals are priced at full load).
  CHECK(shortest_budget_delay >= admission.refuse(3, 1.0, Refusal::log_queue));
  // Clients 1, 2 and 4 behave: one retry per 20 first attempts. None of
  // their requests is refused, while client 3 stays refused.
  for (int i = 0; i < 2000; ++i) {
    for (uint32_t c : {1u, 2u, 4u}) CHECK(admission.on_request(c, i % 20 == 19).admitted());
    if (i % 100 == 0) CHECK_FALSE(admission.on_request(3, true).admitted());
  }
  const auto stats = admission.stats();
  CHECK(stats.at(3).retries == 10);
  CHECK(stats.at(3).refused.at("budget") >= 990);
  CHECK(stats.at(4).retries == 100);
  CHECK(stats.at(4).refused.empty());
  // A first attempt earns 0.1 token: ten of them buy client 3 one retry.
  for (int i = 0; i < 10; ++i) CHECK(admission.on_request(3, false).admitted());
  CHECK(admission.on_request(3, true).admitted());
  CHECK_FALSE(admission.on_request(3, true).admitted());
}

TEST_CASE("admission: the log queue refuses the lowest priority first") {
  config::Config config = three_classes("[scheduler]\nqueue_watermark = 0.5\n");
  Admission admission(config, specbuf::priorities_from_sla(config));
  // Positions 0, 1/3, 2/3, 1: thresholds 1, 5/6, 2/3, 1/2.
  CHECK(admission.threshold(1) == doctest::Approx(1.0));
  CHECK(admission.threshold(4) == doctest::Approx(0.5));
  for (double fill : {0.0, 0.2, 0.49}) {
    for (uint32_t c = 1; c <= 4; ++c) CHECK(admission.admit_log(c, fill).admitted());
  }
  CHECK_FALSE(admission.admit_log(4, 0.5).admitted());
  CHECK(admission.admit_log(3, 0.5).admitted());
  CHECK_FALSE(admission.admit_log(3, 0.7).admitted());
  CHECK(admission.admit_log(2, 0.7).admitted());
  CHECK_FALSE(admission.admit_log(2, 0.9).admitted());
  CHECK(admission.admit_log(1, 0.99).admitted());
  CHECK_FALSE(admission.admit_log(1, 1.0).admitted());
  // Whenever a client is refused, every client ranked below it is too.
  for (double fill = 0; fill <= 1.0; fill += 0.01)
    for (uint32_t c = 1; c < 4; ++c)
      if (!admission.admit_log(c, fill).admitted()) CHECK_FALSE(admission.admit_log(c + 1, fill).admitted());
}

TEST_CASE("admission: a new priority list moves the thresholds") {
  config::Config config = three_classes();
  Admission admission(config, specbuf::priorities_from_sla(config));
  CHECK(admission.threshold(4) < admission.threshold(1));
  // The forecast ranks client 4 first and client 1 last.
  specbuf::PriorityList list{"forecast", {{"c4", 4, 9.0, 1}, {"c2", 2, 5.0, 2}, {"c3", 3, 2.0, 3}, {"c1", 1, 1.0, 4}},
                             std::nullopt};
  admission.set_priorities(list);
  CHECK(admission.threshold(4) == doctest::Approx(1.0));
  CHECK(admission.threshold(1) == doctest::Approx(0.5));
  // Its scheduler weight: class weight 1 x 2 for the first place.
  for (const auto& p : admission.plans())
    if (p.client == 4) CHECK(p.qos.weight == doctest::Approx(2.0));
}

TEST_CASE("admission: with fifo nobody is preferred") {
  config::Config config = three_classes("[scheduler]\npolicy = \"fifo\"\n");
  Admission admission(config, specbuf::priorities_from_sla(config));
  for (uint32_t c = 1; c <= 4; ++c) {
    CHECK(admission.threshold(c) == 1.0);
    CHECK(admission.admit_log(c, 0.99).admitted());
    CHECK_FALSE(admission.admit_log(c, 1.0).admitted());
  }
}

TEST_CASE("admission: refusals carry delays that grow with the load and are counted") {
  config::Config config = three_classes("[scheduler]\nretry_jitter = 0\n");
  Admission admission(config, specbuf::priorities_from_sla(config));
  // Without jitter: bronze base 20 ms x (1 + 3 x 1) x (1 + 9 x load).
  CHECK(admission.refuse(4, 0.0, Refusal::buffer) == 80);
  CHECK(admission.refuse(4, 1.0, Refusal::buffer) == 800);
  // Gold, first: 5 ms x 1 x (1 + 9 x load).
  CHECK(admission.refuse(1, 0.0, Refusal::invalid) == 5);
  CHECK(admission.refuse(1, 1.0, Refusal::invalid) == 50);
  const auto stats = admission.stats();
  CHECK(stats.at(4).refused.at("buffer") == 2);
  CHECK(stats.at(4).delays_given == 2);
  CHECK(stats.at(4).delay_ms_sum == doctest::Approx(880));
  CHECK(stats.at(1).refused.at("invalid") == 2);
}
