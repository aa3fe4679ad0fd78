#include "aiops/forecast/series.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <string_view>
#include <unordered_map>

#include "aiops/core/units.hpp"

namespace aiops::forecast {

namespace {

using std::chrono::nanoseconds;

constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}

// interval_s as the recorder measures it (timer jitter of a few ms) rounded
// to the configured value it most likely came from: whole seconds when
// within 1%, else milliseconds.
std::int64_t nominal_length(std::int64_t ns) {
  std::int64_t s = (ns + kNsPerSecond / 2) / kNsPerSecond;
  if (s >= 1 && std::llabs(ns - s * kNsPerSecond) * 100 <= s * kNsPerSecond) return s * kNsPerSecond;
  std::int64_t ms = (ns + kNsPerMs / 2) / kNsPerMs;
  return ms > 0 ? ms * kNsPerMs : ns;
}

std::string seconds_text(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1e9);
  return buf;
}

// One client's values from interval `first` on; may have zeros before its
// first and after its last record (growth slack), trimmed when assembled.
struct Row {
  std::int64_t first = 0;
  std::vector<float> ops;
  std::vector<float> bytes;  // empty when the format has no bytes

  // Grows by at least a quarter (amortised O(1) per value) but not by
  // doubling, so the slack stays small next to clients × intervals.
  static std::size_t slack(std::size_t size) { return size / 4 + 64; }

  void add(std::int64_t bucket, double o, double b, bool with_bytes) {
    if (ops.empty()) {
      first = bucket;
      ops.assign(1, 0.0f);
      if (with_bytes) bytes.assign(1, 0.0f);
    } else if (bucket < first) {
      auto need = static_cast<std::size_t>(first - bucket);
      std::size_t grow = std::max(need, slack(ops.size()));
      ops.insert(ops.begin(), grow, 0.0f);
      if (with_bytes) bytes.insert(bytes.begin(), grow, 0.0f);
      first -= static_cast<std::int64_t>(grow);
    } else if (auto at = static_cast<std::size_t>(bucket - first); at >= ops.size()) {
      if (at + 1 > ops.capacity()) {
        std::size_t cap = std::max(at + 1, ops.size() + slack(ops.size()));
        ops.reserve(cap);
        if (with_bytes) bytes.reserve(cap);
      }
      ops.resize(at + 1, 0.0f);
      if (with_bytes) bytes.resize(at + 1, 0.0f);
    }
    auto at = static_cast<std::size_t>(bucket - first);
    ops[at] += static_cast<float>(o);
    if (with_bytes) bytes[at] += static_cast<float>(b);
  }
};

struct ClientState {
  std::string name;
  Row row;
  // The interval being summed in double (see series.hpp).
  bool pending = false;
  std::int64_t pending_bucket = 0;
  double pending_ops = 0;
  double pending_bytes = 0;
  IoMix mix;
  // Requests: where the previous one ended.
  bool has_end = false;
  std::uint64_t end_offset = 0;
  // Series: the previous timestamp while the step is being inferred.
  bool has_last = false;
  std::int64_t last_time = 0;
};

