#include "aiops/specbuf/inspect.hpp"

#include <map>

#include "aiops/phase/engine.hpp"

namespace aiops::specbuf {

nlohmann::json inspect(const Segment& segment, const config::Config& config) {
  const auto& h = segment.header();
  const uint64_t tail = h.tail_seq.load(std::memory_order_acquire);
  const uint64_t head = h.head_seq.load(std::memory_order_acquire);
  std::map<EntryState, uint64_t> by_state;
  struct PerClient {
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };
  std::map<uint32_t, PerClient> by_client;
  uint64_t oldest_ns = 0;
  for (uint64_t s = tail; s < head; ++s) {
    const EntryRecord& e = segment.slot(s);
    const EntryState state = e.load_state();
    if (e.seq != s || state == EntryState::free) continue;  // discarded, or freed under our feet
    ++by_state[state];
    auto& c = by_client[e.client];
    ++c.entries;
    c.bytes += e.length;
    if (oldest_ns == 0 || e.created_ns < oldest_ns) oldest_ns = e.created_ns;
  }
  nlohmann::json clients = nlohmann::json::array();
  for (const auto& [id, c] : by_client) {
    const auto* cfg = config.find_client(id);
    clients.push_back({{"client", cfg != nullptr ? cfg->name : "#" + std::to_string(id)},
                       {"id", id},
                       {"entries", c.entries},
                       {"bytes", c.bytes}});
  }
  const Occupancy o = segment.occupancy();
  nlohmann::json doc = phase::phase_summary(segment);
  doc["segment"] = "/dev/shm/" + segment.name();
  doc["generation"] = h.generation.load();
  doc["entries"] = {{"writing", by_state[EntryState::writing]}, {"pending", by_state[EntryState::pending]},
                    {"valid", by_state[EntryState::valid]},     {"rejected", by_state[EntryState::rejected]},
                    {"applied", by_state[EntryState::applied]}, {"live", o.entries},
                    {"capacity", h.max_entries}};
  doc["bytes_used"] = o.bytes;
  doc["bytes_free"] = h.arena_bytes - std::min(o.bytes, h.arena_bytes);
  const uint64_t now = wall_clock_ns();
  doc["oldest_entry_age_s"] =
      oldest_ns == 0 ? nlohmann::json(nullptr) : nlohmann::json(static_cast<double>(now > oldest_ns ? now - oldest_ns : 0) / 1e9);
  doc["clients"] = clients;
  doc["totals"] = entry_totals(segment);
  doc["totals"]["refused_full"] = h.refused_full.load();
  return doc;
}

nlohmann::json entry_totals(const Segment& segment) {
  const auto& h = segment.header();
  return {{"accepted", h.accepted.load()}, {"valid", h.validated.load()}, {"rejected", h.rejected.load()},
          {"applied", h.applied.load()}, {"discarded", h.discarded.load()}};
}

}  // namespace aiops::specbuf
