// The priority list file: what it accepts, how it completes the list with
// the clients it does not name, where it points when it refuses a file, and
// that what save writes loads back unchanged, the optional keys of the
// forecast (predicted load, interval, window, model, app_type) included.

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "aiops/config/config_loader.hpp"
#include "aiops/specbuf/priority_list.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using aiops::Errc;
using aiops::specbuf::ClientPriority;
using aiops::specbuf::PriorityList;

namespace {

// Configuration order, id order and SLA order all differ, so a list sorted
// by the wrong key (or not sorted) shows: by SLA weight then id the clients
// are cache(5), web(12), batch(7), db1(10).
aiops::config::Config make_config() {
  const std::string token = "token_sha256 = \"" + std::string(64, 'a') + "\"\naccess = {}\n";
  auto client = [&](const std::string& name, int id, const std::string& sla) {
    return "[[client]]\nname = \"" + name + "\"\nid = " + std::to_string(id) + "\nsla = \"" + sla + "\"\n" + token;
  };
  return aiops::config::parse_config("[[volume]]\nname = \"vol1\"\nid = 1\nsize = \"1GiB\"\n"
                                     "[sla.gold]\nweight = 8\n[sla.bronze]\nweight = 1\n" +
                                         client("db1", 10, "bronze") + client("web", 12, "gold") +
                                         client("batch", 7, "bronze") + client("cache", 5, "gold"),
                                     "/etc/aiops/aiops.toml");
}

// One [[client]] table of four lines; after kHead (one line), the table
// number k (from 0) has its header on line 2+4k, name 3+4k, score 4+4k, rank 5+4k.
const std::string kHead = "source = \"forecast\"\n";
std::string table(const std::string& name, const std::string& score, const std::string& rank) {
  return "[[client]]\nname = \"" + name + "\"\nscore = " + score + "\nrank = " + rank + "\n";
}

// table() with one more line, `extra`, on line 6 (after kHead).
std::string table_with(const std::string& extra) { return table("db1", "1", "1") + extra + "\n"; }

std::vector<std::string> names(const PriorityList& list) {
  std::vector<std::string> out;
  for (const ClientPriority& c : list.clients) out.push_back(c.name);
  return out;
}

std::vector<uint32_t> ranks(const PriorityList& list) {
  std::vector<uint32_t> out;
  for (const ClientPriority& c : list.clients) out.push_back(c.rank);
  return out;
}

}  // namespace

TEST_CASE("priority list: priorities_from_sla orders by weight, ties by lower id") {
  PriorityList list = aiops::specbuf::priorities_from_sla(make_config());
  CHECK(list.source == "sla");
  CHECK(names(list) == std::vector<std::string>{"cache", "web", "batch", "db1"});
  CHECK(ranks(list) == std::vector<uint32_t>{1, 2, 3, 4});
  REQUIRE(list.clients.size() == 4);
  CHECK(list.clients[0].id == 5);
  CHECK(list.clients[1].score == 8.0);
  CHECK(list.clients[2].score == 1.0);
  CHECK(list.find(12)->rank == 2);
  CHECK(list.find(99) == nullptr);
}

TEST_CASE("priority list: clients the file does not name follow, with score 0, in SLA order") {
  auto list = aiops::specbuf::parse_priority_list(table("db1", "3", "2") + table("batch", "4.5", "1"),
                                                  "priorities.toml", make_config());
  REQUIRE_MESSAGE(list.ok(), list.error().message());
  CHECK(list->source == "file");
  CHECK_FALSE(list->generated.has_value());
  CHECK(names(*list) == std::vector<std::string>{"batch", "db1", "cache", "web"});
  CHECK(ranks(*list) == std::vector<uint32_t>{1, 2, 3, 4});
  CHECK(list->clients[0].score == 4.5);
  CHECK(list->clients[0].id == 7);
  CHECK(list->clients[1].score == 3.0);
  CHECK(list->clients[2].score == 0.0);
  CHECK(list->clients[3].score == 0.0);
  CHECK(list->find(12)->rank == 4);
  // A file without the optional keys (as written before they existed)
  // leaves them absent.
  for (const ClientPriority& c : list->clients) {
    CHECK_FALSE(c.predicted_ops.has_value());
    CHECK_FALSE(c.predicted_bytes.has_value());
    CHECK_FALSE(c.interval.has_value());
    CHECK_FALSE(c.window.has_value());
    CHECK(c.model.empty());
    CHECK(c.app_type.empty());
  }
}

