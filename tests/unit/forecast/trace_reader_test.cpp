#include "aiops/forecast/trace_reader.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

using aiops::Errc;
using aiops::forecast::parse_trace_format;
using aiops::forecast::to_string;
using aiops::forecast::TraceFormat;
using aiops::forecast::TraceReader;
using aiops::forecast::TraceRecord;

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kSecond = 1'000'000'000;

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

// A TraceRecord with its views copied.
struct Rec {
  std::string file;
  std::uint32_t file_index;
  std::uint64_t line;
  std::int64_t time_ns;
  std::string client;
  double ops, bytes;
  aiops::forecast::IoMix mix;
  std::uint64_t offset;
  std::int64_t length_ns;
  std::uint32_t length_column;
};

struct Read {
  TraceFormat format = TraceFormat::auto_detect;
  std::vector<Rec> records;
};

aiops::Result<Read> try_read(const fs::path& path, TraceFormat format) {
  auto reader = TraceReader::open(path, format);
  if (!reader.ok()) return reader.error();
  Read out;
  out.format = reader->format();
  aiops::Status s = reader->read([&](const TraceRecord& r) {
    out.records.push_back(Rec{std::string(r.file), r.file_index, r.line, r.time_ns, std::string(r.client), r.ops,
                              r.bytes, r.mix, r.offset, r.length_ns, r.length_column});
    return aiops::Status{};
  });
  if (!s.ok()) return s.error();
  return out;
}

Read read_ok(const fs::path& path, TraceFormat format = TraceFormat::auto_detect) {
  auto r = try_read(path, format);
  REQUIRE_MESSAGE(r.ok(), r.error().message());
  return std::move(r).value();
}

std::string read_error(const fs::path& path, TraceFormat format, Errc code = Errc::invalid_input) {
  auto r = try_read(path, format);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == code);
  return r.error().message();
}

// The error of `text` read as `format`, which must be at LINE:COLUMN and
// contain `problem`.
void check_bad(const aiops::test::TempDir& dir, TraceFormat format, const std::string& text, int line, int column,
               const std::string& problem) {
  fs::path path = dir / "bad.csv";
  write_file(path, text);
  std::string message = read_error(path, format);
  std::string where = path.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  INFO("text: " << text);
  INFO("message: " << message);
  CHECK(message.rfind(where, 0) == 0);
  CHECK(message.find(problem) != std::string::npos);
}

}  // namespace

TEST_CASE("trace formats: names parse and print") {
  for (auto f : {TraceFormat::auto_detect, TraceFormat::native, TraceFormat::msr, TraceFormat::series,
                 TraceFormat::worker}) {
    auto parsed = parse_trace_format(to_string(f));
    REQUIRE(parsed.ok());
    CHECK(parsed.value() == f);
  }
  CHECK(to_string(TraceFormat::auto_detect) == "auto");
  auto bad = parse_trace_format("csv");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code() == Errc::invalid_input);
  CHECK(bad.error().message().find("expected auto, native, msr, series or worker") != std::string::npos);
}