// A record held back until the trace's step is known.
struct Held {
  std::int64_t time_ns;
  std::int64_t length_ns;
  std::uint64_t line;
  double ops;
  double bytes;
  std::uint32_t client;
  std::uint32_t file_index;
  std::uint32_t length_column;
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class Aggregator {
 public:
  Aggregator(const TraceReader& reader, std::string trace, nanoseconds interval)
      : reader_(reader),
        trace_(std::move(trace)),
        interval_(interval.count()),
        has_bytes_(reader.format() != TraceFormat::series),
        needs_step_(reader.format() == TraceFormat::worker || reader.format() == TraceFormat::series) {}

  Status add(const TraceRecord& r) {
    ++records_;
    AIOPS_ASSIGN(std::uint32_t id, intern(r.client));
    ClientState& c = clients_[id];
    if (r.mix.known) {
      IoMix m = r.mix;
      if (reader_.format() == TraceFormat::native || reader_.format() == TraceFormat::msr) {
        if (c.has_end && r.offset == c.end_offset) m.sequential = 1;
        c.has_end = true;
        c.end_offset = r.offset + m.bytes();
      }
      c.mix += m;
    }
    if (needs_step_ && !step_known_) {
      if (reader_.format() == TraceFormat::series) {
        if (c.has_last && r.time_ns != c.last_time) {
          std::int64_t gap = r.time_ns > c.last_time ? r.time_ns - c.last_time : c.last_time - r.time_ns;
          if (series_gap_ == 0 || gap < series_gap_) series_gap_ = gap;
        }
        c.has_last = true;
        c.last_time = r.time_ns;
      } else {
        ++lengths_[nominal_length(r.length_ns)];
      }
      held_.push_back(Held{r.time_ns, r.length_ns, r.line, r.ops, r.bytes, id, r.file_index, r.length_column});
      if (held_.size() >= kStepSampleLines) return settle_step();
      return {};
    }
    return place(id, r.time_ns, r.length_ns, r.ops, r.bytes, r.file_index, r.line, r.length_column);
  }

  Result<SeriesSet> finish() {
    if (records_ == 0) return Error(Errc::invalid_input, trace_ + ": no records");
    if (needs_step_ && !step_known_) AIOPS_TRY(settle_step());
    for (auto& c : clients_) flush(c);
    std::int64_t span = 0;
    AIOPS_TRY(check_size(0, 0, span));
    SeriesSet set;
    set.format = reader_.format();
    set.interval = nanoseconds(interval_);
    std::int64_t start_ns = 0;
    if (__builtin_mul_overflow(min_bucket_, interval_, &start_ns))
      return Error(Errc::invalid_input, trace_ + ": the first interval starts before 1678");
    set.start = std::chrono::sys_time<nanoseconds>(nanoseconds(start_ns));
    set.length = static_cast<std::size_t>(span);
    set.has_bytes = has_bytes_;
    set.records = records_;
    std::vector<std::uint32_t> order(clients_.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(),
              [&](std::uint32_t a, std::uint32_t b) { return clients_[a].name < clients_[b].name; });
    set.clients.reserve(order.size());
    for (std::uint32_t id : order) {
      ClientState& c = clients_[id];
      ClientSeries s;
      s.name = std::move(c.name);
      s.mix = c.mix;
      s.ops = dense(c.row.ops, c.row.first, set.length);
      if (has_bytes_) s.bytes = dense(c.row.bytes, c.row.first, set.length);
      c.row = Row{};
      set.clients.push_back(std::move(s));
    }
    return set;
  }

 private:
  Result<std::uint32_t> intern(std::string_view name) {
    if (last_id_ < clients_.size() && clients_[last_id_].name == name) return last_id_;
    auto it = ids_.find(name);
    if (it == ids_.end()) {
      if (clients_.size() >= std::numeric_limits<std::uint32_t>::max())
        return Error(Errc::invalid_input, trace_ + ": more than 2^32-1 clients");
      it = ids_.emplace(std::string(name), static_cast<std::uint32_t>(clients_.size())).first;
      clients_.push_back(ClientState{});
      clients_.back().name = std::string(name);
    }
    last_id_ = it->second;
    return it->second;
  }

  // Fixes the interval from the trace's step and places the held records.
  Status settle_step() {
    step_known_ = true;
    if (reader_.format() == TraceFormat::worker) {
      std::uint64_t best = 0;
      // Ties go to the longer length: partial intervals are the shorter ones.
      for (const auto& [length, count] : lengths_) {
        if (count >= best) {
          best = count;
          step_ = length;
        }
      }
    } else {
      step_ = series_gap_;
    }
    std::string kind = reader_.format() == TraceFormat::worker ? "worker trace" : "series trace";
    if (interval_ == 0) {
      if (step_ == 0)
        return Error(Errc::invalid_input,
                     trace_ + ": cannot tell the step of the " + kind +
                         ": no client has two points with different timestamps in its first " +
                         std::to_string(kStepSampleLines) + " lines; give --interval");
      interval_ = step_;
    } else if (step_ > 0) {
      if (interval_ < step_)
        return Error(Errc::invalid_input, trace_ + ": --interval " + format_duration(nanoseconds(interval_)) +
                                              " is shorter than the " + kind + "'s own step of " +
                                              format_duration(nanoseconds(step_)) + "; use " +
                                              format_duration(nanoseconds(step_)) + " or a multiple of it");
      if (interval_ % step_ != 0)
        return Error(Errc::invalid_input, trace_ + ": --interval " + format_duration(nanoseconds(interval_)) +
                                              " is not a multiple of the " + kind + "'s own step of " +
                                              format_duration(nanoseconds(step_)));
    }
    std::vector<Held> held = std::move(held_);
    held_ = {};
    lengths_.clear();
    for (const Held& h : held)
      AIOPS_TRY(place(h.client, h.time_ns, h.length_ns, h.ops, h.bytes, h.file_index, h.line, h.length_column));
    return {};
  }

  Status place(std::uint32_t id, std::int64_t time, std::int64_t length, double ops, double bytes,
               std::uint32_t file_index, std::uint64_t line, std::uint32_t length_column) {
    ClientState& c = clients_[id];
    std::int64_t first = floor_div(time, interval_);
    if (reader_.format() != TraceFormat::worker) return add_to(c, first, ops, bytes, file_index, line);
    // Worker line: see series.hpp for the 10% rule.
    if (length * 10 > step_ * 11)
      return trace_line_error(reader_.files()[file_index].string(), line, length_column,
                              "interval_s " + seconds_text(length) + " differs from the trace's step of " +
                                  format_duration(nanoseconds(step_)) +
                                  " (the most common interval_s of its first lines): the worker's trace_interval "
                                  "changed; read the parts recorded with each interval separately");
    if (length * 10 >= step_ * 9) length = step_;
    std::int64_t end = 0;
    if (__builtin_add_overflow(time, length, &end))
      return trace_line_error(reader_.files()[file_index].string(), line, 1, "interval ends after 2262");
    std::int64_t last = floor_div(end - 1, interval_);
    if (last == first) return add_to(c, first, ops, bytes, file_index, line);
    // length <= step <= interval_, so the line overlaps exactly two intervals.
    double share = static_cast<double>((first + 1) * interval_ - time) / static_cast<double>(length);
    AIOPS_TRY(add_to(c, first, ops * share, bytes * share, file_index, line));
    return add_to(c, last, ops * (1 - share), bytes * (1 - share), file_index, line);
  }

  Status add_to(ClientState& c, std::int64_t bucket, double ops, double bytes, std::uint32_t file_index,
                std::uint64_t line) {
    bool grew = false;
    if (!any_bucket_) {
      any_bucket_ = grew = true;
      min_bucket_ = max_bucket_ = bucket;
    } else if (bucket < min_bucket_) {
      min_bucket_ = bucket;
      grew = true;
    } else if (bucket > max_bucket_) {
      max_bucket_ = bucket;
      grew = true;
    }
    if (grew || clients_.size() != checked_clients_) {
      std::int64_t span = 0;
      AIOPS_TRY(check_size(file_index, line, span));
      checked_clients_ = clients_.size();
    }
    if (c.pending && c.pending_bucket == bucket) {
      c.pending_ops += ops;
      c.pending_bytes += bytes;
      return {};
    }
    flush(c);
    c.pending = true;
    c.pending_bucket = bucket;
    c.pending_ops = ops;
    c.pending_bytes = bytes;
    return {};
  }

  void flush(ClientState& c) {
    if (!c.pending) return;
    c.row.add(c.pending_bucket, c.pending_ops, c.pending_bytes, has_bytes_);
    c.pending = false;
  }

  // Refuses a set of more than kMaxSeriesCells values; `line` 0 means the
  // whole trace rather than the line that made it too large.
  Status check_size(std::uint32_t file_index, std::uint64_t line, std::int64_t& span) {
    std::int64_t diff = 0;
    std::uint64_t cells = 0;
    bool overflow = __builtin_sub_overflow(max_bucket_, min_bucket_, &diff) || diff == std::numeric_limits<std::int64_t>::max();
    if (!overflow) {
      span = diff + 1;
      overflow = __builtin_mul_overflow(static_cast<std::uint64_t>(span), static_cast<std::uint64_t>(clients_.size()), &cells);
    }
    if (!overflow && cells <= kMaxSeriesCells) return {};
    std::string where = line == 0 ? trace_ : reader_.files()[file_index].string() + ":" + std::to_string(line);
    std::string intervals = overflow ? "more than 2^63" : std::to_string(span);
    return Error(Errc::invalid_input,
                 where + ": the trace spans " + intervals + " intervals of " + format_duration(nanoseconds(interval_)) +
                     " for " + std::to_string(clients_.size()) + (clients_.size() == 1 ? " client" : " clients") +
                     ", more than " +
                     std::to_string(kMaxSeriesCells) + " values; use a longer --interval");
  }

  // The row's values over [min_bucket_, min_bucket_ + length), zeros where it has none.
  std::vector<float> dense(std::vector<float>& values, std::int64_t first, std::size_t length) const {
    auto offset = first - min_bucket_;  // where values[0] goes; may be negative (slack)
    if (offset == 0 && values.size() == length) {
      values.shrink_to_fit();
      return std::move(values);
    }
    std::vector<float> out(length, 0.0f);
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::int64_t at = offset + static_cast<std::int64_t>(i);
      if (at >= 0 && static_cast<std::size_t>(at) < length) out[static_cast<std::size_t>(at)] = values[i];
    }
    std::vector<float>().swap(values);
    return out;
  }

