#pragma once
// Reading I/O trace files line by line: the four formats `aiops forecast
// --trace` accepts, telling them apart (--format auto), and turning each data
// line into a TraceRecord or into an error that names FILE:LINE:COLUMN.
// Aggregating the records into per-client series is series.hpp's job.
//
// Common rules for every format: UTF-8 text, fields separated by ','
// (no quoting; spaces and tabs around a field are ignored), lines end with
// "\n" or "\r\n", the last line may lack its newline, blank lines are
// skipped, a UTF-8 byte order mark at the start of a file is skipped. Line
// numbers and columns in errors are 1-based; a column counts bytes from the
// start of the line and points at the offending field. A header line (the
// field names below, compared case-insensitively) may stand at the top of a
// file and is skipped wherever it appears, so that concatenated files read.
// Lines may come in any time order.
//
// Timestamps ("timestamp" fields of native, series and worker):
//   Unix seconds, digits with an optional fraction ("1795600800",
//   "1795600800.125"; fraction digits beyond nanoseconds are dropped), or an
//   ISO 8601 / RFC 3339 date-time with a zone:
//   "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM|+HHMM|+HH)", the 'T' may
//   also be 't' or a space. A date-time without zone is refused (which zone
//   was meant cannot be guessed). Representable: the years 1678 to 2261
//   (nanoseconds since the epoch in 64 bits).
//
// native — one line per request:
//   timestamp,client,op,offset,length[,latency_us]
//   client   non-empty name, no control characters
//   op       read | write | R | W (case-insensitive)
//   offset   unsigned integer, byte offset of the request on the volume
//   length   unsigned integer, bytes (offset + length must fit in 64 bits)
//   latency_us  optional (field absent or empty) non-negative number; checked,
//            not used
//
// msr — SNIA IOTTA "MSR Cambridge" block traces, one line per request, no
// header:
//   Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime
//   Timestamp     Windows FILETIME: 100 ns ticks since 1601-01-01T00:00:00Z
//   Hostname      non-empty; the client is "Hostname_DiskNumber"
//   DiskNumber    unsigned integer
//   Type          Read | Write (case-insensitive)
//   Offset, Size  unsigned integers, bytes
//   ResponseTime  unsigned integer, 100 ns ticks; checked, not used
//
// series — already aggregated, one point per line:
//   timestamp,client,value
//   value    finite number >= 0: the operations of the client in the interval
//            that starts at timestamp (bytes are unknown in this format)
//
// worker — the worker's own history (worker/trace_recorder.hpp): a directory
// (every "*.csv" in it, in name order; nothing else in it is read) or one
// such file:
//   timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential
//   interval_s  positive number of seconds (the recorder writes milliseconds,
//               "60.002"); the line covers [timestamp, timestamp+interval_s)
//   reads ... sequential  unsigned integers
//
// Detection (`--format auto`): a directory is a worker trace. Otherwise the
// first non-empty line decides: the worker header -> worker; the native
// header, or 5 or 6 fields whose third is a native op -> native; 7 fields
// whose first is an integer >= 10^16 (a FILETIME after 1632) and whose fourth
// is Read or Write -> msr; the series header or 3 fields -> series. Anything
// else is an error that names the file and the line and lists the formats.
//
// Streaming: a file is read through a fixed 1 MiB buffer; a line longer than
// that is refused. Memory does not grow with the file.
//
// Thread-safety: a TraceReader is used by one thread at a time; distinct
// readers are independent.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aiops/core/error.hpp"
#include "aiops/forecast/io_mix.hpp"

namespace aiops::forecast {

enum class TraceFormat { auto_detect, native, msr, series, worker };

/// "auto", "native", "msr", "series" or "worker".
[[nodiscard]] Result<TraceFormat> parse_trace_format(std::string_view text);
[[nodiscard]] std::string_view to_string(TraceFormat format) noexcept;

/// Called while a trace is read with the bytes read so far and the total size
/// of all its files: about every 4 MiB, and once more at the end
/// (done == total).
using ReadProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

/// One data line. The string_views point into the reader's buffers and are
/// valid only during the callback that receives the record.
struct TraceRecord {
  std::string_view file;     // path of the file the line is in
  std::uint32_t file_index;  // index of that file in TraceReader::files()
  std::uint64_t line;        // 1-based line number in that file
  std::int64_t time_ns;      // Unix ns: the request (native, msr), the point
                             // (series), the start of the interval (worker)
  std::string_view client;
  double ops = 0;    // 1 for a request; the value (series); reads + writes (worker)
  double bytes = 0;  // the request's length; read_bytes + write_bytes (worker); 0 (series)
  // known = false for series. For a request: one read or write of `bytes`;
  // its `sequential` is 0 because only the aggregation sees the previous request.
  IoMix mix;
  std::uint64_t offset = 0;  // native, msr: first byte of the request
  // worker: interval_s in ns, and the column of that field (for errors that
  // compare it with other lines); 0 for the other formats.
  std::int64_t length_ns = 0;
  std::uint32_t length_column = 0;
};

class TraceReader {
 public:
  using Sink = std::function<Status(const TraceRecord&)>;

  /// Resolves `path` (a file, or a directory for the worker format) and,
  /// for TraceFormat::auto_detect, detects the format.
  [[nodiscard]] static Result<TraceReader> open(const std::filesystem::path& path, TraceFormat format);

  /// The resolved format (never auto_detect).
  [[nodiscard]] TraceFormat format() const noexcept { return format_; }
  [[nodiscard]] const std::vector<std::filesystem::path>& files() const noexcept { return files_; }
  /// Sum of the sizes of files() when opened.
  [[nodiscard]] std::uint64_t total_bytes() const noexcept { return total_bytes_; }

  /// Reads every file once, in order, handing each data line to `sink`; stops
  /// at the first malformed line (Errc::invalid_input, "FILE:LINE:COLUMN:
  /// problem"), I/O error, or error returned by `sink`, which it returns.
  [[nodiscard]] Status read(const Sink& sink, const ReadProgress& progress = {}) const;

 private:
  TraceReader(TraceFormat format, std::vector<std::filesystem::path> files, std::uint64_t total_bytes)
      : format_(format), files_(std::move(files)), total_bytes_(total_bytes) {}

  TraceFormat format_;
  std::vector<std::filesystem::path> files_;
  std::uint64_t total_bytes_;
};

/// "FILE:LINE:COLUMN: problem" as an Errc::invalid_input error; for errors
/// that concern a whole line or several lines.
[[nodiscard]] Error trace_line_error(std::string_view file, std::uint64_t line, std::uint64_t column,
                                     std::string_view problem);

}  // namespace aiops::forecast