TEST_CASE("native trace: requests with Unix and ISO 8601 timestamps") {
  aiops::test::TempDir dir;
  fs::path path = dir / "native.csv";
  write_file(path,
             "timestamp,client,op,offset,length,latency_us\n"
             "1795600800,db,read,0,4096,120\n"
             "\n"
             "1795600800.25,db,W,4096,8192\n"
             "2026-11-25T10:00:00.125+01:00,web,Write,100,1,\n"
             "  2026-11-25T10:00:01Z , web , r , 7 , 512 , 3.5 \n");
  Read r = read_ok(path, TraceFormat::native);
  CHECK(r.format == TraceFormat::native);
  REQUIRE(r.records.size() == 4);
  const Rec& a = r.records[0];
  CHECK(a.line == 2);
  CHECK(a.file == path.string());
  CHECK(a.time_ns == 1795600800 * kSecond);
  CHECK(a.client == "db");
  CHECK(a.ops == 1);
  CHECK(a.bytes == 4096);
  CHECK(a.offset == 0);
  CHECK(a.mix.known);
  CHECK(a.mix.reads == 1);
  CHECK(a.mix.writes == 0);
  CHECK(a.mix.read_bytes == 4096);
  CHECK(a.length_ns == 0);
  const Rec& b = r.records[1];
  CHECK(b.line == 4);
  CHECK(b.time_ns == 1795600800 * kSecond + 250'000'000);
  CHECK(b.mix.writes == 1);
  CHECK(b.mix.write_bytes == 8192);
  CHECK(b.offset == 4096);
  // 10:00:00.125 at +01:00 is 09:00:00.125Z.
  CHECK(r.records[2].time_ns == 1795597200 * kSecond + 125'000'000);
  CHECK(r.records[2].client == "web");
  CHECK(r.records[3].time_ns == 1795600801 * kSecond);
  CHECK(r.records[3].client == "web");
  CHECK(r.records[3].mix.reads == 1);
  CHECK(r.records[3].offset == 7);
}

TEST_CASE("ISO 8601 timestamps: zones, offsets, fractions, separators") {
  aiops::test::TempDir dir;
  fs::path path = dir / "series.csv";
  // Reference values: python3 datetime.fromisoformat(...).timestamp().
  write_file(path,
             "2026-11-25T10:00:00Z,a,1\n"              // 1795600800
             "2026-11-25t10:00:00z,a,1\n"              // lower case
             "2026-11-25 10:00:00+00:00,a,1\n"         // space separator
             "2026-11-25T11:30:00+0130,a,1\n"          // offset without colon
             "2026-11-25T05:00:00-05,a,1\n"            // hours only
             "2024-02-29T23:59:59-05:30,a,1\n"         // 1709270999, leap day
             "1970-01-01T00:00:00.123456789999Z,a,1\n"  // digits beyond ns dropped
             "1900-01-01T00:00:00Z,a,1\n");            // before 1970
  Read r = read_ok(path, TraceFormat::series);
  REQUIRE(r.records.size() == 8);
  for (int i = 0; i < 5; ++i) CHECK(r.records[i].time_ns == 1795600800 * kSecond);
  CHECK(r.records[5].time_ns == 1709270999 * kSecond);
  CHECK(r.records[6].time_ns == 123'456'789);
  CHECK(r.records[7].time_ns == -2208988800 * kSecond);

  aiops::test::TempDir d2;
  check_bad(d2, TraceFormat::series, "2026-11-25T10:00:00,a,1\n", 1, 1, "has no time zone; add Z for UTC or an offset");
  check_bad(d2, TraceFormat::series, "2026-11-25T10:00:00.5,a,1\n", 1, 1, "has no time zone");
  check_bad(d2, TraceFormat::series, "2026-02-29T10:00:00Z,a,1\n", 1, 1, "no day 29 in 2026-02");
  check_bad(d2, TraceFormat::series, "2026-13-01T10:00:00Z,a,1\n", 1, 1, "no month 13");
  check_bad(d2, TraceFormat::series, "2026-11-25T24:00:00Z,a,1\n", 1, 1, "time of day out of range");
  check_bad(d2, TraceFormat::series, "2026-11-25T10:00:00+24:00,a,1\n", 1, 1, "zone offset out of range");
  check_bad(d2, TraceFormat::series, "2026-11-25,a,1\n", 1, 1, "expected YYYY-MM-DDTHH:MM:SS");
  check_bad(d2, TraceFormat::series, "2026-11-25T10:00:00Q,a,1\n", 1, 1, "expected YYYY-MM-DDTHH:MM:SS");
  check_bad(d2, TraceFormat::series, "1500-01-01T00:00:00Z,a,1\n", 1, 1, "out of range (years 1678 to 2261)");
  check_bad(d2, TraceFormat::series, "99999999999,a,1\n", 1, 1, "out of range");
  check_bad(d2, TraceFormat::series, "1795600800.,a,1\n", 1, 1, "bad timestamp");
  check_bad(d2, TraceFormat::series, "-5,a,1\n", 1, 1, "bad timestamp \"-5\": expected Unix seconds");
}