  const TraceReader& reader_;
  std::string trace_;
  std::int64_t interval_;  // ns; 0 until the step is known when it is the trace's own
  bool has_bytes_;
  bool needs_step_;
  bool step_known_ = false;
  std::int64_t step_ = 0;
  std::int64_t series_gap_ = 0;
  std::map<std::int64_t, std::uint64_t> lengths_;  // worker: nominal interval_s -> lines
  std::vector<Held> held_;
  std::vector<ClientState> clients_;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> ids_;
  std::uint32_t last_id_ = std::numeric_limits<std::uint32_t>::max();
  std::uint64_t records_ = 0;
  bool any_bucket_ = false;
  std::int64_t min_bucket_ = 0;
  std::int64_t max_bucket_ = 0;
  std::size_t checked_clients_ = 0;
};

}  // namespace

Result<SeriesSet> read_trace(const std::filesystem::path& path, TraceFormat format, std::chrono::nanoseconds interval,
                             const ReadProgress& progress) {
  if (interval.count() < 0)
    return Error(Errc::invalid_argument, "negative interval " + format_duration(interval) + " for trace " + path.string());
  AIOPS_ASSIGN(TraceReader reader, TraceReader::open(path, format));
  if (interval.count() == 0 && (reader.format() == TraceFormat::native || reader.format() == TraceFormat::msr))
    return Error(Errc::invalid_input, path.string() + ": a " + std::string(to_string(reader.format())) +
                                          " trace has one line per request and no step of its own; it needs "
                                          "--interval (e.g. --interval 1m)");
  Aggregator aggregator(reader, path.string(), interval);
  AIOPS_TRY(reader.read([&](const TraceRecord& r) { return aggregator.add(r); }, progress));
  return aggregator.finish();
}

}  // namespace aiops::forecast
