#include "aiops/forecast/series.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using aiops::Errc;
using aiops::forecast::ClientSeries;
using aiops::forecast::read_trace;
using aiops::forecast::SeriesSet;
using aiops::forecast::TraceFormat;

namespace {

namespace fs = std::filesystem;

// 2026-11-25T10:00:00Z, a whole number of hours since the epoch.
constexpr std::int64_t T0 = 1795600800;
const std::string kWorkerHeader = "timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential\n";

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

SeriesSet read_ok(const fs::path& path, TraceFormat format, std::chrono::nanoseconds interval) {
  auto r = read_trace(path, format, interval);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return std::move(r).value();
}

std::string read_error(const fs::path& path, TraceFormat format, std::chrono::nanoseconds interval,
                       Errc code = Errc::invalid_input) {
  auto r = read_trace(path, format, interval);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == code);
  return r.error().message();
}

std::vector<float> floats(std::initializer_list<double> values) {
  std::vector<float> out;
  for (double v : values) out.push_back(static_cast<float>(v));
  return out;
}

const ClientSeries& client(const SeriesSet& set, std::string_view name) {
  auto it = std::find_if(set.clients.begin(), set.clients.end(), [&](const ClientSeries& c) { return c.name == name; });
  REQUIRE_MESSAGE(it != set.clients.end(), "no client " << name);
  return *it;
}

std::int64_t start_seconds(const SeriesSet& set) {
  return std::chrono::duration_cast<std::chrono::seconds>(set.start.time_since_epoch()).count();
}

std::string line(std::int64_t t, std::string_view rest) { return std::to_string(t) + "," + std::string(rest) + "\n"; }

}  // namespace

TEST_CASE("native trace: aggregation per minute with gaps as zeros, I/O mix, sequential requests") {
  aiops::test::TempDir dir;
  fs::path path = dir / "native.csv";
  write_file(path, "timestamp,client,op,offset,length\n" + line(T0 + 5, "db,read,0,4096") +
                       line(T0 + 30, "db,read,4096,4096") +  // starts where the previous ended
                       line(T0 + 125, "db,write,100,512") + line(T0 + 305, "db,read,612,1000"));
  SeriesSet set = read_ok(path, TraceFormat::auto_detect, 1min);
  CHECK(set.format == TraceFormat::native);
  CHECK(set.interval == 1min);
  CHECK(start_seconds(set) == T0);
  CHECK(set.length == 6);
  CHECK(set.has_bytes);
  CHECK(set.records == 4);
  REQUIRE(set.clients.size() == 1);
  const ClientSeries& db = set.clients[0];
  CHECK(db.name == "db");
  CHECK(db.ops == floats({2, 0, 1, 0, 0, 1}));
  CHECK(db.bytes == floats({8192, 0, 512, 0, 0, 1000}));
  CHECK(db.mix.known);
  CHECK(db.mix.reads == 3);
  CHECK(db.mix.writes == 1);
  CHECK(db.mix.read_bytes == 9192);
  CHECK(db.mix.write_bytes == 512);
  CHECK(db.mix.sequential == 2);

  // An hour: everything in one interval that starts on the hour before.
  SeriesSet hourly = read_ok(path, TraceFormat::native, 1h);
  CHECK(hourly.length == 1);
  CHECK(start_seconds(hourly) == T0);
  CHECK(hourly.clients[0].ops == floats({4}));
}