TEST_CASE("MSR trace: FILETIME since 1601, client Hostname_DiskNumber") {
  aiops::test::TempDir dir;
  fs::path path = dir / "msr.csv";
  write_file(path,
             "128166372003061629,hm,1,Read,3609596416,4096,41664\n"
             "116444736000000000,hm,01,write,0,512,0\n"
             "116444735999999999,src2,0,READ,1,2,3\n");
  Read r = read_ok(path, TraceFormat::msr);
  REQUIRE(r.records.size() == 3);
  // (128166372003061629 - 116444736000000000) * 100 ns = 2007-02-22T17:00:00.3061629Z.
  CHECK(r.records[0].time_ns == 1'172'163'600'306'162'900);
  CHECK(r.records[0].client == "hm_1");
  CHECK(r.records[0].offset == 3609596416ULL);
  CHECK(r.records[0].bytes == 4096);
  CHECK(r.records[0].mix.reads == 1);
  CHECK(r.records[1].time_ns == 0);  // the FILETIME of the Unix epoch
  CHECK(r.records[1].client == "hm_1");
  CHECK(r.records[1].mix.writes == 1);
  CHECK(r.records[2].time_ns == -100);
  CHECK(r.records[2].client == "src2_0");
  // FILETIME 0 is 1601-01-01, before what nanoseconds since 1970 in 64 bits reach.
  check_bad(dir, TraceFormat::msr, "0,hm,1,Read,0,4096,1\n", 1, 1, "out of range (years 1678 to 2261)");
}

TEST_CASE("series and worker traces") {
  aiops::test::TempDir dir;
  fs::path series = dir / "s.csv";
  write_file(series, "timestamp,client,value\n1795600800,a,2.5\n1795600860,b,0\n1795600920,a,1e3\n");
  Read s = read_ok(series, TraceFormat::series);
  REQUIRE(s.records.size() == 3);
  CHECK(s.records[0].ops == 2.5);
  CHECK(s.records[0].bytes == 0);
  CHECK_FALSE(s.records[0].mix.known);
  CHECK(s.records[1].client == "b");
  CHECK(s.records[2].ops == 1000);

  fs::path worker = dir / "w.csv";
  write_file(worker,
             "timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential\n"
             "1795600800,60.002,db,10,5,40960,20480,3\n");
  Read w = read_ok(worker, TraceFormat::worker);
  REQUIRE(w.records.size() == 1);
  const Rec& r = w.records[0];
  CHECK(r.time_ns == 1795600800 * kSecond);
  CHECK(r.length_ns == 60'002'000'000);
  CHECK(r.length_column == 12);
  CHECK(r.client == "db");
  CHECK(r.ops == 15);
  CHECK(r.bytes == 61440);
  CHECK(r.mix.known);
  CHECK(r.mix.reads == 10);
  CHECK(r.mix.writes == 5);
  CHECK(r.mix.read_bytes == 40960);
  CHECK(r.mix.write_bytes == 20480);
  CHECK(r.mix.sequential == 3);
}

TEST_CASE("worker trace directory: every *.csv in name order") {
  aiops::test::TempDir dir;
  const std::string header = "timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential\n";
  write_file(dir / "2026-11-26.csv", header + "1795687200,60.000,db,2,0,8192,0,0\n");
  write_file(dir / "2026-11-25.csv", header + "1795600800,60.000,db,1,0,4096,0,0\n");
  write_file(dir / "notes.txt", "not a trace\n");
  fs::create_directory(dir / "old.csv");
  Read r = read_ok(dir.path());
  CHECK(r.format == TraceFormat::worker);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].file == (dir / "2026-11-25.csv").string());
  CHECK(r.records[0].file_index == 0);
  CHECK(r.records[0].line == 2);
  CHECK(r.records[1].file == (dir / "2026-11-26.csv").string());
  CHECK(r.records[1].file_index == 1);
  CHECK(r.records[1].ops == 2);

  std::string m = read_error(dir.path(), TraceFormat::native, Errc::invalid_argument);
  CHECK(m.find("is a directory; only the worker format") != std::string::npos);
  aiops::test::TempDir empty;
  m = read_error(empty.path(), TraceFormat::auto_detect);
  CHECK(m.find("no records (no *.csv files") != std::string::npos);
}

