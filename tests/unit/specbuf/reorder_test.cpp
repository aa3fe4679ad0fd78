// The apply order of the speculative buffer, checked against its contract on
// seeded random workloads: the volumes end up as in acknowledgement order,
// each client's entries keep their order, and the highest-priority ready
// entry (ready by the full, unreduced precedence rule) is always next.

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "aiops/specbuf/reorder.hpp"

using aiops::specbuf::ReorderEntry;
using aiops::specbuf::reorder;

namespace {

constexpr uint64_t volume_bytes = 256;

// Entries over two small volumes and a few clients, so extents overlap
// often; the input is shuffled so that its order is not the ack order.
std::vector<ReorderEntry> random_workload(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  std::vector<ReorderEntry> out(n);
  std::vector<uint64_t> acks(n);
  std::iota(acks.begin(), acks.end(), uint64_t{100});
  std::shuffle(acks.begin(), acks.end(), rng);
  const int priorities = 1 + static_cast<int>(rng() % 4);
  for (size_t i = 0; i < n; ++i) {
    ReorderEntry& e = out[i];
    e.ack_order = acks[i];
    e.client = static_cast<uint32_t>(rng() % 5);
    e.volume = static_cast<uint32_t>(1 + rng() % 2);
    e.length = rng() % 10 == 0 ? 0 : 1 + rng() % 64;
    e.offset = rng() % (volume_bytes - e.length + 1);
    // Mostly a priority per client, as in the worker; sometimes per entry.
    e.priority = rng() % 5 == 0 ? static_cast<double>(rng() % priorities) : static_cast<double>(e.client % priorities);
  }
  return out;
}

// Who wrote each byte last, when the entries are applied in `order`.
std::vector<std::vector<long>> apply(const std::vector<ReorderEntry>& entries, const std::vector<size_t>& order) {
  std::vector<std::vector<long>> volumes(3, std::vector<long>(volume_bytes, -1));
  for (size_t i : order)
    for (uint64_t b = 0; b < entries[i].length; ++b) volumes[entries[i].volume][entries[i].offset + b] = static_cast<long>(i);
  return volumes;
}

// The precedence rule as written in the design, pair by pair.
bool must_precede(const ReorderEntry& a, const ReorderEntry& b) {
  if (a.ack_order >= b.ack_order) return false;
  if (a.client == b.client) return true;
  return a.volume == b.volume && a.length > 0 && b.length > 0 && a.offset < b.offset + b.length &&
         b.offset < a.offset + a.length;
}

}  // namespace

TEST_CASE("reorder keeps the volumes, each client's order, and takes the highest-priority ready entry") {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    const size_t n = static_cast<size_t>(seed % 60);
    const auto entries = random_workload(seed, n);
    const auto order = reorder(entries);

    std::vector<size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<size_t> all(n);
    std::iota(all.begin(), all.end(), size_t{0});
    REQUIRE(sorted == all);

    std::vector<size_t> by_ack = all;
    std::sort(by_ack.begin(), by_ack.end(), [&](size_t a, size_t b) { return entries[a].ack_order < entries[b].ack_order; });
    CHECK(apply(entries, order) == apply(entries, by_ack));

    std::vector<size_t> position(n);
    for (size_t k = 0; k < n; ++k) position[order[k]] = k;
    for (size_t a = 0; a < n; ++a)
      for (size_t b = 0; b < n; ++b)
        if (must_precede(entries[a], entries[b])) REQUIRE_MESSAGE(position[a] < position[b], a << " before " << b);

    std::vector<bool> applied(n, false);
    for (size_t k = 0; k < n; ++k) {
      long best = -1;
      for (size_t c = 0; c < n; ++c) {
        if (applied[c]) continue;
        bool ready = true;
        for (size_t p = 0; p < n && ready; ++p)
          if (!applied[p] && must_precede(entries[p], entries[c])) ready = false;
        if (!ready) continue;
        if (best < 0 || entries[c].priority > entries[best].priority ||
            (entries[c].priority == entries[best].priority && entries[c].ack_order < entries[best].ack_order))
          best = static_cast<long>(c);
      }
      REQUIRE_MESSAGE(static_cast<long>(order[k]) == best, "step " << k);
      applied[order[k]] = true;
    }
  }
}

TEST_CASE("reorder: without constraints, priority decides; with them, acknowledgement order") {
  // Three clients on disjoint extents: highest priority first.
  std::vector<ReorderEntry> free = {{1, 1, 1, 0, 10, 1.0}, {2, 2, 1, 100, 10, 8.0}, {3, 3, 1, 200, 10, 4.0}};
  CHECK(reorder(free) == std::vector<size_t>{1, 2, 0});
  // The gold client overwrites what the bronze one wrote first: bronze's
  // write must go first, then gold's, even though gold ranks higher.
  std::vector<ReorderEntry> bound = {{1, 1, 1, 0, 10, 1.0}, {2, 2, 1, 5, 10, 8.0}};
  CHECK(reorder(bound) == std::vector<size_t>{0, 1});
  // Same extents on different volumes do not bind.
  std::vector<ReorderEntry> volumes = {{1, 1, 1, 0, 10, 1.0}, {2, 2, 2, 0, 10, 8.0}};
  CHECK(reorder(volumes) == std::vector<size_t>{1, 0});
  CHECK(reorder(std::vector<ReorderEntry>{}).empty());
}
