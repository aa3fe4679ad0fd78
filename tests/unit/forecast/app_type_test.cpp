// Application types: each rule on a mix typical of its kind and on both
// sides of its thresholds, the mixes that say too little, the configured
// type winning, and the reasons people read.

#include <doctest/doctest.h>

#include <string>

#include "aiops/config/config_sections.hpp"
#include "aiops/forecast/app_type.hpp"

using aiops::forecast::AppType;
using aiops::forecast::AppTypeResult;
using aiops::forecast::infer_app_type;
using aiops::forecast::IoMix;
using aiops::forecast::resolve_app_type;

namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;

// `reads` reads of `read_size` bytes and `writes` writes of `write_size`,
// `sequential` of them sequential.
IoMix mix(uint64_t reads, uint64_t read_size, uint64_t writes, uint64_t write_size, uint64_t sequential) {
  IoMix m;
  m.known = true;
  m.reads = reads;
  m.writes = writes;
  m.read_bytes = reads * read_size;
  m.write_bytes = writes * write_size;
  m.sequential = sequential;
  return m;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("app type: the names are those of aiops.toml, in its order, and parse back") {
  REQUIRE(aiops::forecast::kAppTypes.size() == aiops::config::detail::kAppTypes.size());
  for (std::size_t i = 0; i < aiops::forecast::kAppTypes.size(); ++i) {
    AppType type = aiops::forecast::kAppTypes[i];
    CHECK(aiops::forecast::to_string(type) == aiops::config::detail::kAppTypes[i]);
    CHECK(aiops::forecast::parse_app_type(aiops::forecast::to_string(type)) == type);
  }
  CHECK_FALSE(aiops::forecast::parse_app_type("Database").has_value());
  CHECK_FALSE(aiops::forecast::parse_app_type("").has_value());
}

TEST_CASE("app type: a typical mix of each kind is recognised, with a reason that shows its numbers") {
  SUBCASE("backup: 94% writes of 1 MiB, 97% sequential") {
    AppTypeResult r = infer_app_type(mix(60, 64 * KiB, 940, MiB, 970));
    CHECK(r.type == AppType::backup);
    CHECK(r.source == AppTypeResult::Source::inferred);
    CHECK(r.reason == "94% writes, 97% sequential, 1 MiB per write on average");
  }
  SUBCASE("streaming: sequential reads of 256 KiB") {
    AppTypeResult r = infer_app_type(mix(950, 256 * KiB, 50, 4 * KiB, 900));
    CHECK(r.type == AppType::streaming);
    CHECK(r.reason == "95% reads, 90% sequential, 256 KiB per read on average");
  }
  SUBCASE("analytics: large reads, interleaved scans (not sequential)") {
    AppTypeResult r = infer_app_type(mix(700, 512 * KiB + 256 * KiB, 300, 64 * KiB, 200));
    CHECK(r.type == AppType::analytics);
    CHECK(r.reason == "70% reads, 20% sequential, 768 KiB per read on average");
  }
  SUBCASE("vdi: small random writes") {
    AppTypeResult r = infer_app_type(mix(250, 8 * KiB, 750, 8 * KiB, 100));
    CHECK(r.type == AppType::vdi);
    CHECK(r.reason == "75% writes, 10% sequential, 8 KiB per request on average");
  }
  SUBCASE("database: small random reads and writes") {
    AppTypeResult r = infer_app_type(mix(700, 8 * KiB, 300, 16 * KiB, 50));
    CHECK(r.type == AppType::database);
    // 0.7 * 8 + 0.3 * 16 = 10.4 KiB.
    CHECK(r.reason == "70% reads, 5% sequential, 10.4 KiB per request on average");
  }
  SUBCASE("general: medium, half sequential") {
    AppTypeResult r = infer_app_type(mix(500, 48 * KiB, 500, 48 * KiB, 500));
    CHECK(r.type == AppType::general);
    CHECK(r.reason == "no rule matches 50% reads, 50% sequential, 48 KiB per request on average");
  }
}

TEST_CASE("app type: each threshold decides on its own side") {
  // backup needs 80% writes, 60% sequential, 128 KiB per write.
  CHECK(infer_app_type(mix(200, MiB, 800, 128 * KiB, 600)).type == AppType::backup);
  CHECK(infer_app_type(mix(201, MiB, 799, 128 * KiB, 600)).type != AppType::backup);
  CHECK(infer_app_type(mix(200, MiB, 800, 128 * KiB, 599)).type != AppType::backup);
  CHECK(infer_app_type(mix(200, MiB, 800, 128 * KiB - 1, 600)).type != AppType::backup);
  // streaming needs 80% reads, 80% sequential, 32 KiB per read; below the
  // sequential bar, reads of 32 KiB are too small for analytics and too
  // sequential for database.
  CHECK(infer_app_type(mix(800, 32 * KiB, 200, KiB, 800)).type == AppType::streaming);
  CHECK(infer_app_type(mix(800, 32 * KiB, 200, KiB, 799)).type == AppType::general);
  CHECK(infer_app_type(mix(800, 32 * KiB - 1, 200, KiB, 800)).type != AppType::streaming);
  // analytics needs 60% reads of at least 64 KiB.
  CHECK(infer_app_type(mix(600, 64 * KiB, 400, 4 * KiB, 0)).type == AppType::analytics);
  CHECK(infer_app_type(mix(599, 64 * KiB, 401, 4 * KiB, 0)).type == AppType::general);
  CHECK(infer_app_type(mix(600, 64 * KiB - 1, 400, 4 * KiB, 0)).type == AppType::general);
  // vdi and database: at most 32 KiB per request and less than 40% sequential;
  // 60% writes make it vdi.
  CHECK(infer_app_type(mix(400, 32 * KiB, 600, 32 * KiB, 399)).type == AppType::vdi);
  CHECK(infer_app_type(mix(401, 32 * KiB, 599, 32 * KiB, 399)).type == AppType::database);
  CHECK(infer_app_type(mix(400, 32 * KiB, 600, 32 * KiB, 400)).type == AppType::general);
  CHECK(infer_app_type(mix(400, 32 * KiB, 600, 32 * KiB + 1, 0)).type == AppType::general);
}

TEST_CASE("app type: a mix that says too little is general, and says why") {
  SUBCASE("no per-request detail") {
    IoMix unknown;  // the series format: known = false
    unknown.reads = 5000;
    AppTypeResult r = infer_app_type(unknown);
    CHECK(r.type == AppType::general);
    CHECK(contains(r.reason, "no per-request detail"));
  }
  SUBCASE("too few requests") {
    AppTypeResult r = infer_app_type(mix(40, MiB, 59, MiB, 99));
    CHECK(r.type == AppType::general);
    CHECK(r.reason == "only 99 requests in the trace; 100 are needed to infer a type");
    CHECK(infer_app_type(mix(10, MiB, 90, MiB, 100)).type == AppType::backup);
  }
  SUBCASE("no requests at all") {
    IoMix empty;
    empty.known = true;
    CHECK(infer_app_type(empty).type == AppType::general);
    CHECK(contains(infer_app_type(empty).reason, "only 0 requests"));
  }
}

TEST_CASE("app type: the configured type wins over the mix") {
  const IoMix backup_like = mix(60, 64 * KiB, 940, MiB, 970);
  AppTypeResult configured = resolve_app_type("database", backup_like);
  CHECK(configured.type == AppType::database);
  CHECK(configured.source == AppTypeResult::Source::config);
  CHECK(aiops::forecast::to_string(configured.source) == "config");
  CHECK(configured.reason == "app_type in the configuration");

  AppTypeResult inferred = resolve_app_type("", backup_like);
  CHECK(inferred.type == AppType::backup);
  CHECK(aiops::forecast::to_string(inferred.source) == "inferred");

  // Not a type (a hand-built configuration): inferred, and the reason says so.
  AppTypeResult odd = resolve_app_type("webserver", backup_like);
  CHECK(odd.type == AppType::backup);
  CHECK(odd.source == AppTypeResult::Source::inferred);
  CHECK(odd.reason.rfind("the configured app_type \"webserver\" is not a type; 94% writes", 0) == 0);
}