TEST_CASE("auto detection of each format") {
  aiops::test::TempDir dir;
  struct Case {
    const char* text;
    TraceFormat expected;
  };
  const Case cases[] = {
      {"timestamp,client,op,offset,length\n1795600800,db,read,0,1\n", TraceFormat::native},
      {"TIMESTAMP,Client,Op,Offset,Length,Latency_us\n1795600800,db,read,0,1,2\n", TraceFormat::native},
      {"1795600800,db,W,0,4096\n", TraceFormat::native},
      {"\n\r\n2026-11-25T10:00:00Z,db,read,0,4096,120\n", TraceFormat::native},
      {"128166372003061629,hm,1,Read,3609596416,4096,41664\n", TraceFormat::msr},
      {"timestamp,client,value\n1795600800,db,1\n", TraceFormat::series},
      {"1795600800,db,1\n", TraceFormat::series},
      {"\xEF\xBB\xBFtimestamp,client,value\r\n1795600800,db,1\r\n", TraceFormat::series},
      {"timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential\n"
       "1795600800,60.000,db,1,0,1,0,0\n",
       TraceFormat::worker},
  };
  for (const Case& c : cases) {
    INFO("text: " << c.text);
    fs::path path = dir / "t.csv";
    write_file(path, c.text);
    Read r = read_ok(path);
    CHECK(r.format == c.expected);
    CHECK(r.records.size() == 1);
  }
  fs::path path = dir / "t.csv";
  // 5 fields but no native op; 7 fields but a small first field: neither.
  for (const char* text : {"1795600800,db,trim,0,4096\n", "12,hm,1,Read,0,4096,1\n", "a,b\n"}) {
    INFO("text: " << text);
    write_file(path, text);
    std::string m = read_error(path, TraceFormat::auto_detect);
    CHECK(m.rfind(path.string() + ":1:1: cannot tell the trace format", 0) == 0);
    CHECK(m.find("give --format") != std::string::npos);
  }
  write_file(path, "\n  \n1795600800,db\n");
  CHECK(read_error(path, TraceFormat::auto_detect).rfind(path.string() + ":3:1: cannot tell", 0) == 0);
  write_file(path, "");
  CHECK(read_error(path, TraceFormat::auto_detect) == path.string() + ": no records (the file is empty)");
  CHECK(read_error(dir / "missing.csv", TraceFormat::auto_detect, Errc::not_found).find("missing.csv") !=
        std::string::npos);
}

