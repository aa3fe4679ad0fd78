#pragma once
// The apply order of the speculative buffer: which acknowledged entries go
// to the primary log first, by client priority, without changing what the
// volumes end up holding.
//
// Precedence (DESIGN.md, Order): entry a must be applied before entry b when
// a was acknowledged before b and either
//   * both come from the same client (per-client acknowledgement order), or
//   * both write the same volume and their extents overlap.
// Any topological order of that graph leaves every byte of every volume as
// applying in acknowledgement order would, because the writes to each byte
// stay in acknowledgement order.
//
// The graph is built with only the edges that matter, in O(n log n): from
// each entry to the client's next entry, and to each later entry that is the
// next to overwrite some byte of it (the last writer of each piece of b's
// extent at the time b was acknowledged). Every other required edge follows
// from these by transitivity.
//
// Among the entries whose predecessors are all applied ("ready"), the order
// always takes the one with the highest priority; ties go to the earlier
// acknowledgement. So a higher-priority entry is applied after a
// lower-priority one only when a constraint held it back.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace aiops::specbuf {

struct ReorderEntry {
  uint64_t ack_order = 0;  // position in the acknowledgement order; unique
  uint32_t client = 0;
  uint32_t volume = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  double priority = 0;  // higher is applied first
};

/// Indices into `entries` in apply order (a permutation of 0..n-1).
/// Precondition: ack_order values are distinct.
[[nodiscard]] std::vector<size_t> reorder(std::span<const ReorderEntry> entries);

/// The direct predecessors of each entry in the precedence graph that
/// reorder() uses (reduced as described above); for tests and inspection.
[[nodiscard]] std::vector<std::vector<size_t>> precedence(std::span<const ReorderEntry> entries);

}  // namespace aiops::specbuf