TEST_CASE("priority list: the optional keys of a forecast are read") {
  auto list = aiops::specbuf::parse_priority_list(
      kHead + table("web", "9", "1") +
          "predicted_ops = 1200\npredicted_bytes = 4.5e6\ninterval = \"1m\"\nwindow = \"1h30m\"\n"
          "model = \"ARIMA(1,0,1)(0,1,1)[24]\"\napp_type = \"analytics\"\n" +
          table("db1", "2", "2") + "predicted_ops = 0.0\napp_type = \"database\"\n",
      "priorities.toml", make_config());
  REQUIRE_MESSAGE(list.ok(), list.error().message());
  REQUIRE(list->clients.size() == 4);
  const ClientPriority& web = list->clients[0];
  CHECK(web.name == "web");
  CHECK(web.predicted_ops == 1200.0);  // an integer is a number too
  CHECK(web.predicted_bytes == 4.5e6);
  CHECK(web.interval == 1min);
  CHECK(web.window == 90min);
  CHECK(web.model == "ARIMA(1,0,1)(0,1,1)[24]");
  CHECK(web.app_type == "analytics");
  const ClientPriority& db1 = list->clients[1];
  CHECK(db1.predicted_ops == 0.0);
  CHECK_FALSE(db1.predicted_bytes.has_value());
  CHECK_FALSE(db1.window.has_value());
  CHECK(db1.model.empty());
  CHECK(db1.app_type == "database");
  // The clients the file leaves out get none of them.
  CHECK_FALSE(list->clients[2].predicted_ops.has_value());
  CHECK(list->clients[2].app_type.empty());
}

TEST_CASE("priority list: a file without [[client]] keeps source and generated (offset applied) and ranks by SLA") {
  auto list = aiops::specbuf::parse_priority_list("generated = 2026-11-25T10:00:00+02:00\nsource = \"sla\"\n",
                                                  "priorities.toml", make_config());
  REQUIRE_MESSAGE(list.ok(), list.error().message());
  CHECK(list->source == "sla");
  // 10:00 at +02:00 is 08:00 UTC.
  CHECK(list->generated == std::chrono::sys_days{2026y / 11 / 25} + 8h);
  CHECK(names(*list) == std::vector<std::string>{"cache", "web", "batch", "db1"});
  CHECK(ranks(*list) == std::vector<uint32_t>{1, 2, 3, 4});
}

TEST_CASE("priority list: save then load gives the same list") {
  aiops::test::TempDir dir;
  aiops::config::Config config = make_config();
  PriorityList list;
  list.source = "forecast";
  // Sub-second and not a whole second east of UTC: the instant must survive.
  list.generated = std::chrono::sys_days{2026y / 11 / 25} + 10h + 7min + 3s + 123456789ns;
  // 1/3 needs all 17 digits, so a lossy number format would show; the tie
  // may be ranked either way and must stay as it is.
  const double third = 1.0 / 3.0;
  list.clients = {{"web", 12, 12.5, 1}, {"db1", 10, third, 2}, {"batch", 7, third, 3}, {"cache", 5, 0.0, 4}};
  // Every optional key on one client, some on another, none on the rest:
  // what is absent must stay absent. The model needs escaping.
  ClientPriority& web = list.clients[0];
  web.predicted_ops = 1.0 / 7.0;
  web.predicted_bytes = 123456789.25;
  web.interval = 90s;
  web.window = 15min + 250ms;
  web.model = "mean (\"constant\" series)\\";
  web.app_type = "vdi";
  list.clients[1].predicted_ops = 0.0;
  list.clients[1].app_type = "general";
  auto file = dir / "priorities.toml";
  REQUIRE(aiops::specbuf::save_priority_list(file, list).ok());
  auto loaded = aiops::specbuf::load_priority_list(file, config);
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message());
  CHECK(*loaded == list);

  // The SLA list round-trips too, with nothing in `generated`.
  PriorityList sla = aiops::specbuf::priorities_from_sla(config);
  REQUIRE(aiops::specbuf::save_priority_list(file, sla).ok());
  auto reloaded = aiops::specbuf::load_priority_list(file, config);
  REQUIRE_MESSAGE(reloaded.ok(), reloaded.error().message());
  CHECK(*reloaded == sla);
}

