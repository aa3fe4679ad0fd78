// `aiops log verify DIR` and `aiops log dump DIR`: read a log directory
// without changing it.

#include <cstdio>
#include <iostream>
#include <memory>

#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/core/checksum.hpp"
#include "aiops/wal/checkpoint_file.hpp"
#include "aiops/wal/log_scan.hpp"

namespace aiops::cli {
namespace {

struct LogOptions {
  std::string dir;
  bool json = false;
};

// DIR may be the log directory itself or a data directory that holds log/.
std::filesystem::path resolve_log_dir(const std::string& given) {
  io::FileSystem& fs = io::posix_file_system();
  std::filesystem::path dir(given);
  if (!need(fs.exists(dir))) throw CommandFailed(Error(Errc::not_found, given + ": no such directory"));
  auto segments = need(wal::list_segments(fs, dir));
  if (segments.empty() && need(fs.exists(dir / "log"))) {
    dir /= "log";
    segments = need(wal::list_segments(fs, dir));
  }
  if (segments.empty() && !need(fs.exists(dir / wal::checkpoint_file_name)))
    throw CommandFailed(Error(Errc::invalid_input, given + ": no log segments (*.wal) here or in " + given + "/log"));
  return dir;
}

// A live owner may be in the middle of a write to the newest segment.
void note_if_in_use(const std::filesystem::path& dir) {
  io::FileSystem& fs = io::posix_file_system();
  if (!need(fs.exists(dir / "LOCK"))) return;
  auto lock = fs.lock(dir / "LOCK");
  if (!lock.ok() && lock.error().code() == Errc::busy)
    std::cerr << "aiops: note: a running process owns " << dir.string()
              << "; the newest segment may end in a write that is still in progress\n";
}

nlohmann::json finding_json(const wal::Finding& f) {
  return {{"segment", f.segment.filename().string()}, {"segment_index", f.segment_index}, {"offset", f.offset},
          {"kind", std::string(wal::finding_kind_name(f.kind))}, {"reason", f.reason}};
}

nlohmann::json segments_json(const wal::LogScan& scan) {
  nlohmann::json segs = nlohmann::json::array();
  for (const auto& s : scan.segments) {
    nlohmann::json j = {{"index", s.index}, {"file", s.path.filename().string()}, {"records", s.records},
                        {"bytes", s.file_bytes}};
    if (s.header_ok) j["first_sequence"] = s.first_sequence;
    segs.push_back(std::move(j));
  }
  return segs;
}

uint64_t first_sequence(const wal::LogScan& scan) {
  for (const auto& s : scan.segments)
    if (s.header_ok) return s.first_sequence;
  return scan.next_sequence;
}

int run_verify(const LogOptions& opt) {
  std::filesystem::path dir = resolve_log_dir(opt.dir);
  note_if_in_use(dir);
  wal::LogScan scan = need(wal::scan_log(io::posix_file_system(), dir, {.keep_going = true, .visit = {}}));
  const bool clean = scan.findings.empty();
  if (opt.json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : scan.findings) findings.push_back(finding_json(f));
    print_json({{"ok", clean},
                {"dir", dir.string()},
                {"applied_through", scan.applied_through},
                {"records", scan.records},
                {"first_sequence", first_sequence(scan)},
                {"last_sequence", scan.next_sequence - 1},
                {"segments", segments_json(scan)},
                {"findings", std::move(findings)}});
    return clean ? exit_ok : exit_check_failed;
  }
  std::cout << "log " << dir.string() << ": " << scan.segments.size() << " segments, " << scan.records
            << " records, sequences " << first_sequence(scan) << ".." << scan.next_sequence - 1
            << ", applied through " << scan.applied_through << "\n";
  if (clean) {
    std::cout << "clean\n";
    return exit_ok;
  }
  std::cout << scan.findings.size() << (scan.findings.size() == 1 ? " finding:\n" : " findings:\n");
  for (const auto& f : scan.findings) {
    char kind[16];
    std::snprintf(kind, sizeof kind, "%-10s", std::string(wal::finding_kind_name(f.kind)).c_str());
    std::cout << "  " << kind << f.segment.filename().string() << " at byte " << f.offset << ": " << f.reason
              << "\n";
  }
  if (scan.corrupt())
    std::cout << "corruption: a worker refuses to open this log until it is salvaged\n";
  else
    std::cout << "torn tail only: what a crash leaves behind; opening the log drops it\n";
  return exit_check_failed;
}

nlohmann::json record_json(const wal::ScannedRecord& r) {
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(checksum64(r.payload)));
  return {{"sequence", r.header.sequence}, {"segment", r.segment_index}, {"file_offset", r.file_offset},
          {"client", r.header.client},     {"volume", r.header.volume},  {"offset", r.header.offset},
          {"length", r.header.length},     {"fua", r.header.fua()},
          {"marker", r.header.marker()},   {"payload_xxh3", hash}};
}

