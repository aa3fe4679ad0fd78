// Priority scoring: score = SLA weight × the chosen statistic of the
// predicted operations, the ranking and its ties, which clients the list
// holds with and without a configuration, the details and warnings for the
// CLI, and that the list saves to a file that loads back unchanged.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <tuple>
#include <string>
#include <vector>

#include "aiops/config/config_loader.hpp"
#include "aiops/forecast/priority.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using aiops::Errc;
using aiops::forecast::AppType;
using aiops::forecast::AppTypeResult;
using aiops::forecast::ClientForecast;
using aiops::forecast::ClientScore;
using aiops::forecast::Priorities;
using aiops::forecast::score_priorities;
using Statistic = aiops::config::ForecastConfig::Statistic;

namespace {

// gold weighs 8, silver 2, bronze 1. db1 says it is a database; the others
// leave their type to be inferred.
aiops::config::Config make_config(const std::string& statistic = "mean") {
  const std::string token = "token_sha256 = \"" + std::string(64, 'a') + "\"\naccess = {}\n";
  auto client = [&](const std::string& name, int id, const std::string& sla, const std::string& extra = "") {
    return "[[client]]\nname = \"" + name + "\"\nid = " + std::to_string(id) + "\nsla = \"" + sla + "\"\n" + token +
           extra;
  };
  return aiops::config::parse_config("[[volume]]\nname = \"vol1\"\nid = 1\nsize = \"1GiB\"\n"
                                     "[sla.gold]\nweight = 8\n[sla.silver]\nweight = 2\n[sla.bronze]\nweight = 1\n" +
                                         client("db1", 10, "bronze", "app_type = \"database\"\n") +
                                         client("web", 12, "gold") + client("batch", 7, "silver") +
                                         client("idle", 3, "gold") + "[forecast]\nstatistic = \"" + statistic +
                                         "\"\n",
                                     "/etc/aiops/aiops.toml");
}

// A forecast whose totals are distinct per statistic, so the wrong one shows:
// upper80 = 1.5 × mean, upper95 = 2 × mean; bytes = 4096 × ops.
ClientForecast forecast(const std::string& client, double mean_ops, const std::string& model = "ARIMA(1,0,0)") {
  ClientForecast f;
  f.client = client;
  f.model = model;
  f.ops = {mean_ops, 1.5 * mean_ops, 2 * mean_ops};
  f.bytes = {4096 * mean_ops, 4096 * 1.5 * mean_ops, 4096 * 2 * mean_ops};
  return f;
}

std::vector<std::string> names(const Priorities& p) {
  std::vector<std::string> out;
  for (const auto& c : p.list.clients) out.push_back(c.name);
  return out;
}

const ClientScore& detail(const Priorities& p, const std::string& client) {
  for (const ClientScore& s : p.clients)
    if (s.client == client) return s;
  FAIL("no details for " << client);
  return p.clients.front();  // not reached
}

}  // namespace

TEST_CASE("priority: score is the SLA weight times the predicted operations; ranks by score") {
  aiops::config::Config config = make_config();
  // web: 8 × 10 = 80; batch: 2 × 100 = 200; db1: 1 × 50 = 50.
  std::vector<ClientForecast> forecasts = {forecast("web", 10), forecast("batch", 100), forecast("db1", 50)};
  auto p = score_priorities(&config, forecasts, 1min, 15min);
  REQUIRE_MESSAGE(p.ok(), p.error().message());
  CHECK(p->list.source == "forecast");
  CHECK_FALSE(p->list.generated.has_value());
  CHECK(p->statistic == Statistic::mean);
  // idle (gold, not in the trace) scores 0 and comes last.
  CHECK(names(*p) == std::vector<std::string>{"batch", "web", "db1", "idle"});
  REQUIRE(p->list.clients.size() == 4);
  const auto& batch = p->list.clients[0];
  CHECK(batch.id == 7);
  CHECK(batch.rank == 1);
  CHECK(batch.score == 200.0);
  CHECK(batch.predicted_ops == 100.0);
  CHECK(batch.predicted_bytes == 409600.0);
  CHECK(batch.interval == 1min);
  CHECK(batch.window == 15min);
  CHECK(batch.model == "ARIMA(1,0,0)");
  CHECK(p->list.clients[1].score == 80.0);
  CHECK(p->list.clients[2].score == 50.0);
  const auto& idle = p->list.clients[3];
  CHECK(idle.rank == 4);
  CHECK(idle.score == 0.0);
  CHECK_FALSE(idle.predicted_ops.has_value());
  CHECK_FALSE(idle.window.has_value());
  CHECK(idle.model.empty());
  CHECK(idle.app_type == "general");

  // The details: one per client, listed ones in rank order.
  REQUIRE(p->clients.size() == 4);
  CHECK(p->clients[0].client == "batch");
  CHECK(p->clients[0].sla == "silver");
  CHECK(p->clients[0].weight == 2.0);
  CHECK(p->clients[0].listed);
  CHECK(detail(*p, "idle").has_forecast == false);
  CHECK(detail(*p, "idle").app_type.reason == "not in the trace");
  REQUIRE(p->warnings.size() == 1);
  CHECK(p->warnings[0] == "client \"idle\" of /etc/aiops/aiops.toml is not in the trace: score 0");
}

