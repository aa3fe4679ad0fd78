// `aiops bench log`: measure the primary write log on a directory.
// `aiops bench buffer`: the speculative buffer's intake against memcpy.

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include "aiops/bench/buffer_bench.hpp"
#include "aiops/bench/log_bench.hpp"
#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/core/units.hpp"
#include "aiops/io/temp_directory.hpp"

namespace aiops::cli {
namespace {

struct BenchLogOptions {
  std::string dir;
  unsigned threads = 16;
  double duration_s = 5.0;
  std::string write_size = "4096";
  bool durable = false;
  std::string segment_size = "64MiB";
  std::string group_commit_bytes = "1MiB";
  std::string group_commit_delay = "0us";
  size_t keep_segments = 4;
  bool json = false;
};

std::string grouped(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  std::string s = buf, out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

void print_report(const bench::LogBenchOptions& o, const bench::LogBenchResult& r, const std::string& where) {
  auto us = [](uint64_t ns) { return grouped(static_cast<double>(ns) / 1000.0); };
  char line[128];
  std::printf("aiops bench log: %u threads, %zu-byte writes, %s acknowledgement, %.1f s, %s\n", o.threads,
              o.write_size, o.durable ? "durable" : "written", r.seconds, where.c_str());
  std::snprintf(line, sizeof line, "%.1f", r.mb_per_s());
  std::cout << "  writes/s       " << grouped(r.writes_per_s()) << "\n"
            << "  MB/s           " << line << "\n"
            << "  fdatasyncs/s   " << grouped(r.syncs_per_s()) << "\n";
  std::snprintf(line, sizeof line, "%.1f records per write, %.1f per fdatasync", r.mean_batch(), r.records_per_sync());
  std::cout << "  mean batch     " << line << "\n"
            << "  latency p50    " << us(r.latency.percentile(50)) << " us\n"
            << "  latency p99    " << us(r.latency.percentile(99)) << " us\n"
            << "  latency max    " << us(r.latency.max()) << " us\n";
}

nlohmann::json report_json(const bench::LogBenchOptions& o, const bench::LogBenchResult& r, const std::string& dir) {
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  return {{"ok", true},
          {"dir", dir},
          {"threads", o.threads},
          {"write_size", o.write_size},
          {"durable", o.durable},
          {"duration_s", r.seconds},
          {"writes", r.writes},
          {"writes_per_s", r.writes_per_s()},
          {"mb_per_s", r.mb_per_s()},
          {"fdatasyncs_per_s", r.syncs_per_s()},
          {"mean_batch", r.mean_batch()},
          {"records_per_fdatasync", r.records_per_sync()},
          {"p50_us", us(r.latency.percentile(50))},
          {"p99_us", us(r.latency.percentile(99))},
          {"p999_us", us(r.latency.percentile(99.9))},
          {"max_us", us(r.latency.max())}};
}

int run_bench_log(const BenchLogOptions& opt) {
  bench::LogBenchOptions o;
  o.threads = opt.threads;
  if (!(opt.duration_s > 0)) throw CommandFailed(Error(Errc::invalid_argument, "--duration must be above 0"), exit_usage);
  o.duration = std::chrono::duration<double>(opt.duration_s);
  o.write_size = static_cast<size_t>(size_option("--write-size", opt.write_size));
  o.durable = opt.durable;
  o.log.segment_bytes = size_option("--segment-size", opt.segment_size);
  o.log.group_commit_bytes = size_option("--group-commit-bytes", opt.group_commit_bytes);
  auto delay = parse_duration(opt.group_commit_delay);
  if (!delay.ok())
    throw CommandFailed(Error(Errc::invalid_argument, "--group-commit-delay: " + delay.error().message()), exit_usage);
  o.log.group_commit_delay = delay.value();
  o.keep_segments = opt.keep_segments;

  std::optional<io::TempDirectory> scratch;  // for runs without --dir, removed afterwards
  if (opt.dir.empty()) scratch.emplace(need(io::TempDirectory::create("aiops-bench-")));
  o.dir = opt.dir.empty() ? scratch->path() / "log" : std::filesystem::path(opt.dir);
  std::string where = opt.dir.empty() ? "scratch directory " + scratch->path().string() + " (removed)" : o.dir.string();

  bench::BenchProgress progress;
  if (!opt.json && stderr_is_tty()) {
    progress = [&](double elapsed, uint64_t writes) {
      std::fprintf(stderr, "\r  %.0f/%.0f s  %s writes/s   ", elapsed, opt.duration_s,
                   grouped(static_cast<double>(writes) / elapsed).c_str());
    };
  }
  bench::LogBenchResult r = need(bench::run_log_bench(o, progress));
  if (progress) std::fprintf(stderr, "\r%60s\r", "");
  if (opt.json) print_json(report_json(o, r, o.dir.string()));
  else print_report(o, r, where);
  return exit_ok;
}

struct BenchBufferOptions {
  uint32_t entries = 65536;
  std::string entry_size = "4096";
  unsigned rounds = 7;
  bool json = false;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int run_bench_buffer(const BenchBufferOptions& opt) {
  bench::BufferBenchOptions o;
  o.entries = opt.entries;
  o.entry_bytes = static_cast<uint32_t>(size_option("--entry-size", opt.entry_size, 1ull << 30));
  o.rounds = opt.rounds;
  bench::BufferBenchResult r = need(bench::run_buffer_bench(o));
  const double bytes = static_cast<double>(o.entries) * o.entry_bytes;
  std::vector<double> intake, copy, ratio;
  nlohmann::json rounds = nlohmann::json::array();
  for (const auto& x : r.rounds) {
    intake.push_back(o.entries / x.intake_s);
    copy.push_back(o.entries / x.memcpy_s);
    ratio.push_back(x.memcpy_s / x.intake_s);
    rounds.push_back({{"intake_entries_per_s", o.entries / x.intake_s},
                      {"intake_gb_per_s", bytes / x.intake_s / 1e9},
                      {"memcpy_entries_per_s", o.entries / x.memcpy_s},
                      {"memcpy_gb_per_s", bytes / x.memcpy_s / 1e9},
                      {"ratio", x.memcpy_s / x.intake_s}});
  }
  const double mi = median(intake), mc = median(copy), mr = median(ratio);
  if (opt.json) {
    print_json({{"entries", o.entries},
                {"entry_bytes", o.entry_bytes},
                {"rounds", rounds},
                {"intake_entries_per_s", mi},
                {"intake_gb_per_s", mi * o.entry_bytes / 1e9},
                {"memcpy_entries_per_s", mc},
                {"memcpy_gb_per_s", mc * o.entry_bytes / 1e9},
                {"ratio", mr}});
  } else {
    std::printf("buffer intake, one producer, %u entries of %u bytes, median of %u rounds:\n", o.entries, o.entry_bytes,
                o.rounds);
    std::printf("  intake: %s entries/s, %.2f GB/s\n", grouped(mi).c_str(), mi * o.entry_bytes / 1e9);
    std::printf("  memcpy: %s entries/s, %.2f GB/s\n", grouped(mc).c_str(), mc * o.entry_bytes / 1e9);
    std::printf("  intake / memcpy: %.2f\n", mr);
  }
  return exit_ok;
}

}  // namespace

void add_bench_commands(CLI::App& app, Action& action) {
  CLI::App* bench = app.add_subcommand("bench", "Measure parts of aiops on this machine");
  bench->require_subcommand(1);

  auto o = std::make_shared<BenchLogOptions>();
  CLI::App* log = bench->add_subcommand(
      "log", "Closed-loop appends to a write log from many threads: writes/s, MB/s, fdatasyncs/s, mean batch, "
             "p50/p99/max latency");
  log->add_option("--dir", o->dir,
                  "Log directory to write (kept afterwards); default: a scratch directory that is removed");
  log->add_option("--threads", o->threads, "Concurrent writers")->capture_default_str()->check(CLI::Range(1u, 4096u));
  log->add_option("--duration", o->duration_s, "Seconds to run")->capture_default_str();
  log->add_option("--write-size", o->write_size, "Payload bytes per write (e.g. 4096 or 4KiB)")->capture_default_str();
  log->add_flag("--durable", o->durable, "Acknowledge each write only once fdatasync'ed (default: once written)");
  log->add_option("--segment-size", o->segment_size, "Log segment size")->capture_default_str();
  log->add_option("--group-commit-bytes", o->group_commit_bytes, "Largest commit batch")->capture_default_str();
  log->add_option("--group-commit-delay", o->group_commit_delay, "How long a batch may wait to fill")
      ->capture_default_str();
  log->add_option("--keep-segments", o->keep_segments,
                  "Retire all but this many newest segments during the run, as a checkpointer that keeps up "
                  "would (their records are marked applied, not written to volumes); 0 keeps the whole log")
      ->capture_default_str();
  log->add_flag("--json", o->json, "Print the result as JSON");
  log->callback([&action, o] { action = [o] { return run_bench_log(*o); }; });

  auto b = std::make_shared<BenchBufferOptions>();
  CLI::App* buffer = bench->add_subcommand(
      "buffer", "Speculative buffer intake from one producer (reserve, copy into shared memory, publish) against "
                "memcpy of the same bytes: entries/s, GB/s, ratio");
  buffer->add_option("--entries", b->entries, "Entries per round (the scratch segment holds them all)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 24));
  buffer->add_option("--entry-size", b->entry_size, "Payload bytes per entry (e.g. 4096 or 4KiB)")->capture_default_str();
  buffer->add_option("--rounds", b->rounds, "Rounds; the median is reported")->capture_default_str()->check(CLI::Range(1u, 1000u));
  buffer->add_flag("--json", b->json, "Print the result as JSON");
  buffer->callback([&action, b] { action = [b] { return run_bench_buffer(*b); }; });
}

}  // namespace aiops::cli
