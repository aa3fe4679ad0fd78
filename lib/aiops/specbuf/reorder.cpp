#include "aiops/specbuf/reorder.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>

#include "aiops/store/extent_map.hpp"

namespace aiops::specbuf {

std::vector<std::vector<size_t>> precedence(std::span<const ReorderEntry> entries) {
  const size_t n = entries.size();
  std::vector<size_t> by_ack(n);
  std::iota(by_ack.begin(), by_ack.end(), size_t{0});
  std::sort(by_ack.begin(), by_ack.end(),
            [&](size_t a, size_t b) { return entries[a].ack_order < entries[b].ack_order; });

  std::vector<std::vector<size_t>> before(n);
  std::map<uint32_t, size_t> last_of_client;
  // The last writer of every byte range of each volume, as entries are
  // taken in acknowledgement order. The read path's extent map does this
  // bookkeeping already; its `segment` field carries the entry index here
  // and its `sequence` the rank in acknowledgement order.
  std::map<uint32_t, store::ExtentMap> last_writer;
  uint64_t rank = 0;
  for (size_t i : by_ack) {
    const ReorderEntry& e = entries[i];
    auto& preds = before[i];
    if (auto it = last_of_client.find(e.client); it != last_of_client.end()) preds.push_back(it->second);
    last_of_client[e.client] = i;
    if (e.length == 0) continue;
    store::ExtentMap& map = last_writer[e.volume];
    for (const store::Piece& p : map.lookup(e.offset, e.length)) preds.push_back(static_cast<size_t>(p.source.segment));
    map.insert(e.offset, e.length, {++rank, i, 0});
    std::sort(preds.begin(), preds.end());
    preds.erase(std::unique(preds.begin(), preds.end()), preds.end());
  }
  return before;
}

std::vector<size_t> reorder(std::span<const ReorderEntry> entries) {
  const size_t n = entries.size();
  const auto before = precedence(entries);
  std::vector<std::vector<size_t>> after(n);
  std::vector<size_t> waiting(n);
  for (size_t i = 0; i < n; ++i) {
    waiting[i] = before[i].size();
    for (size_t p : before[i]) after[p].push_back(i);
  }
  // The top of the heap is the ready entry with the highest priority, then
  // the earliest acknowledgement.
  auto lower = [&](size_t a, size_t b) {
    if (entries[a].priority != entries[b].priority) return entries[a].priority < entries[b].priority;
    return entries[a].ack_order > entries[b].ack_order;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(lower)> ready(lower);
  for (size_t i = 0; i < n; ++i)
    if (waiting[i] == 0) ready.push(i);
  std::vector<size_t> order;
  order.reserve(n);
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t next : after[i])
      if (--waiting[next] == 0) ready.push(next);
  }
  // Edges only point from earlier to later acknowledgements, so the graph
  // has no cycle and every entry is taken.
  return order;
}

}  // namespace aiops::specbuf
