#include "aiops/load/window_report.hpp"

#include <algorithm>
#include <map>

namespace aiops::load {

std::vector<WindowStats> window_report(const LoadResult& r, const std::vector<Window>& windows) {
  std::map<std::string, std::vector<WindowStats>> rows;  // by class
  std::map<std::string, std::vector<std::vector<uint32_t>>> latencies;
  for (const auto& sla : r.client_classes) {
    if (rows.count(sla) != 0) continue;
    auto& row = rows[sla];
    for (const auto& w : windows) row.push_back({sla, w.name, w.end - w.begin});
    latencies[sla].resize(windows.size());
  }
  std::vector<double> last_ok(r.client_classes.size(), -1);
  for (const LoadEvent& e : r.events) {
    if (e.client >= r.client_classes.size()) continue;
    const std::string& sla = r.client_classes[e.client];
    auto& row = rows[sla];
    for (size_t i = 0; i < windows.size(); ++i) {
      const Window& w = windows[i];
      if (e.kind == LoadEvent::ok && last_ok[e.client] >= 0 && last_ok[e.client] < w.end && e.t > w.begin)
        row[i].max_stall_ms = std::max(row[i].max_stall_ms, (e.t - last_ok[e.client]) * 1000);
      if (e.t < w.begin || e.t >= w.end) continue;
      switch (e.kind) {
        case LoadEvent::ok:
          ++row[i].ok;
          latencies[sla][i].push_back(e.latency_us);
          break;
        case LoadEvent::error: ++row[i].errors; break;
        case LoadEvent::disconnect: ++row[i].disconnects; break;
        case LoadEvent::refused: ++row[i].refused; break;
      }
    }
    if (e.kind == LoadEvent::ok) last_ok[e.client] = e.t;
  }
  std::vector<WindowStats> out;
  for (auto& [sla, row] : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      auto& l = latencies[sla][i];
      WindowStats& s = row[i];
      s.ops_per_s = s.seconds > 0 ? static_cast<double>(s.ok) / s.seconds : 0;
      if (!l.empty()) {
        const size_t k = std::min(l.size() - 1, static_cast<size_t>(static_cast<double>(l.size()) * 0.99));
        std::nth_element(l.begin(), l.begin() + static_cast<ptrdiff_t>(k), l.end());
        s.p99_ms = l[k] / 1000.0;
        s.max_ms = *std::max_element(l.begin(), l.end()) / 1000.0;
      }
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace aiops::load
