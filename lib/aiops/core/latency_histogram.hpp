#pragma once
// A log-linear histogram of latencies (nanoseconds) with bounded memory:
// exact below 64 ns, then 64 buckets per power of two, so any percentile is
// reported within 1/64 (1.6%) of the true value. Used by the benchmarks and
// the load generator to report p50/p99/p999/max without keeping samples.
//
// Thread-safety: none; keep one per thread and merge().

#include <cstdint>
#include <vector>

namespace aiops {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void record(uint64_t ns) noexcept;
  void merge(const LatencyHistogram& other);

  [[nodiscard]] uint64_t count() const noexcept { return count_; }
  [[nodiscard]] uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  /// The smallest bucket bound b with at least p% of the samples <= b,
  /// never above max(); 0 when empty. p in [0, 100].
  [[nodiscard]] uint64_t percentile(double p) const noexcept;

 private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t max_ = 0;
};

}  // namespace aiops
