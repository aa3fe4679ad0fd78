#pragma once
// Checkpointing: apply durable log records to the volume images, record how
// far (CHECKPOINT), and remove the segments that are no longer needed, so
// the log does not grow without bound.
//
// Order, and why it is crash-safe:
//  1. sync the log, and apply only records up to that barrier — a record
//     that could still vanish in a power cut must never be marked applied,
//     or its sequence number could be handed out again; and a record whose
//     acknowledgement is still being processed (the read index has not seen
//     it yet) must not be retired under the index's feet;
//  2. write the records to the volumes, in sequence order (a later write to
//     the same bytes wins, as it did when it was acknowledged);
//  3. fdatasync the volumes;
//  4. replace CHECKPOINT (atomic, synced);
//  5. tell the caller (`before_retire`), who drops its references to the
//     applied records — the read path's index — and then
//  6. retire the segments whose records are all applied (they are recycled).
// A crash anywhere repeats at most steps 2-5 on the next run; writing the
// same record twice leaves the same bytes.
//
// Thread-safety: run one checkpoint at a time per log (the caller serialises);
// appends may go on concurrently.

#include <cstdint>
#include <functional>
#include <span>

#include "aiops/core/error.hpp"
#include "aiops/wal/log.hpp"

namespace aiops::wal {

/// Where checkpointed records go (implemented by volume::VolumeSet).
class VolumeWriter {
 public:
  /// Errc::not_found for an unknown volume id, Errc::invalid_argument for an
  /// extent outside the volume.
  [[nodiscard]] virtual Status write(uint32_t volume, uint64_t offset, std::span<const std::byte> data) = 0;
  /// Makes every write so far durable.
  [[nodiscard]] virtual Status sync() = 0;

 protected:
  ~VolumeWriter() = default;
};

struct CheckpointResult {
  uint64_t applied_through = 0;  // CHECKPOINT after this run
  uint64_t records = 0;          // applied by this run
  uint64_t payload_bytes = 0;
  uint64_t segments_removed = 0;
};

/// Called with the new applied_through once it is durable and before any
/// segment is retired.
using BeforeRetire = std::function<void(uint64_t applied_through)>;

[[nodiscard]] Result<CheckpointResult> checkpoint(Log& log, VolumeWriter& volumes, const BeforeRetire& before_retire = {});

}  // namespace aiops::wal