TEST_CASE("priority list: save refuses a list the file format cannot hold, and writes nothing") {
  aiops::test::TempDir dir;
  auto file = dir / "priorities.toml";
  const std::vector<std::vector<ClientPriority>> bad_lists = {
      {{"db1", 10, 1.0, 1}, {"web", 12, 2.0, 2}},  // score rises with rank
      {{"db1", 10, 2.0, 1}, {"web", 12, 1.0, 3}},  // rank 2 missing
      {{"db1", 10, -1.0, 1}},
  };
  // The same list with one optional value the loader would refuse.
  auto with = [](auto change) {
    std::vector<ClientPriority> clients = {{"db1", 10, 2.0, 1}};
    change(clients[0]);
    return clients;
  };
  const std::vector<std::vector<ClientPriority>> bad_optional = {
      with([](ClientPriority& c) { c.predicted_ops = -1.0; }),
      with([](ClientPriority& c) { c.predicted_bytes = std::numeric_limits<double>::infinity(); }),
      with([](ClientPriority& c) { c.predicted_ops = std::numeric_limits<double>::quiet_NaN(); }),
      with([](ClientPriority& c) { c.interval = 0s; }),
      with([](ClientPriority& c) { c.window = -1s; }),
      with([](ClientPriority& c) { c.app_type = "webserver"; }),
  };
  const std::vector<std::string> bad_optional_says = {"predicted_ops", "predicted_bytes", "predicted_ops",
                                                      "interval",      "window",          "app_type \"webserver\""};
  for (std::size_t i = 0; i < bad_optional.size(); ++i) {
    PriorityList bad;
    bad.source = "forecast";
    bad.clients = bad_optional[i];
    aiops::Status saved = aiops::specbuf::save_priority_list(file, bad);
    REQUIRE_FALSE(saved.ok());
    CHECK(saved.error().code() == Errc::invalid_argument);
    CHECK(saved.error().message().find(bad_optional_says[i]) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(file));
  }
  for (const auto& clients : bad_lists) {
    PriorityList bad;
    bad.source = "forecast";
    bad.clients = clients;
    aiops::Status saved = aiops::specbuf::save_priority_list(file, bad);
    REQUIRE_FALSE(saved.ok());
    CHECK(saved.error().code() == Errc::invalid_argument);
    CHECK_FALSE(std::filesystem::exists(file));
  }
}

TEST_CASE("priority list: a missing file is not_found and names the path") {
  aiops::test::TempDir dir;
  auto file = dir / "absent.toml";
  auto list = aiops::specbuf::load_priority_list(file, make_config());
  REQUIRE_FALSE(list.ok());
  CHECK(list.error().code() == Errc::not_found);
  CHECK(list.error().message().find(file.string()) != std::string::npos);
}