TEST_CASE("several clients, lines out of time order: same start and length for all, sorted by name") {
  aiops::test::TempDir dir;
  std::vector<std::string> lines = {line(T0 + 600, "zeta,read,0,10"), line(T0 + 60, "alpha,write,0,20"),
                                    line(T0, "zeta,read,0,30"), line(T0 - 3600, "alpha,read,0,40")};
  fs::path shuffled = dir / "shuffled.csv";
  fs::path sorted = dir / "sorted.csv";
  write_file(shuffled, lines[0] + lines[1] + lines[2] + lines[3]);
  write_file(sorted, lines[3] + lines[2] + lines[1] + lines[0]);
  for (const fs::path& path : {shuffled, sorted}) {
    INFO(path);
    SeriesSet set = read_ok(path, TraceFormat::native, 1min);
    CHECK(start_seconds(set) == T0 - 3600);
    CHECK(set.length == 71);
    REQUIRE(set.clients.size() == 2);
    CHECK(set.clients[0].name == "alpha");
    CHECK(set.clients[1].name == "zeta");
    std::vector<float> alpha(71, 0.0f), zeta(71, 0.0f), alpha_bytes(71, 0.0f);
    alpha[0] = 1, alpha[61] = 1, zeta[60] = 1, zeta[70] = 1;
    alpha_bytes[0] = 40, alpha_bytes[61] = 20;
    CHECK(set.clients[0].ops == alpha);
    CHECK(set.clients[0].bytes == alpha_bytes);
    CHECK(set.clients[1].ops == zeta);
    CHECK(set.clients[1].ops.size() == set.length);
    CHECK(set.clients[1].bytes.size() == set.length);
  }
}

TEST_CASE("random order: the series equal a direct count") {
  aiops::test::TempDir dir;
  std::mt19937_64 rng(42);
  const std::int64_t minutes = 5000;
  std::map<std::string, std::map<std::int64_t, std::pair<double, double>>> expected;
  std::int64_t lo = INT64_MAX, hi = INT64_MIN;
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    std::string name = "c" + std::to_string(rng() % 4);
    std::int64_t t = T0 + 17 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(minutes * 60));
    std::int64_t length = 1 + static_cast<std::int64_t>(rng() % 100000);
    std::int64_t bucket = t / 60;
    lo = std::min(lo, bucket);
    hi = std::max(hi, bucket);
    auto& cell = expected[name][bucket];
    cell.first += 1;
    cell.second += static_cast<double>(length);
    text += line(t, name + ",w," + std::to_string(rng() % 1000000) + "," + std::to_string(length));
  }
  fs::path path = dir / "random.csv";
  write_file(path, text);
  SeriesSet set = read_ok(path, TraceFormat::native, 1min);
  CHECK(start_seconds(set) == lo * 60);
  REQUIRE(set.length == static_cast<std::size_t>(hi - lo + 1));
  REQUIRE(set.clients.size() == expected.size());
  for (const ClientSeries& c : set.clients) {
    INFO(c.name);
    const auto& cells = expected.at(c.name);
    double ops = 0;
    for (std::size_t i = 0; i < set.length; ++i) {
      auto it = cells.find(lo + static_cast<std::int64_t>(i));
      double want_ops = it == cells.end() ? 0 : it->second.first;
      double want_bytes = it == cells.end() ? 0 : it->second.second;
      CHECK(c.ops[i] == static_cast<float>(want_ops));
      CHECK(c.bytes[i] == static_cast<float>(want_bytes));
      ops += c.ops[i];
    }
    CHECK(ops == static_cast<double>(c.mix.requests()));
  }
}

TEST_CASE("per-request sums are exact beyond float precision of running sums") {
  aiops::test::TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += line(T0 + i % 60, "db,read," + std::to_string(i * 4097) + ",4097");
  fs::path path = dir / "many.csv";
  write_file(path, text);
  SeriesSet set = read_ok(path, TraceFormat::native, 1min);
  REQUIRE(set.length == 1);
  CHECK(set.clients[0].ops[0] == 20000.0f);
  CHECK(set.clients[0].bytes[0] == 81'940'000.0f);  // 20000 * 4097, representable as float
  CHECK(set.clients[0].mix.sequential == 19999);
}

