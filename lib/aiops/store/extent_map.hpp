#pragma once
// Which log record holds the newest acknowledged bytes of each part of one
// volume — the read path's index of records not yet applied to the volume
// image.
//
// The map is a set of non-overlapping pieces, each a byte range of the
// volume and where its bytes are in the log (segment, offset in the segment
// file). Inserting a record's extent replaces whatever older pieces it
// covers (trimming or splitting them); bytes no piece covers are read from
// the volume image. Pruning drops the pieces of records that a checkpoint
// has applied to the image.
//
// Invariant: pieces do not overlap, are non-empty, and each keeps the
// sequence number of the record it came from; a piece is only ever replaced
// by a record with a higher sequence number (inserting an older record over
// a newer piece leaves the newer bytes in place).
//
// Thread-safety: none; the block store guards it.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace aiops::store {

struct LogLocation {
  uint64_t sequence = 0;
  uint64_t segment = 0;
  uint64_t file_offset = 0;  // where the piece's first byte is in the segment file

  friend bool operator==(const LogLocation&, const LogLocation&) = default;
};

struct Piece {
  uint64_t offset = 0;  // in the volume
  uint64_t length = 0;
  LogLocation source;

  friend bool operator==(const Piece&, const Piece&) = default;
};

class ExtentMap {
 public:
  /// Records that [offset, offset+length) of the volume now holds the bytes
  /// of the record at `source` (source.file_offset is where the record's
  /// payload starts).
  void insert(uint64_t offset, uint64_t length, const LogLocation& source);
  /// The pieces overlapping [offset, offset+length), clipped to it, in
  /// offset order; gaps between them are bytes the volume image holds.
  [[nodiscard]] std::vector<Piece> lookup(uint64_t offset, uint64_t length) const;
  /// Drops every piece whose record has a sequence <= `sequence`.
  void prune_through(uint64_t sequence);
  /// The same for at most `most` pieces, from the piece that starts at or
  /// after volume offset `from`: where to go on, or nothing when the end is
  /// reached. Lets the caller prune a large map in steps, releasing its
  /// lock in between.
  [[nodiscard]] std::optional<uint64_t> prune_through(uint64_t sequence, uint64_t from, size_t most);

  [[nodiscard]] size_t pieces() const { return pieces_.size(); }
  [[nodiscard]] uint64_t bytes() const { return bytes_; }

 private:
  struct Entry {
    uint64_t end;
    LogLocation source;
  };
  // Cuts the piece that starts at `it` so that it ends at `at`; returns the
  // iterator of the remainder [at, end), which it inserts.
  std::map<uint64_t, Entry>::iterator split(std::map<uint64_t, Entry>::iterator it, uint64_t at);

  std::map<uint64_t, Entry> pieces_;  // start -> piece
  uint64_t bytes_ = 0;
};

}  // namespace aiops::store