TEST_CASE("priority list: each invalid file is invalid_input at the right line") {
  struct Bad {
    const char* kind;
    std::string text;
    int line;
    std::string problem;
  };
  const std::vector<Bad> cases = {
      {"unknown client", kHead + table("nobody", "1", "1"), 3, "no client \"nobody\" in /etc/aiops/aiops.toml"},
      {"duplicate client", kHead + table("db1", "2", "1") + table("db1", "1", "2"), 7,
       "client[1].name: duplicate client \"db1\" (first named by client[0].name on line 3)"},
      {"missing score", kHead + "[[client]]\nname = \"db1\"\nrank = 1\n", 2, "client[0].score: required key is missing"},
      {"missing rank", kHead + "[[client]]\nname = \"db1\"\nscore = 1\n", 2, "client[0].rank: required key is missing"},
      {"negative score", kHead + table("db1", "-0.5", "1"), 4, "client[0].score: -0.5 is below the minimum of 0.0"},
      {"NaN score", kHead + table("db1", "nan", "1"), 4, "client[0].score: expected a finite number"},
      {"infinite score", kHead + table("db1", "inf", "1"), 4, "expected a finite number"},
      {"score not a number", kHead + table("db1", "\"high\"", "1"), 4, "expected a number, found a string"},
      {"duplicate rank", kHead + table("db1", "2", "1") + table("web", "2", "1"), 9,
       "client[1].rank: duplicate rank 1 (first given by client[0].rank on line 5)"},
      {"rank beyond N", kHead + table("db1", "2", "1") + table("web", "1", "3"), 9, "client[1].rank: rank 3 is beyond 2"},
      {"rank 0", kHead + table("db1", "2", "0"), 5, "client[0].rank: must be greater than 0"},
      {"rank contradicts score", kHead + table("db1", "1", "1") + table("web", "5", "2"), 9,
       "client[1].rank: client \"web\" has score 5.0 but rank 2, after client \"db1\" with the lower score 1.0"},
      {"rank contradicts score, tables out of rank order",
       kHead + table("web", "5", "2") + table("db1", "1", "1") + table("cache", "0", "3"), 5,
       "client[0].rank: client \"web\" has score 5.0 but rank 2"},
      {"typo in a client key", kHead + "[[client]]\nname = \"db1\"\nscores = 1\nrank = 1\n", 4,
       "client[0].scores: unknown key (did you mean \"score\"?)"},
      {"typo in a top-level key", "sorce = \"forecast\"\n", 1, "sorce: unknown key (did you mean \"source\"?)"},
      {"generated without offset", "generated = 2026-11-25T10:00:00\n", 1,
       "generated: expected an offset date-time such as 2026-11-25T10:00:00Z, found a local date-time"},
      {"generated as a string", "generated = \"today\"\n", 1, "generated: expected an offset date-time"},
      {"client as a plain table", "[client]\nname = \"db1\"\n", 1, "expected an array of tables"},
      {"syntax error", kHead + "[[client]]\nname = \"db1\n", 3, "(syntax)"},
      {"negative predicted_ops", kHead + table_with("predicted_ops = -1"), 6,
       "client[0].predicted_ops: -1.0 is below the minimum of 0.0"},
      {"NaN predicted_ops", kHead + table_with("predicted_ops = nan"), 6,
       "client[0].predicted_ops: expected a finite number"},
      {"predicted_ops as a string", kHead + table_with("predicted_ops = \"many\""), 6,
       "client[0].predicted_ops: expected a number, found a string"},
      {"negative predicted_bytes", kHead + table_with("predicted_bytes = -0.5"), 6,
       "client[0].predicted_bytes: -0.5 is below the minimum of 0.0"},
      {"infinite predicted_bytes", kHead + table_with("predicted_bytes = inf"), 6,
       "client[0].predicted_bytes: expected a finite number"},
      {"interval without unit", kHead + table_with("interval = \"60\""), 6,
       "client[0].interval: invalid duration \"60\": a duration needs a unit"},
      {"interval as a number", kHead + table_with("interval = 60"), 6,
       "client[0].interval: expected a duration as a string with a unit"},
      {"interval of zero", kHead + table_with("interval = \"0s\""), 6,
       "client[0].interval: must be greater than 0s"},
      {"window with an unknown unit", kHead + table_with("window = \"15min\""), 6,
       "client[0].window: invalid duration \"15min\": unknown unit \"min\""},
      {"window of zero", kHead + table_with("window = \"0m\""), 6, "client[0].window: must be greater than 0s"},
      {"empty model", kHead + table_with("model = \"\""), 6, "client[0].model: must not be empty"},
      {"model not a string", kHead + table_with("model = 3"), 6, "client[0].model: expected a string, found an integer"},
      {"unknown app_type", kHead + table_with("app_type = \"webserver\""), 6,
       "client[0].app_type: \"webserver\" is not one of the allowed values \"database\""},
      {"typo in an optional key", kHead + table_with("predicted_op = 1"), 6,
       "client[0].predicted_op: unknown key (did you mean \"predicted_ops\"?)"},
  };
  aiops::config::Config config = make_config();
  for (const Bad& bad : cases) {
    SUBCASE(bad.kind) {
      auto list = aiops::specbuf::parse_priority_list(bad.text, "state/priorities.toml", config);
      REQUIRE_MESSAGE(!list.ok(), "accepted:\n" << bad.text);
      const std::string& message = list.error().message();
      INFO(message);
      CHECK(list.error().code() == Errc::invalid_input);
      CHECK(message.rfind("state/priorities.toml:" + std::to_string(bad.line) + ":", 0) == 0);
      CHECK(message.find(bad.problem) != std::string::npos);
    }
  }
}

TEST_CASE("priority list: load reports errors of the file under its path") {
  aiops::test::TempDir dir;
  auto file = dir / "priorities.toml";
  std::ofstream(file) << kHead << table("db1", "1", "1") << table("web", "1", "1");
  auto list = aiops::specbuf::load_priority_list(file, make_config());
  REQUIRE_FALSE(list.ok());
  CHECK(list.error().code() == Errc::invalid_input);
  CHECK(list.error().message().rfind(file.string() + ":9:", 0) == 0);
}
