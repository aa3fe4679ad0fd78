#include "aiops/sched/retry_policy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace aiops::sched {

namespace {

constexpr double max_cap_ms = std::numeric_limits<uint32_t>::max();

double clamp_unit(double x, double if_nan) {
  if (std::isnan(x)) return if_nan;
  return std::clamp(x, 0.0, 1.0);
}

double raw_delay(const ClientDelay& c) {
  const ClientDelay defaults;
  const double base = std::isnan(c.base_ms) ? defaults.base_ms : std::max(1.0, c.base_ms);
  return base * (1 + 3 * clamp_unit(c.position, defaults.position));
}

RetryPolicyOptions sanitized(RetryPolicyOptions o) {
  const RetryPolicyOptions defaults;
  o.jitter = std::isnan(o.jitter) ? defaults.jitter : std::max(0.0, o.jitter);
  // A whole number of milliseconds, so that rounding a delay below the cap
  // can never take it above the cap.
  o.max_delay_ms =
      std::isnan(o.max_delay_ms) ? defaults.max_delay_ms : std::clamp(std::floor(o.max_delay_ms), 1.0, max_cap_ms);
  o.budget_penalty = std::isnan(o.budget_penalty) ? defaults.budget_penalty : std::max(1.0, o.budget_penalty);
  return o;
}

// Rounds a delay to whole milliseconds within [1, cap]. `ms` is at least 1
// wherever it comes from here; anything not below the cap, including an
// infinite or NaN product of extreme options, is the cap.
uint32_t whole_ms(double ms, double cap) {
  if (!(ms < cap)) return static_cast<uint32_t>(cap);
  return static_cast<uint32_t>(std::max(1.0, std::round(ms)));
}

}  // namespace

RetryPolicy::RetryPolicy(RetryPolicyOptions options)
    : options_(sanitized(options)), unknown_envelope_(raw_delay(ClientDelay{})) {}

void RetryPolicy::set_clients(std::span<const ClientDelay> clients) {
  std::unordered_map<uint32_t, size_t> last;
  for (size_t i = 0; i < clients.size(); ++i) last[clients[i].client] = i;

  struct Point {
    double position;
    double raw;
    uint32_t client;
  };
  std::vector<Point> points;
  points.reserve(last.size());
  for (size_t i = 0; i < clients.size(); ++i) {
    const ClientDelay& c = clients[i];
    if (last[c.client] == i) points.push_back({clamp_unit(c.position, ClientDelay{}.position), raw_delay(c), c.client});
  }
  std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.position < b.position; });

  // One sweep in priority order. Clients at the same position form one group
  // and all get the maximum over the group too, since "position_j <=
  // position_i" includes each other.
  envelope_.clear();
  double running = 0;
  for (size_t i = 0; i < points.size();) {
    size_t end = i;
    for (; end < points.size() && points[end].position == points[i].position; ++end)
      running = std::max(running, points[end].raw);
    for (; i < end; ++i) envelope_[points[i].client] = running;
  }
  unknown_envelope_ = points.empty() ? raw_delay(ClientDelay{}) : running;
}

uint32_t RetryPolicy::delay_ms(uint32_t client, double load, double u) const {
  const auto it = envelope_.find(client);
  const double e = it == envelope_.end() ? unknown_envelope_ : it->second;
  const double l = clamp_unit(load, 1.0);
  const double v = clamp_unit(u, 0.0);
  // Skipping the product at u = 0 keeps an infinite jitter from making
  // 0 * inf = NaN there.
  const double jitter = v > 0 ? 1 + options_.jitter * v : 1.0;
  // Every factor is a nondecreasing function of its input and positive, and
  // floating-point multiplication and rounding are monotone, so the order
  // of e and of the load carries over to the result exactly.
  return whole_ms(e * (1 + 9 * l) * jitter, options_.max_delay_ms);
}

uint32_t RetryPolicy::budget_delay_ms(uint32_t client, double load, double u) const {
  return whole_ms(options_.budget_penalty * delay_ms(client, load, u), options_.max_delay_ms);
}

const RetryPolicyOptions& RetryPolicy::options() const { return options_; }

}  // namespace aiops::sched