TEST_CASE("MSR trace: client per host and disk, sequential per disk") {
  aiops::test::TempDir dir;
  auto ft = [](std::int64_t unix_s) { return std::to_string(116444736000000000LL + unix_s * 10'000'000LL); };
  fs::path path = dir / "msr.csv";
  write_file(path, ft(T0) + ",hm,0,Read,0,4096,10\n" + ft(T0 + 1) + ",hm,1,Write,100000,4096,10\n" + ft(T0 + 2) +
                       ",hm,0,Read,4096,4096,10\n" + ft(T0 + 61) + ",hm,1,Write,104096,8192,10\n");
  SeriesSet set = read_ok(path, TraceFormat::auto_detect, 1min);
  CHECK(set.format == TraceFormat::msr);
  CHECK(start_seconds(set) == T0);
  CHECK(set.length == 2);
  REQUIRE(set.clients.size() == 2);
  const ClientSeries& d0 = client(set, "hm_0");
  const ClientSeries& d1 = client(set, "hm_1");
  CHECK(d0.ops == floats({2, 0}));
  CHECK(d1.ops == floats({1, 1}));
  CHECK(d1.bytes == floats({4096, 8192}));
  CHECK(d0.mix.sequential == 1);
  CHECK(d1.mix.sequential == 1);
  CHECK(d1.mix.writes == 2);
  CHECK(d1.mix.write_bytes == 12288);
}

TEST_CASE("worker trace: its own step, jitter, misaligned and partial lines") {
  aiops::test::TempDir dir;
  fs::path path = dir / "w.csv";
  // Measured lengths jitter around the configured minute.
  write_file(path, kWorkerHeader + line(T0, "60.002,db,6,4,600,400,5") + line(T0 + 60, "59.998,web,1,0,10,0,0") +
                       line(T0 + 180, "60.001,db,3,0,300,0,0") + line(T0 + 240, "61.000,db,2,0,200,0,0"));
  SeriesSet set = read_ok(path, TraceFormat::auto_detect, 0s);
  CHECK(set.format == TraceFormat::worker);
  CHECK(set.interval == 1min);
  CHECK(start_seconds(set) == T0);
  CHECK(set.length == 5);
  CHECK(set.records == 4);
  const ClientSeries& db = client(set, "db");
  CHECK(db.ops == floats({10, 0, 0, 3, 2}));
  CHECK(db.bytes == floats({1000, 0, 0, 300, 200}));
  CHECK(db.mix.known);
  CHECK(db.mix.reads == 11);
  CHECK(db.mix.writes == 4);
  CHECK(db.mix.read_bytes == 1100);
  CHECK(db.mix.sequential == 5);
  CHECK(client(set, "web").ops == floats({0, 1, 0, 0, 0}));

  // Two minutes: a multiple of the step.
  SeriesSet two = read_ok(path, TraceFormat::worker, 2min);
  CHECK(two.length == 3);
  CHECK(client(two, "db").ops == floats({10, 3, 2}));

  // A worker started at :30 shares each line between two intervals; a short
  // last line (the worker stopped) counts over its own length.
  fs::path shifted = dir / "shifted.csv";
  write_file(shifted, kWorkerHeader + line(T0 + 30, "60.000,db,10,0,1000,0,0") +
                          line(T0 + 90, "60.000,db,4,0,400,0,0") + line(T0 + 150, "60.000,db,2,0,200,0,0") +
                          line(T0 + 210, "20.000,db,6,0,600,0,0") + line(T0 + 290, "20.000,db,2,0,200,0,0"));
  SeriesSet s = read_ok(shifted, TraceFormat::worker, 0s);
  CHECK(s.interval == 1min);
  CHECK(start_seconds(s) == T0);
  REQUIRE(s.length == 6);
  CHECK(s.clients[0].ops == floats({5, 7, 3, 7, 1, 1}));
  CHECK(s.clients[0].bytes == floats({500, 700, 300, 700, 100, 100}));
}