TEST_CASE("malformed native lines: each case with its line and column") {
  aiops::test::TempDir dir;
  const std::string head = "timestamp,client,op,offset,length\n1795600800,db,read,0,4096\n";
  auto bad = [&](const std::string& line, int column, const std::string& problem) {
    check_bad(dir, TraceFormat::native, head + line + "\n", 3, column, problem);
  };
  bad("1795600800,db,read,0", 21, "expected 5 or 6 fields (timestamp,client,op,offset,length[,latency_us]), found 4");
  bad("1795600800,db,read,0,4096,1,2", 29, "expected 5 or 6 fields");
  bad("1795600800,db,read,0,4096,1,2", 29, "found 7");
  bad("17956x0800,db,read,0,4096", 1, "bad timestamp \"17956x0800\": expected Unix seconds");
  bad("2026-11-25T10:00:00,db,read,0,4096", 1, "has no time zone; add Z");
  bad(",db,read,0,4096", 1, "empty timestamp");
  bad("1795600800,,read,0,4096", 12, "empty client name");
  bad("1795600800,  ,read,0,4096", 12, "empty client name");
  bad("1795600800,d\x01" "b,read,0,4096", 13, "contains a control character");
  bad("1795600800,db,trim,0,4096", 15, "unknown op \"trim\": expected read, write, R or W");
  bad(" 1795600800 ,db,x,0,4096", 17, "unknown op \"x\"");
  bad("1795600800,db,read,-1,4096", 20, "bad offset \"-1\": expected an unsigned integer (bytes)");
  bad("1795600800,db,read,99999999999999999999,1", 20, "bad offset \"99999999999999999999\": larger than 2^64-1");
  bad("1795600800,db,read,0,4k", 22, "bad length \"4k\"");
  bad("1795600800,db,read,0,", 22, "empty length");
  bad("1795600800,db,read,18446744073709551615,1", 41, "offset + length exceeds 2^64-1");
  bad("1795600800,db,read,0,4096,-3", 27, "bad latency_us \"-3\": expected a non-negative number");
  bad("1795600800,db,read,0,4096,nan", 27, "bad latency_us");
  // Headers of another format, or a header that fits none.
  check_bad(dir, TraceFormat::native, "timestamp,client,value\n1795600800,db,1\n", 1, 1,
            "this is the header of a series trace, but the format is native; use --format series or auto");
  check_bad(dir, TraceFormat::native, head + "timestamp,client,op\n", 3, 1,
            "header does not match the native format: expected timestamp,client,op,offset,length[,latency_us]");
}

TEST_CASE("malformed MSR, series and worker lines") {
  aiops::test::TempDir dir;
  const std::string msr = "128166372003061629,hm,1,Read,3609596416,4096,41664\n";
  auto bad_msr = [&](const std::string& line, int column, const std::string& problem) {
    check_bad(dir, TraceFormat::msr, msr + line + "\n", 2, column, problem);
  };
  bad_msr("128166372003061629,hm,1,Read,0,4096", 36, "expected 7 fields (Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime), found 6");
  bad_msr("12816637200306162x,hm,1,Read,0,4096,1", 1, "bad Timestamp \"12816637200306162x\": expected a Windows FILETIME");
  bad_msr("128166372003061629,,1,Read,0,4096,1", 20, "empty Hostname");
  bad_msr("128166372003061629,hm,x,Read,0,4096,1", 23, "bad DiskNumber \"x\": expected an unsigned integer");
  bad_msr("128166372003061629,hm,1,Trim,0,4096,1", 25, "unknown Type \"Trim\": expected Read or Write");
  bad_msr("128166372003061629,hm,1,Read,x,4096,1", 30, "bad Offset \"x\"");
  bad_msr("128166372003061629,hm,1,Read,0,-1,1", 32, "bad Size \"-1\"");
  bad_msr("128166372003061629,hm,1,Read,0,4096,1.5", 37, "bad ResponseTime \"1.5\"");

  const std::string series = "timestamp,client,value\n2026-11-25T10:00:00Z,db,5\n";
  auto bad_series = [&](const std::string& line, int column, const std::string& problem) {
    check_bad(dir, TraceFormat::series, series + line + "\n", 3, column, problem);
  };
  bad_series("2026-11-25T10:00:00Z,db", 24, "expected 3 fields (timestamp,client,value), found 2");
  bad_series("2026-11-25T10:00:00Z,db,5,6", 27, "found 4");
  bad_series("2026-11-25T10:00:00Z,,5", 22, "empty client name");
  bad_series("2026-11-25T10:00:00Z,db,-1", 25, "bad value \"-1\": expected a finite number >= 0");
  bad_series("2026-11-25T10:00:00Z,db,inf", 25, "bad value \"inf\"");
  bad_series("2026-11-25T10:00:00Z,db,", 25, "bad value \"\"");
  bad_series("2026-11-25T10:00Z,db,1", 1, "bad timestamp");

  const std::string worker =
      "timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential\n"
      "1795600800,60.000,db,1,2,4096,8192,1\n";
  auto bad_worker = [&](const std::string& line, int column, const std::string& problem) {
    check_bad(dir, TraceFormat::worker, worker + line + "\n", 3, column, problem);
  };
  bad_worker("1795600860,60.000,db,1,2,4096,8192", 35, "expected 8 fields (timestamp,interval_s,client,reads");
  bad_worker("1795600860,0,db,1,2,4096,8192,1", 12, "bad interval_s \"0\": expected a positive number of seconds");
  bad_worker("1795600860,-60,db,1,2,4096,8192,1", 12, "bad interval_s \"-60\"");
  bad_worker("1795600860,60.000,,1,2,4096,8192,1", 19, "empty client name");
  bad_worker("1795600860,60.000,db,x,2,4096,8192,1", 22, "bad reads \"x\": expected an unsigned integer");
  bad_worker("1795600860,60.000,db,1,2.5,4096,8192,1", 24, "bad writes \"2.5\"");
  bad_worker("1795600860,60.000,db,1,2,-4096,8192,1", 26, "bad read_bytes");
  bad_worker("1795600860,60.000,db,1,2,4096,8k,1", 31, "bad write_bytes");
  bad_worker("1795600860,60.000,db,1,2,4096,8192,", 36, "empty sequential");
}