TEST_CASE("priority: the statistic of the configuration chooses the predicted load") {
  for (auto [name, statistic, factor] : {std::tuple{"mean", Statistic::mean, 1.0},
                                         std::tuple{"upper80", Statistic::upper80, 1.5},
                                         std::tuple{"upper95", Statistic::upper95, 2.0}}) {
    CAPTURE(name);
    aiops::config::Config config = make_config(name);
    std::vector<ClientForecast> forecasts = {forecast("web", 10), forecast("db1", 40)};
    auto p = score_priorities(&config, forecasts, 1min, 15min);
    REQUIRE_MESSAGE(p.ok(), p.error().message());
    CHECK(p->statistic == statistic);
    const ClientScore& web = detail(*p, "web");
    CHECK(web.predicted_ops == doctest::Approx(10 * factor));
    CHECK(web.predicted_bytes == doctest::Approx(40960 * factor));
    CHECK(web.score == doctest::Approx(80 * factor));
    CHECK(detail(*p, "db1").score == doctest::Approx(40 * factor));
    CHECK(p->list.clients[0].predicted_ops == doctest::Approx(10 * factor));
  }
}

TEST_CASE("priority: a client whose upper quantile is wide can overtake a steadier one") {
  aiops::config::Config mean_config = make_config("mean");
  aiops::config::Config upper_config = make_config("upper95");
  // Same weight (gold): web expects 10 with a wide interval, idle 12 with a
  // narrow one.
  ClientForecast web = forecast("web", 10);
  web.ops.upper95 = 40;
  ClientForecast idle = forecast("idle", 12);
  idle.ops.upper95 = 13;
  std::vector<ClientForecast> forecasts = {web, idle};
  auto by_mean = score_priorities(&mean_config, forecasts, 1min, 15min);
  auto by_upper = score_priorities(&upper_config, forecasts, 1min, 15min);
  REQUIRE(by_mean.ok());
  REQUIRE(by_upper.ok());
  CHECK(names(*by_mean)[0] == "idle");
  CHECK(names(*by_upper)[0] == "web");
}

TEST_CASE("priority: equal scores rank the higher SLA weight first, then by name") {
  aiops::config::Config config = make_config();
  // web (gold 8) × 1 = idle (gold 8) × 1 = batch (silver 2) × 4 = db1 (bronze 1) × 8 = 8.
  std::vector<ClientForecast> forecasts = {forecast("db1", 8), forecast("batch", 4), forecast("web", 1),
                                           forecast("idle", 1)};
  auto p = score_priorities(&config, forecasts, 1min, 15min);
  REQUIRE_MESSAGE(p.ok(), p.error().message());
  CHECK(names(*p) == std::vector<std::string>{"idle", "web", "batch", "db1"});
  for (const auto& c : p->list.clients) CHECK(c.score == 8.0);
  // The input order does not matter.
  std::reverse(forecasts.begin(), forecasts.end());
  auto again = score_priorities(&config, forecasts, 1min, 15min);
  REQUIRE(again.ok());
  CHECK(again->list == p->list);
}

TEST_CASE("priority: clients in the trace but not configured are left out of the list, and reported") {
  aiops::config::Config config = make_config();
  std::vector<ClientForecast> forecasts = {forecast("zeta", 1000), forecast("web", 1), forecast("alpha", 5),
                                           forecast("db1", 1), forecast("batch", 1), forecast("idle", 1)};
  auto p = score_priorities(&config, forecasts, 1min, 15min);
  REQUIRE_MESSAGE(p.ok(), p.error().message());
  CHECK(names(*p) == std::vector<std::string>{"idle", "web", "batch", "db1"});
  // Details: the 4 listed, then the 2 left out by name.
  REQUIRE(p->clients.size() == 6);
  CHECK(p->clients[4].client == "alpha");
  CHECK(p->clients[5].client == "zeta");
  CHECK_FALSE(p->clients[5].listed);
  CHECK_FALSE(p->clients[5].configured);
  CHECK(p->clients[5].rank == 0);
  CHECK(p->clients[5].sla == "none");
  CHECK(p->clients[5].score == 1000.0);  // as without a configuration: weight 1
  CHECK(p->warnings == std::vector<std::string>{
                           "client \"alpha\" is in the trace but not in /etc/aiops/aiops.toml: left out of the priority list",
                           "client \"zeta\" is in the trace but not in /etc/aiops/aiops.toml: left out of the priority list"});
}