TEST_CASE("worker trace: a line with a different interval_s, intervals that do not fit the step") {
  aiops::test::TempDir dir;
  fs::path path = dir / "w.csv";
  write_file(path, kWorkerHeader + line(T0, "60.000,db,1,0,1,0,0") + line(T0 + 60, "60.000,db,1,0,1,0,0") +
                       line(T0 + 120, "60.000,db,1,0,1,0,0") + line(T0 + 180, "120.000,db,1,0,1,0,0"));
  std::string m = read_error(path, TraceFormat::worker, 0s);
  CHECK(m.rfind(path.string() + ":5:12: interval_s 120.000 differs from the trace's step of 1m", 0) == 0);

  fs::path ok = dir / "ok.csv";
  write_file(ok, kWorkerHeader + line(T0, "60.000,db,1,0,1,0,0") + line(T0 + 60, "60.000,db,1,0,1,0,0"));
  m = read_error(ok, TraceFormat::worker, 30s);
  CHECK(m == ok.string() + ": --interval 30s is shorter than the worker trace's own step of 1m; use 1m or a multiple of it");
  m = read_error(ok, TraceFormat::worker, 90s);
  CHECK(m == ok.string() + ": --interval 1m30s is not a multiple of the worker trace's own step of 1m");
  CHECK(read_ok(ok, TraceFormat::worker, 1h).length == 1);
}

TEST_CASE("series trace: step from the smallest gap, no bytes, no I/O mix") {
  aiops::test::TempDir dir;
  fs::path path = dir / "s.csv";
  // Points every 5 minutes; b has a hole; a has a point 10 minutes after its previous one.
  write_file(path, "timestamp,client,value\n" + line(T0, "a,1") + line(T0, "b,2") + line(T0 + 300, "a,3") +
                       line(T0 + 900, "a,4.5") + line(T0 + 900, "b,5"));
  SeriesSet set = read_ok(path, TraceFormat::auto_detect, 0s);
  CHECK(set.format == TraceFormat::series);
  CHECK(set.interval == 5min);
  CHECK(set.length == 4);
  CHECK_FALSE(set.has_bytes);
  CHECK(client(set, "a").ops == floats({1, 3, 0, 4.5}));
  CHECK(client(set, "b").ops == floats({2, 0, 0, 5}));
  CHECK(client(set, "a").bytes.empty());
  CHECK_FALSE(client(set, "a").mix.known);

  SeriesSet hourly = read_ok(path, TraceFormat::series, 1h);
  CHECK(hourly.length == 1);
  CHECK(client(hourly, "a").ops == floats({8.5}));

  CHECK(read_error(path, TraceFormat::series, 1min) ==
        path.string() + ": --interval 1m is shorter than the series trace's own step of 5m; use 5m or a multiple of it");
  CHECK(read_error(path, TraceFormat::series, 7min) ==
        path.string() + ": --interval 7m is not a multiple of the series trace's own step of 5m");

  // Before 1970 the interval of a point still starts at or before it.
  fs::path old = dir / "old.csv";
  write_file(old, "1969-12-31T23:59:30Z,a,1\n1970-01-01T00:00:30Z,a,2\n");
  SeriesSet before = read_ok(old, TraceFormat::series, 1min);
  CHECK(start_seconds(before) == -60);
  CHECK(before.clients[0].ops == floats({1, 2}));

  fs::path single = dir / "single.csv";
  write_file(single, line(T0, "a,1") + line(T0, "b,1"));
  CHECK(read_error(single, TraceFormat::series, 0s).find("cannot tell the step of the series trace") != std::string::npos);
  CHECK(read_ok(single, TraceFormat::series, 1min).length == 1);
}

