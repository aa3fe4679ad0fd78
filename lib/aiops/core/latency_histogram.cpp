#include "aiops/core/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace aiops {
namespace {

constexpr unsigned sub_bits = 6;
constexpr uint64_t sub_count = 1u << sub_bits;  // buckets per power of two
constexpr size_t bucket_count = sub_count + (64 - sub_bits) * sub_count;

size_t bucket_of(uint64_t v) noexcept {
  if (v < sub_count) return static_cast<size_t>(v);
  unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= sub_bits
  uint64_t m = v >> (e - sub_bits);                                // in [64, 128)
  return static_cast<size_t>(sub_count + (e - sub_bits) * sub_count + (m - sub_count));
}

uint64_t upper_bound_of(size_t idx) noexcept {
  if (idx < sub_count) return idx;
  uint64_t e = (idx - sub_count) / sub_count + sub_bits;
  uint64_t m = (idx - sub_count) % sub_count + sub_count;
  unsigned shift = static_cast<unsigned>(e - sub_bits);
  return ((m + 1) << shift) - 1;
}

}  // namespace

LatencyHistogram::LatencyHistogram() : buckets_(bucket_count, 0) {}

void LatencyHistogram::record(uint64_t ns) noexcept {
  ++buckets_[bucket_of(ns)];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < bucket_count; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(upper_bound_of(i), max_);
  }
  return max_;
}

}  // namespace aiops
