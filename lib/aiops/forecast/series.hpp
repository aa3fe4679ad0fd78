#pragma once
// Per-client series: a trace (trace_reader.hpp) aggregated into the
// operations and bytes each client did in each interval of a fixed length,
// the input of the forecasting models.
//
// Aggregation:
//  * Intervals are aligned to whole multiples of `interval` since the Unix
//    epoch; interval k of the result covers [start + k*interval,
//    start + (k+1)*interval). Every series of a set has the same start and
//    length: from the first to the last interval that holds a record of any
//    client. An interval without records is 0 (a gap is idleness, not a
//    missing value).
//  * A request (native, msr) or a point (series) counts in the interval that
//    holds its timestamp. A worker line covers [timestamp, timestamp +
//    interval_s) and is shared between the (at most two) intervals it
//    overlaps in proportion to the overlap, so that lines not aligned to the
//    intervals (the worker starts its clock when it starts) neither leave
//    holes nor double up; a line within 10% of the trace's step counts as
//    exactly one step long (the recorder measures timer jitter too), a
//    shorter one (the last interval before a stop) as its own length.
//  * ops and bytes are summed in double per client and interval while the
//    client's records arrive in order, and stored as float: whole counts
//    stay exact up to 2^24 per interval, larger ones within float precision.
//  * interval == 0 means the trace's own step: for worker the most common
//    interval_s, for series the smallest positive gap between two successive
//    timestamps of one client, both taken from the first 100,000 data lines;
//    native and msr have no step and need an explicit interval. An explicit
//    interval must be a whole multiple of the trace's step (when it has one).
//  * A worker line whose interval_s is more than 10% longer than the step is
//    refused: the worker's trace_interval changed inside the trace.
//  * IoMix per client: the sum over its requests (native, msr; `sequential`
//    counts requests that start exactly where the client's previous request
//    ended — the client is per disk for msr) or its worker lines; unknown
//    (known = false) for series.
//
// Memory is bounded by clients × intervals, not by the size of the trace:
// more than kMaxSeriesCells values are refused with a message that asks for
// a longer interval. Records may arrive in any time order (series grow at
// either end).
//
// Thread-safety: read_trace is a pure function of the files it reads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "aiops/core/error.hpp"
#include "aiops/forecast/io_mix.hpp"
#include "aiops/forecast/trace_reader.hpp"

namespace aiops::forecast {

/// Most values (clients × intervals) a SeriesSet may hold: 2^28, i.e. 1 GiB of
/// ops and 1 GiB of bytes as float; 10,000 clients × 7 days of minutes is
/// 100.8 M.
inline constexpr std::uint64_t kMaxSeriesCells = std::uint64_t{1} << 28;

/// Data lines that the trace's own step is inferred from.
inline constexpr std::size_t kStepSampleLines = 100'000;

struct ClientSeries {
  std::string name;
  std::vector<float> ops;    // SeriesSet::length values, >= 0
  std::vector<float> bytes;  // SeriesSet::length values, or empty when !SeriesSet::has_bytes
  IoMix mix;
};

struct SeriesSet {
  TraceFormat format = TraceFormat::auto_detect;  // the detected one, never auto_detect
  std::chrono::sys_time<std::chrono::nanoseconds> start{};  // start of interval 0, a multiple of interval
  std::chrono::nanoseconds interval{0};  // step of every series, > 0
  std::size_t length = 0;                // intervals in every series, >= 1
  bool has_bytes = true;                 // false for the series format
  std::uint64_t records = 0;             // data lines read
  std::vector<ClientSeries> clients;     // sorted by name, at least one
};

/// Reads and aggregates the trace at `path` (a file, or the worker's trace
/// directory). `interval` 0 means the trace's own step (worker, series
/// only). Errors: Errc::invalid_input for malformed lines ("FILE:LINE:COLUMN:
/// problem"), an empty trace ("no records"), an interval that does not fit
/// the trace or a trace too large for the interval; Errc::invalid_argument
/// for a negative interval or a directory with a per-request format; I/O
/// errors as error_from_errno maps them.
[[nodiscard]] Result<SeriesSet> read_trace(const std::filesystem::path& path, TraceFormat format,
                                           std::chrono::nanoseconds interval, const ReadProgress& progress = {});

}  // namespace aiops::forecast
