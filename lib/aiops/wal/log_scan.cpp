#include "aiops/wal/log_scan.hpp"

#include <algorithm>

#include "aiops/wal/checkpoint_file.hpp"

namespace aiops::wal {

bool LogScan::corrupt() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.kind == Finding::Kind::corrupt; });
}

const Finding* LogScan::torn_tail() const {
  for (const Finding& f : findings)
    if (f.kind == Finding::Kind::torn_tail) return &f;
  return nullptr;
}

Result<std::vector<uint64_t>> list_segments(io::FileSystem& fs, const std::filesystem::path& dir) {
  AIOPS_ASSIGN(auto names, fs.list(dir));
  std::vector<uint64_t> indices;
  for (const std::string& n : names)
    if (auto idx = parse_segment_file_name(n)) indices.push_back(*idx);
  std::sort(indices.begin(), indices.end());
  return indices;
}

Result<LogScan> scan_log(io::FileSystem& fs, const std::filesystem::path& dir, const LogScanOptions& options) {
  LogScan log;
  AIOPS_ASSIGN(log.applied_through, read_checkpoint_file(fs, dir));
  AIOPS_ASSIGN(auto indices, list_segments(fs, dir));
  log.next_sequence = log.applied_through + 1;
  uint64_t expected = 0;  // 0: take the first segment's word for it
  for (size_t i = 0; i < indices.size(); ++i) {
    std::filesystem::path path = dir / segment_file_name(indices[i]);
    AIOPS_ASSIGN(auto file, fs.open(path, {.read_only = true}));
    ScanOptions so{.newest = i + 1 == indices.size(),
                   .keep_going = options.keep_going,
                   .expected_first = expected,
                   .limit = UINT64_MAX,
                   .visit = options.visit};
    AIOPS_ASSIGN(SegmentScan scan, scan_segment(*file, indices[i], so));
    SegmentSummary s{indices[i],      path,         scan.header.has_value(), scan.header ? scan.header->first_sequence : 0,
                     scan.next_sequence, scan.records, scan.file_bytes,     scan.valid_end,
                     scan.junk_end,   scan.ends_with_marker};
    if (i == 0 && s.header_ok && s.first_sequence > log.applied_through + 1) {
      scan.findings.insert(scan.findings.begin(),
                           {Finding::Kind::corrupt, path, indices[i], 0,
                            "records " + std::to_string(log.applied_through + 1) + " to " +
                                std::to_string(s.first_sequence - 1) +
                                " are missing: CHECKPOINT applied through " + std::to_string(log.applied_through) +
                                " but the oldest segment starts at " + std::to_string(s.first_sequence)});
    }
    log.records += scan.records;
    log.findings.insert(log.findings.end(), scan.findings.begin(), scan.findings.end());
    log.segments.push_back(s);
    if (s.header_ok) log.next_sequence = s.next_sequence;
    expected = s.header_ok ? scan.end_sequence : 0;
    if (log.corrupt() && !options.keep_going) return log;
  }
  if (!log.segments.empty() && log.next_sequence <= log.applied_through) {
    const SegmentSummary& last = log.segments.back();
    log.findings.push_back({Finding::Kind::corrupt, last.path, last.index, last.valid_end,
                            "the log ends at sequence " + std::to_string(log.next_sequence - 1) +
                                " but CHECKPOINT says records up to " + std::to_string(log.applied_through) +
                                " were applied"});
  }
  return log;
}

}  // namespace aiops::wal