int run_dump(const LogOptions& opt) {
  std::filesystem::path dir = resolve_log_dir(opt.dir);
  note_if_in_use(dir);
  bool first = true;
  wal::LogScanOptions so{.keep_going = true, .visit = {}};
  if (opt.json) {
    // Records are streamed: a log can hold millions of them.
    std::cout << "{\n\"records\": [";
    so.visit = [&](const wal::ScannedRecord& r) {
      std::cout << (first ? "\n  " : ",\n  ") << record_json(r).dump();
      first = false;
    };
  } else {
    so.visit = [&](const wal::ScannedRecord& r) {
      std::cout << "seq " << r.header.sequence << "  segment " << r.segment_index << " @" << r.file_offset;
      if (r.header.marker()) {
        std::cout << "  marker (everything before it was synced)\n";
        return;
      }
      std::cout << "  client " << r.header.client << "  volume " << r.header.volume << "  offset " << r.header.offset
                << "  length " << r.header.length << (r.header.fua() ? "  fua" : "") << "\n";
    };
  }
  wal::LogScan scan = need(wal::scan_log(io::posix_file_system(), dir, so));
  if (opt.json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : scan.findings) findings.push_back(finding_json(f));
    std::cout << "\n],\n\"dir\": " << nlohmann::json(dir.string()).dump()
              << ",\n\"applied_through\": " << scan.applied_through
              << ",\n\"segments\": " << segments_json(scan).dump() << ",\n\"findings\": " << findings.dump()
              << "\n}\n";
  } else {
    for (const auto& f : scan.findings) std::cout << "finding: " << wal::describe(f) << "\n";
  }
  return scan.findings.empty() ? exit_ok : exit_check_failed;
}

}  // namespace

void add_log_commands(CLI::App& app, Action& action) {
  CLI::App* log = app.add_subcommand("log", "Inspect the primary write log of a data directory");
  log->require_subcommand(1);

  auto verify_opt = std::make_shared<LogOptions>();
  CLI::App* verify = log->add_subcommand(
      "verify", "Check every segment and record; exit 1 and list each finding (segment, byte offset, "
                "torn-tail or corrupt) when the log is damaged");
  verify->add_option("DIR", verify_opt->dir, "Log directory, or a data directory that holds log/")->required();
  verify->add_flag("--json", verify_opt->json, "Print the result as JSON");
  verify->callback([&action, verify_opt] { action = [verify_opt] { return run_verify(*verify_opt); }; });

  auto dump_opt = std::make_shared<LogOptions>();
  CLI::App* dump = log->add_subcommand("dump", "Print every valid record (sequence, client, volume, extent, flags)");
  dump->add_option("DIR", dump_opt->dir, "Log directory, or a data directory that holds log/")->required();
  dump->add_flag("--json", dump_opt->json, "Print the records as JSON");
  dump->callback([&action, dump_opt] { action = [dump_opt] { return run_dump(*dump_opt); }; });
}

}  // namespace aiops::cli