TEST_CASE("priority: without a configuration every client of the trace is listed with weight 1") {
  std::vector<ClientForecast> forecasts = {forecast("b", 3), forecast("a", 3), forecast("c", 7)};
  auto p = score_priorities(nullptr, forecasts, 5min, 1h);
  REQUIRE_MESSAGE(p.ok(), p.error().message());
  CHECK(p->statistic == Statistic::mean);
  CHECK(names(*p) == std::vector<std::string>{"c", "a", "b"});
  CHECK(p->warnings.empty());
  for (const ClientScore& s : p->clients) {
    CHECK(s.sla == "none");
    CHECK(s.weight == 1.0);
    CHECK(s.id == 0);
    CHECK(s.listed);
    CHECK(s.score == s.predicted_ops);
  }
  CHECK(p->list.clients[0].interval == 5min);
  CHECK(p->list.clients[0].window == 1h);
}

TEST_CASE("priority: the application type comes from the configuration, or is inferred from the mix") {
  aiops::config::Config config = make_config();
  ClientForecast db1 = forecast("db1", 1);  // configured "database"
  ClientForecast web = forecast("web", 1);  // 95% sequential reads of 256 KiB
  web.mix.known = true;
  web.mix.reads = 950;
  web.mix.writes = 50;
  web.mix.read_bytes = 950 * 256 * 1024;
  web.mix.write_bytes = 50 * 4096;
  web.mix.sequential = 900;
  db1.mix = web.mix;
  ClientForecast batch = forecast("batch", 1);  // a series trace: no mix
  std::vector<ClientForecast> forecasts = {db1, web, batch};
  auto p = score_priorities(&config, forecasts, 1min, 15min);
  REQUIRE_MESSAGE(p.ok(), p.error().message());
  CHECK(detail(*p, "db1").app_type.type == AppType::database);
  CHECK(detail(*p, "db1").app_type.source == AppTypeResult::Source::config);
  CHECK(detail(*p, "web").app_type.type == AppType::streaming);
  CHECK(detail(*p, "web").app_type.source == AppTypeResult::Source::inferred);
  CHECK(detail(*p, "web").app_type.reason == "95% reads, 90% sequential, 256 KiB per read on average");
  CHECK(detail(*p, "batch").app_type.type == AppType::general);
  CHECK(p->list.find(10)->app_type == "database");
  CHECK(p->list.find(12)->app_type == "streaming");
  CHECK(p->list.find(7)->app_type == "general");
}

TEST_CASE("priority: the list saves to a file that loads back equal under the configuration") {
  aiops::test::TempDir dir;
  aiops::config::Config config = make_config("upper80");
  std::vector<ClientForecast> forecasts = {forecast("web", 1.0 / 3.0, "mean (constant series)"),
                                           forecast("batch", 123.456, "ARIMA(0,1,1)(0,1,1)[24]"),
                                           forecast("db1", 0)};
  auto p = score_priorities(&config, forecasts, 90s, 2h);
  REQUIRE_MESSAGE(p.ok(), p.error().message());
  p->list.generated = std::chrono::sys_days{2026y / 11 / 25} + 10h;
  auto file = dir / "priorities.toml";
  REQUIRE(aiops::specbuf::save_priority_list(file, p->list).ok());
  auto loaded = aiops::specbuf::load_priority_list(file, config);
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message());
  CHECK(*loaded == p->list);
}

TEST_CASE("priority: impossible input is refused, naming the client") {
  aiops::config::Config config = make_config();
  auto refused = [&](std::vector<ClientForecast> forecasts, std::chrono::nanoseconds interval,
                     std::chrono::nanoseconds window, const std::string& says) {
    auto p = score_priorities(&config, forecasts, interval, window);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().code() == Errc::invalid_argument);
    INFO(p.error().message());
    CHECK(p.error().message().find(says) != std::string::npos);
  };
  refused({forecast("web", 1), forecast("web", 2)}, 1min, 15min, "client \"web\" has more than one forecast");
  refused({forecast("", 1)}, 1min, 15min, "names no client");
  refused({forecast("web", -1)}, 1min, 15min, "client \"web\": the predicted operations total");
  ClientForecast nan_bytes = forecast("db1", 1);
  nan_bytes.bytes.upper95 = std::numeric_limits<double>::quiet_NaN();
  refused({nan_bytes}, 1min, 15min, "client \"db1\": the predicted bytes total");
  ClientForecast huge = forecast("web", 1);
  huge.ops = {1e308, 1e308, 1e308};  // finite, but not once weighted by 8
  refused({huge}, 1min, 15min, "client \"web\": the score");
  refused({forecast("web", 1)}, 0s, 15min, "more than 0");
  refused({forecast("web", 1)}, 1min, 0s, "more than 0");
}