TEST_CASE("CRLF line ends, a last line without newline, blank lines") {
  aiops::test::TempDir dir;
  fs::path path = dir / "crlf.csv";
  write_file(path,
             "timestamp,client,op,offset,length\r\n"
             "1795600800,db,read,0,4096\r\n"
             "\r\n"
             "   \t\r\n"
             "1795600801,db,write,4096,512");
  Read r = read_ok(path);
  CHECK(r.format == TraceFormat::native);
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0].bytes == 4096);
  CHECK(r.records[1].line == 5);
  CHECK(r.records[1].bytes == 512);
  CHECK(r.records[1].mix.writes == 1);
  // The column of an error does not count the '\r'.
  check_bad(dir, TraceFormat::native, "1795600800,db,read,0,4096\r\n1795600800,db,read,0\r\n", 2, 21, "found 4");
}

TEST_CASE("streaming: progress reports and a line longer than the buffer") {
  aiops::test::TempDir dir;
  fs::path path = dir / "big.csv";
  std::string text = "timestamp,client,value\n";
  const int lines = 200'000;  // about 5.4 MiB, more than one progress step
  for (int i = 0; i < lines; ++i) text += std::to_string(1795600800 + i * 60) + ",client-" + std::to_string(i % 7) + ",1\n";
  write_file(path, text);
  auto reader = TraceReader::open(path, TraceFormat::auto_detect);
  REQUIRE(reader.ok());
  CHECK(reader->total_bytes() == text.size());
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  std::uint64_t records = 0;
  REQUIRE(reader->read([&](const TraceRecord&) { ++records; return aiops::Status{}; },
                       [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); })
              .ok());
  CHECK(records == lines);
  REQUIRE(calls.size() >= 2);
  CHECK(calls.size() <= 3);  // every 4 MiB, plus the last
  CHECK(calls.front().first >= (std::uint64_t{4} << 20));
  CHECK(calls.back().first == text.size());
  CHECK(calls.back().second == text.size());

  std::string long_line = "1795600800,db," + std::string((std::size_t{1} << 20) + 10, '1') + "\n";
  check_bad(dir, TraceFormat::series, "1795600800,db,1\n" + long_line, 2, 1, "line longer than 1 MiB");
}
