#include "aiops/store/extent_map.hpp"

#include <algorithm>
#include <iterator>

namespace aiops::store {

std::map<uint64_t, ExtentMap::Entry>::iterator ExtentMap::split(std::map<uint64_t, Entry>::iterator it,
                                                                uint64_t at) {
  Entry tail = it->second;
  tail.source.file_offset += at - it->first;
  it->second.end = at;
  return pieces_.emplace_hint(std::next(it), at, tail);
}

void ExtentMap::insert(uint64_t offset, uint64_t length, const LogLocation& source) {
  if (length == 0) return;
  const uint64_t end = offset + length;
  // Block-sized writes mostly land on exactly one older piece, or on none:
  // one walk of the tree does for them.
  auto it = pieces_.lower_bound(offset);
  if (it != pieces_.end() && it->first == offset && it->second.end == end) {
    if (it->second.source.sequence < source.sequence) it->second.source = source;
    return;
  }
  if ((it == pieces_.end() || it->first >= end) && (it == pieces_.begin() || std::prev(it)->second.end <= offset)) {
    pieces_.emplace_hint(it, offset, Entry{end, source});
    bytes_ += length;
    return;
  }
  // Split the pieces that straddle the new range's edges, so every piece is
  // either wholly inside [offset, end) or wholly outside.
  it = pieces_.upper_bound(offset);
  if (it != pieces_.begin()) {
    auto prev = std::prev(it);
    if (prev->first < offset && prev->second.end > offset) split(prev, offset);
  }
  it = pieces_.lower_bound(end);
  if (it != pieces_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > end) split(prev, end);
  }
  // Replace what is inside, except pieces of newer records, which stay.
  uint64_t cursor = offset;
  it = pieces_.lower_bound(offset);
  std::vector<std::pair<uint64_t, uint64_t>> gaps;  // parts of the new range to fill
  while (it != pieces_.end() && it->first < end) {
    if (it->first > cursor) gaps.emplace_back(cursor, it->first);
    cursor = it->second.end;
    if (it->second.source.sequence < source.sequence) {
      gaps.emplace_back(it->first, it->second.end);
      bytes_ -= it->second.end - it->first;
      it = pieces_.erase(it);
    } else {
      ++it;
    }
  }
  if (cursor < end) gaps.emplace_back(cursor, end);
  for (auto [from, to] : gaps) {
    LogLocation at = source;
    at.file_offset += from - offset;
    pieces_.emplace(from, Entry{to, at});
    bytes_ += to - from;
  }
}

std::vector<Piece> ExtentMap::lookup(uint64_t offset, uint64_t length) const {
  std::vector<Piece> out;
  const uint64_t end = offset + length;
  auto it = pieces_.upper_bound(offset);
  if (it != pieces_.begin() && std::prev(it)->second.end > offset) --it;
  for (; it != pieces_.end() && it->first < end; ++it) {
    uint64_t from = std::max(offset, it->first);
    uint64_t to = std::min(end, it->second.end);
    LogLocation at = it->second.source;
    at.file_offset += from - it->first;
    out.push_back({from, to - from, at});
  }
  return out;
}

void ExtentMap::prune_through(uint64_t sequence) {
  std::optional<uint64_t> from = 0;
  while (from) from = prune_through(sequence, *from, SIZE_MAX);
}

std::optional<uint64_t> ExtentMap::prune_through(uint64_t sequence, uint64_t from, size_t most) {
  auto it = pieces_.lower_bound(from);
  for (size_t seen = 0; it != pieces_.end(); ++seen) {
    if (seen == most) return it->first;
    if (it->second.source.sequence <= sequence) {
      bytes_ -= it->second.end - it->first;
      it = pieces_.erase(it);
    } else {
      ++it;
    }
  }
  return std::nullopt;
}

}  // namespace aiops::store