TEST_CASE("interval rules: per-request formats need one, negative refused, absurd sizes refused") {
  aiops::test::TempDir dir;
  fs::path native = dir / "n.csv";
  write_file(native, line(T0, "db,read,0,1") + line(T0 + 1'000'000'000, "db,read,0,1"));
  std::string m = read_error(native, TraceFormat::auto_detect, 0s);
  CHECK(m.find("a native trace has one line per request and no step of its own; it needs --interval") !=
        std::string::npos);
  read_error(native, TraceFormat::native, -1s, Errc::invalid_argument);
  // 10^9 seconds apart at 1s: refused when the second line arrives, before any memory is taken.
  m = read_error(native, TraceFormat::native, 1s);
  CHECK(m == native.string() + ":2: the trace spans 1000000001 intervals of 1s for 1 client, more than 268435456 "
                               "values; use a longer --interval");
  CHECK(read_ok(native, TraceFormat::native, 24h).length == 11575);

  fs::path msr = dir / "m.csv";
  write_file(msr, "128166372003061629,hm,1,Read,3609596416,4096,41664\n");
  CHECK(read_error(msr, TraceFormat::msr, 0s).find("msr trace has one line per request") != std::string::npos);
}

TEST_CASE("empty traces have no records") {
  aiops::test::TempDir dir;
  fs::path header = dir / "h.csv";
  write_file(header, "timestamp,client,value\n\n");
  CHECK(read_error(header, TraceFormat::auto_detect, 0s) == header.string() + ": no records");
  fs::path empty = dir / "e.csv";
  write_file(empty, "");
  CHECK(read_error(empty, TraceFormat::native, 1min) == empty.string() + ": no records");
}

TEST_CASE("the bundled sample trace: 6 clients x 672 hourly intervals") {
  fs::path sample = fs::path(AIOPS_SOURCE_DIR) / "share/aiops/traces/sample.csv";
  std::uint64_t calls = 0, last_done = 0, last_total = 1;
  auto r = read_trace(sample, TraceFormat::auto_detect, 0s, [&](std::uint64_t done, std::uint64_t total) {
    ++calls;
    last_done = done;
    last_total = total;
  });
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  const SeriesSet& set = r.value();
  CHECK(set.format == TraceFormat::worker);
  CHECK(set.interval == 1h);
  CHECK(set.length == 672);
  CHECK(start_seconds(set) == 1793577600);  // 2026-11-02T00:00:00Z, a Monday
  CHECK(set.has_bytes);
  CHECK(calls == 1);
  CHECK(last_done == last_total);
  CHECK(last_done == fs::file_size(sample));
  std::vector<std::string> names;
  for (const ClientSeries& c : set.clients) names.push_back(c.name);
  CHECK(names == std::vector<std::string>{"analytics-01", "backup-01", "database-01", "general-01", "streaming-01",
                                          "vdi-01"});
  for (const ClientSeries& c : set.clients) {
    INFO(c.name);
    REQUIRE(c.ops.size() == 672);
    REQUIRE(c.bytes.size() == 672);
    CHECK(c.mix.known);
    double ops = std::accumulate(c.ops.begin(), c.ops.end(), 0.0);
    CHECK(ops == static_cast<double>(c.mix.requests()));
    double bytes = std::accumulate(c.bytes.begin(), c.bytes.end(), 0.0);
    CHECK(bytes == doctest::Approx(static_cast<double>(c.mix.bytes())).epsilon(1e-6));
    CHECK(*std::max_element(c.ops.begin(), c.ops.end()) > 0);
  }
  // The kinds differ as described in generate.py: backup writes, analytics reads, both are idle for hours.
  const ClientSeries& backup = client(set, "backup-01");
  CHECK(backup.mix.writes > 10 * backup.mix.reads);
  const ClientSeries& analytics = client(set, "analytics-01");
  CHECK(analytics.mix.reads > 10 * analytics.mix.writes);
  CHECK(std::count(backup.ops.begin(), backup.ops.end(), 0.0f) > 300);
  CHECK(std::count(client(set, "streaming-01").ops.begin(), client(set, "streaming-01").ops.end(), 0.0f) == 0);
}
