#include "aiops/wal/checkpointer.hpp"

#include "aiops/wal/checkpoint_file.hpp"
#include "aiops/wal/segment.hpp"

namespace aiops::wal {

Result<CheckpointResult> checkpoint(Log& log, VolumeWriter& volumes, const BeforeRetire& before_retire) {
  io::FileSystem& fs = log.file_system();
  // Not durable_sequence(): a later round may already be durable whose
  // acknowledgements (and the caller's bookkeeping of them) are still
  // running. Everything up to the barrier is done.
  AIOPS_ASSIGN(const uint64_t target, log.sync());
  AIOPS_ASSIGN(const uint64_t applied, read_checkpoint_file(fs, log.dir()));
  CheckpointResult result;
  result.applied_through = std::max(applied, target);
  if (target > applied) {
    std::optional<Error> failed;
    ScanOptions so;
    so.visit = [&](const ScannedRecord& r) {
      if (failed || r.header.marker() || r.header.sequence <= applied || r.header.sequence > target) return;
      Status s = volumes.write(r.header.volume, r.header.offset, r.payload);
      if (!s.ok()) {
        failed = s.error().with_context("checkpoint of record " + std::to_string(r.header.sequence));
        return;
      }
      ++result.records;
      result.payload_bytes += r.payload.size();
    };
    for (const SegmentState& seg : log.segments()) {
      if (seg.next_sequence - 1 <= applied || seg.first_sequence > target) continue;
      std::filesystem::path path = log.dir() / segment_file_name(seg.index);
      AIOPS_ASSIGN(auto file, fs.open(path, {.read_only = true}));
      so.newest = false;
      so.limit = seg.end_offset;
      AIOPS_ASSIGN(SegmentScan scan, scan_segment(*file, seg.index, so));
      if (failed) return *failed;
      if (!scan.findings.empty())
        return Error(Errc::corrupt, "checkpoint stopped: " + describe(scan.findings.front()));
    }
    AIOPS_TRY(volumes.sync());
    AIOPS_TRY(write_checkpoint_file(fs, log.dir(), target));
  }
  if (before_retire) before_retire(result.applied_through);
  AIOPS_ASSIGN(result.segments_removed, log.remove_segments_through(result.applied_through));
  return result;
}

}  // namespace aiops::wal
