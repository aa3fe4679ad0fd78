#include "aiops/forecast/trace_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

namespace aiops::forecast {

namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 20;
constexpr std::uint64_t kProgressEvery = std::uint64_t{4} << 20;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;
// FILETIME of 1970-01-01T00:00:00Z: 369 years (89 of them leap) of 100 ns ticks.
constexpr std::uint64_t kFiletimeUnixEpoch = 116'444'736'000'000'000ULL;
// Smallest FILETIME that auto detection takes for an MSR timestamp (1632-09).
constexpr std::uint64_t kFiletimeDetectMin = 10'000'000'000'000'000ULL;

constexpr std::string_view kNativeHeader5 = "timestamp,client,op,offset,length";
constexpr std::string_view kNativeHeader6 = "timestamp,client,op,offset,length,latency_us";
constexpr std::string_view kMsrHeader = "timestamp,hostname,disknumber,type,offset,size,responsetime";
constexpr std::string_view kSeriesHeader = "timestamp,client,value";
constexpr std::string_view kWorkerHeader =
    "timestamp,interval_s,client,reads,writes,read_bytes,write_bytes,sequential";

constexpr std::string_view kTimestampHelp =
    "expected Unix seconds (1795600800 or 1795600800.125) or an ISO 8601 date-time with a zone "
    "(2026-11-25T10:00:00Z)";

struct Field {
  std::string_view text;
  std::uint32_t column = 0;  // 1-based, of the first byte after leading blanks
};

// The widest format has 8 fields; one more is kept so that "too many fields"
// can point at the first surplus one.
constexpr std::size_t kMaxFields = 9;

struct Fields {
  std::array<Field, kMaxFields> at;
  std::size_t count = 0;       // all fields of the line, also those not kept
  std::uint32_t end_column = 1;  // one past the last byte of the line
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

void split(std::string_view line, Fields& out) {
  out.count = 0;
  out.end_column = static_cast<std::uint32_t>(line.size() + 1);
  std::size_t pos = 0;
  while (true) {
    std::size_t comma = line.find(',', pos);
    std::size_t end = comma == std::string_view::npos ? line.size() : comma;
    std::size_t b = pos, e = end;
    while (b < e && is_blank(line[b])) ++b;
    while (e > b && is_blank(line[e - 1])) --e;
    // An empty or blank field is pointed at where it starts.
    std::size_t column = b == e ? pos + 1 : b + 1;
    if (out.count < kMaxFields) out.at[out.count] = Field{line.substr(b, e - b), static_cast<std::uint32_t>(column)};
    ++out.count;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
}

bool is_blank_line(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return is_blank(c); });
}

// The field text for a message: quoted, shortened, control bytes as '?'.
std::string quoted(std::string_view text) {
  constexpr std::size_t kMax = 40;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (text.size() > kMax) out += "...";
  out += '"';
  return out;
}

// Position of one line, for building its errors.
struct Where {
  std::string_view file;
  std::uint64_t line;
  [[nodiscard]] Error at(std::uint32_t column, std::string_view problem) const {
    return trace_line_error(file, line, column, problem);
  }
  [[nodiscard]] Error at(const Field& f, std::string_view problem) const { return at(f.column, problem); }
};

// ---- numbers ----

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && p == text.data() + text.size();
}

Status field_u64(const Where& w, const Field& f, std::string_view name, std::string_view unit, std::uint64_t& out) {
  if (parse_u64(f.text, out)) return {};
  std::string problem = "bad " + std::string(name) + " " + quoted(f.text);
  if (f.text.empty()) problem = "empty " + std::string(name);
  bool digits = !f.text.empty() && std::all_of(f.text.begin(), f.text.end(), [](char c) { return c >= '0' && c <= '9'; });
  problem += digits ? ": larger than 2^64-1" : ": expected an unsigned integer";
  if (!digits && !unit.empty()) problem += " (" + std::string(unit) + ")";
  return w.at(f, problem);
}

// A finite number >= 0 (any decimal or exponent notation, no sign).
bool parse_nonnegative(std::string_view text, double& out) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && p == text.data() + text.size() && std::isfinite(out) && out >= 0;
}

// ---- timestamps ----

bool mul_add(std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t& out) {
  std::int64_t m = 0;
  return !__builtin_mul_overflow(a, b, &m) && !__builtin_add_overflow(m, c, &out);
}

// Up to 9 fraction digits as nanoseconds; further digits are dropped.
std::int64_t fraction_ns(std::string_view digits) {
  std::int64_t ns = 0;
  for (std::size_t i = 0; i < 9; ++i) ns = ns * 10 + (i < digits.size() ? digits[i] - '0' : 0);
  return ns;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int two_digits(std::string_view s, std::size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); }

// Unix seconds "S" or "S.F".
std::string parse_unix_seconds(std::string_view text, std::int64_t& out) {
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(frac)))
    return "bad timestamp " + quoted(text) + ": " + std::string(kTimestampHelp);
  std::int64_t seconds = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc{} || !mul_add(seconds, kNsPerSecond, fraction_ns(frac), out))
    return "timestamp " + quoted(text) + " is out of range (years 1970 to 2262 as Unix seconds)";
  return {};
}

// "YYYY-MM-DD(T|t| )HH:MM:SS[(.|,)F](Z|z|+HH[:]MM|-HH[:]MM|+HH|-HH)".
std::string parse_iso8601(std::string_view text, std::int64_t& out) {
  auto bad = [&](std::string_view why) {
    return "bad timestamp " + quoted(text) + ": " + std::string(why);
  };
  constexpr std::string_view kShape = "expected YYYY-MM-DDTHH:MM:SS[.fraction] followed by Z or an offset such as +01:00";
  auto digits_at = [&](std::size_t at, std::size_t n) {
    return at + n <= text.size() && all_digits(text.substr(at, n));
  };
  if (!digits_at(0, 4) || text.size() < 19 || text[4] != '-' || !digits_at(5, 2) || text[7] != '-' ||
      !digits_at(8, 2))
    return bad(kShape);
  if (text[10] != 'T' && text[10] != 't' && text[10] != ' ') return bad(kShape);
  if (!digits_at(11, 2) || text[13] != ':' || !digits_at(14, 2) || text[16] != ':' || !digits_at(17, 2))
    return bad(kShape);
  int year = (text[0] - '0') * 1000 + (text[1] - '0') * 100 + two_digits(text, 2);
  int month = two_digits(text, 5), day = two_digits(text, 8);
  int hour = two_digits(text, 11), minute = two_digits(text, 14), second = two_digits(text, 17);
  std::size_t pos = 19;
  std::string_view frac;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    std::size_t b = ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
    frac = text.substr(b, pos - b);
    if (frac.empty()) return bad(kShape);
  }
  int offset_s = 0;
  if (pos == text.size())
    return "timestamp " + quoted(text) + " has no time zone; add Z for UTC or an offset such as +01:00";
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    if (!digits_at(pos, 2)) return bad(kShape);
    int oh = two_digits(text, pos), om = 0;
    pos += 2;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (pos < text.size()) {
      if (!digits_at(pos, 2)) return bad(kShape);
      om = two_digits(text, pos);
      pos += 2;
    }
    if (oh > 23 || om > 59) return bad("zone offset out of range");
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return bad(kShape);
  }
  if (pos != text.size()) return bad(kShape);
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                     std::chrono::day{static_cast<unsigned>(day)}};
  if (month < 1 || month > 12) return bad("no month " + std::to_string(month));
  if (!ymd.ok()) return bad("no day " + std::to_string(day) + " in " + std::string(text.substr(0, 7)));
  if (hour > 23 || minute > 59 || second > 59) return bad("time of day out of range");
  if (year < 1678 || year > 2261) return "timestamp " + quoted(text) + " is out of range (years 1678 to 2261)";
  std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  if (!mul_add(seconds, kNsPerSecond, fraction_ns(frac), out))
    return "timestamp " + quoted(text) + " is out of range (years 1678 to 2261)";
  return {};
}

Status field_timestamp(const Where& w, const Field& f, std::int64_t& out) {
  if (f.text.empty()) return w.at(f, "empty timestamp: " + std::string(kTimestampHelp));
  std::string problem = (f.text.size() > 4 && f.text[4] == '-') ? parse_iso8601(f.text, out)
                                                                : parse_unix_seconds(f.text, out);
  if (problem.empty()) return {};
  return w.at(f, problem);
}

Status field_client(const Where& w, const Field& f, std::string_view what) {
  if (f.text.empty()) return w.at(f, "empty " + std::string(what));
  for (std::size_t i = 0; i < f.text.size(); ++i) {
    auto c = static_cast<unsigned char>(f.text[i]);
    if (c < 0x20 || c == 0x7f)
      return w.at(f.column + static_cast<std::uint32_t>(i),
                  std::string(what) + " " + quoted(f.text) + " contains a control character");
  }
  return {};
}

Status field_count(const Where& w, const Fields& fields, std::size_t min, std::size_t max, std::string_view layout) {
  if (fields.count >= min && fields.count <= max) return {};
  std::string expected = min == max ? std::to_string(min) : std::to_string(min) + " or " + std::to_string(max);
  std::uint32_t column = fields.count > max ? fields.at[max].column : fields.end_column;
  return w.at(column, "expected " + expected + " fields (" + std::string(layout) + "), found " +
                          std::to_string(fields.count));
}

std::string_view layout_of(TraceFormat format) {
  switch (format) {
    case TraceFormat::native: return "timestamp,client,op,offset,length[,latency_us]";
    case TraceFormat::msr: return "Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime";
    case TraceFormat::series: return kSeriesHeader;
    case TraceFormat::worker: return kWorkerHeader;
    case TraceFormat::auto_detect: break;
  }
  return "";
}

// ---- one line of each format ----

// One read or write of `bytes` (native and MSR lines).
void set_request(TraceRecord& r, bool write, std::uint64_t bytes) {
  r.ops = 1;
  r.bytes = static_cast<double>(bytes);
  r.mix = IoMix{};
  r.mix.known = true;
  (write ? r.mix.writes : r.mix.reads) = 1;
  (write ? r.mix.write_bytes : r.mix.read_bytes) = bytes;
}

Status parse_native(const Where& w, const Fields& f, TraceRecord& r) {
  AIOPS_TRY(field_count(w, f, 5, 6, layout_of(TraceFormat::native)));
  AIOPS_TRY(field_timestamp(w, f.at[0], r.time_ns));
  AIOPS_TRY(field_client(w, f.at[1], "client name"));
  r.client = f.at[1].text;
  std::string_view op = f.at[2].text;
  bool write = false;
  if (iequals(op, "read") || iequals(op, "r")) write = false;
  else if (iequals(op, "write") || iequals(op, "w")) write = true;
  else return w.at(f.at[2], "unknown op " + quoted(op) + ": expected read, write, R or W");
  std::uint64_t length = 0;
  AIOPS_TRY(field_u64(w, f.at[3], "offset", "bytes", r.offset));
  AIOPS_TRY(field_u64(w, f.at[4], "length", "bytes", length));
  if (length > std::numeric_limits<std::uint64_t>::max() - r.offset)
    return w.at(f.at[4], "offset + length exceeds 2^64-1");
  if (f.count == 6 && !f.at[5].text.empty()) {
    double latency = 0;
    if (!parse_nonnegative(f.at[5].text, latency))
      return w.at(f.at[5], "bad latency_us " + quoted(f.at[5].text) + ": expected a non-negative number");
  }
  set_request(r, write, length);
  return {};
}

Status parse_msr(const Where& w, const Fields& f, TraceRecord& r, std::string& client) {
  AIOPS_TRY(field_count(w, f, 7, 7, "Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime"));
  std::uint64_t filetime = 0;
  if (!parse_u64(f.at[0].text, filetime))
    return w.at(f.at[0], "bad Timestamp " + quoted(f.at[0].text) +
                             ": expected a Windows FILETIME (100 ns ticks since 1601-01-01)");
  // Ticks relative to the Unix epoch, in 128-bit-free arithmetic: the
  // difference of two u64 fits i64 exactly when the result is representable.
  std::int64_t ticks = 0;
  bool before = filetime < kFiletimeUnixEpoch;
  std::uint64_t distance = before ? kFiletimeUnixEpoch - filetime : filetime - kFiletimeUnixEpoch;
  if (distance > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 100))
    return w.at(f.at[0], "Timestamp " + quoted(f.at[0].text) + " is out of range (years 1678 to 2261)");
  ticks = before ? -static_cast<std::int64_t>(distance) : static_cast<std::int64_t>(distance);
  r.time_ns = ticks * 100;
  AIOPS_TRY(field_client(w, f.at[1], "Hostname"));
  std::uint64_t disk = 0;
  AIOPS_TRY(field_u64(w, f.at[2], "DiskNumber", "", disk));
  std::string_view type = f.at[3].text;
  bool write = false;
  if (iequals(type, "read")) write = false;
  else if (iequals(type, "write")) write = true;
  else return w.at(f.at[3], "unknown Type " + quoted(type) + ": expected Read or Write");
  std::uint64_t size = 0, response = 0;
  AIOPS_TRY(field_u64(w, f.at[4], "Offset", "bytes", r.offset));
  AIOPS_TRY(field_u64(w, f.at[5], "Size", "bytes", size));
  if (size > std::numeric_limits<std::uint64_t>::max() - r.offset)
    return w.at(f.at[5], "Offset + Size exceeds 2^64-1");
  AIOPS_TRY(field_u64(w, f.at[6], "ResponseTime", "100 ns ticks", response));
  client.assign(f.at[1].text);
  client += '_';
  client += std::to_string(disk);
  r.client = client;
  set_request(r, write, size);
  return {};
}

Status parse_series(const Where& w, const Fields& f, TraceRecord& r) {
  AIOPS_TRY(field_count(w, f, 3, 3, kSeriesHeader));
  AIOPS_TRY(field_timestamp(w, f.at[0], r.time_ns));
  AIOPS_TRY(field_client(w, f.at[1], "client name"));
  r.client = f.at[1].text;
  if (!parse_nonnegative(f.at[2].text, r.ops))
    return w.at(f.at[2], "bad value " + quoted(f.at[2].text) + ": expected a finite number >= 0");
  r.bytes = 0;
  r.mix = IoMix{};
  return {};
}

Status parse_worker(const Where& w, const Fields& f, TraceRecord& r) {
  AIOPS_TRY(field_count(w, f, 8, 8, kWorkerHeader));
  AIOPS_TRY(field_timestamp(w, f.at[0], r.time_ns));
  double seconds = 0;
  // Longer than a year is certainly not a recording interval.
  if (!parse_nonnegative(f.at[1].text, seconds) || seconds <= 0 || seconds > 366.0 * 86400)
    return w.at(f.at[1], "bad interval_s " + quoted(f.at[1].text) + ": expected a positive number of seconds");
  r.length_ns = std::llround(seconds * 1e9);
  if (r.length_ns <= 0)
    return w.at(f.at[1], "bad interval_s " + quoted(f.at[1].text) + ": shorter than a nanosecond");
  r.length_column = f.at[1].column;
  AIOPS_TRY(field_client(w, f.at[2], "client name"));
  r.client = f.at[2].text;
  IoMix& m = r.mix;
  m = IoMix{};
  m.known = true;
  AIOPS_TRY(field_u64(w, f.at[3], "reads", "", m.reads));
  AIOPS_TRY(field_u64(w, f.at[4], "writes", "", m.writes));
  AIOPS_TRY(field_u64(w, f.at[5], "read_bytes", "", m.read_bytes));
  AIOPS_TRY(field_u64(w, f.at[6], "write_bytes", "", m.write_bytes));
  AIOPS_TRY(field_u64(w, f.at[7], "sequential", "", m.sequential));
  r.ops = static_cast<double>(m.reads) + static_cast<double>(m.writes);
  r.bytes = static_cast<double>(m.read_bytes) + static_cast<double>(m.write_bytes);
  return {};
}

// ---- headers ----

bool matches_header(const Fields& f, std::string_view header) {
  std::size_t i = 0, pos = 0;
  while (true) {
    std::size_t comma = header.find(',', pos);
    std::string_view name = header.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (i >= f.count || i >= kMaxFields || !iequals(f.at[i].text, name)) return false;
    ++i;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return i == f.count;
}

// The format whose header the line is, or auto_detect when none.
TraceFormat header_format(const Fields& f) {
  if (f.count == 0 || !iequals(f.at[0].text, "timestamp")) return TraceFormat::auto_detect;
  if (matches_header(f, kNativeHeader5) || matches_header(f, kNativeHeader6)) return TraceFormat::native;
  if (matches_header(f, kMsrHeader)) return TraceFormat::msr;
  if (matches_header(f, kSeriesHeader)) return TraceFormat::series;
  if (matches_header(f, kWorkerHeader)) return TraceFormat::worker;
  return TraceFormat::auto_detect;
}

bool native_op(std::string_view op) {
  return iequals(op, "read") || iequals(op, "write") || iequals(op, "r") || iequals(op, "w");
}

TraceFormat sniff(const Fields& f) {
  if (TraceFormat h = header_format(f); h != TraceFormat::auto_detect) return h;
  if ((f.count == 5 || f.count == 6) && native_op(f.at[2].text)) return TraceFormat::native;
  std::uint64_t filetime = 0;
  if (f.count == 7 && parse_u64(f.at[0].text, filetime) && filetime >= kFiletimeDetectMin &&
      (iequals(f.at[3].text, "read") || iequals(f.at[3].text, "write")))
    return TraceFormat::msr;
  if (f.count == 3) return TraceFormat::series;
  return TraceFormat::auto_detect;
}

// ---- reading lines ----

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

struct ByteCount {
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  std::uint64_t reported = 0;
  const ReadProgress* progress = nullptr;
  void add(std::uint64_t n) {
    done += n;
    if (progress != nullptr && *progress && done - reported >= kProgressEvery) {
      reported = done;
      (*progress)(done, std::max(done, total));
    }
  }
};

// Calls on_line(text, line_number) for every line of `path` without its line
// end; on_line returns a Status and sets `stop` to end early.
template <class OnLine>
Status for_each_line(const std::filesystem::path& path, std::vector<char>& buffer, ByteCount& bytes, OnLine&& on_line) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return error_from_errno(errno, "open trace " + path.string());
  std::size_t have = 0;
  std::uint64_t line_no = 0;
  bool stop = false;
  auto deliver = [&](std::string_view line) -> Status {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    return on_line(line, line_no, stop);
  };
  while (true) {
    ssize_t n = ::read(fd.get(), buffer.data() + have, buffer.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error_from_errno(errno, "read trace " + path.string());
    }
    if (n == 0) {
      if (have > 0) AIOPS_TRY(deliver(std::string_view(buffer.data(), have)));
      return {};
    }
    bytes.add(static_cast<std::uint64_t>(n));
    std::size_t scanned = have;
    have += static_cast<std::size_t>(n);
    std::size_t start = 0;
    while (const void* nl = std::memchr(buffer.data() + scanned, '\n', have - scanned)) {
      auto end = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer.data());
      AIOPS_TRY(deliver(std::string_view(buffer.data() + start, end - start)));
      if (stop) return {};
      start = scanned = end + 1;
    }
    if (start > 0) std::memmove(buffer.data(), buffer.data() + start, have - start);
    have -= start;
    if (have == buffer.size())
      return trace_line_error(path.string(), line_no + 1, 1,
                              "line longer than " + std::to_string(buffer.size() >> 20) + " MiB");
  }
}

Result<TraceFormat> detect(const std::filesystem::path& path) {
  std::vector<char> buffer(kBufferBytes);
  ByteCount bytes;
  TraceFormat found = TraceFormat::auto_detect;
  bool any = false;
  std::string file = path.string();
  Fields fields;
  Status s = for_each_line(path, buffer, bytes, [&](std::string_view line, std::uint64_t line_no, bool& stop) -> Status {
    if (is_blank_line(line)) return {};
    any = stop = true;
    split(line, fields);
    found = sniff(fields);
    if (found != TraceFormat::auto_detect) return {};
    return trace_line_error(
        file, line_no, 1,
        "cannot tell the trace format from this line; expected the worker header (" + std::string(kWorkerHeader) +
            "), a native line (timestamp,client,op,offset,length[,latency_us] with op read or write), "
            "an MSR Cambridge line (Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime with a "
            "FILETIME and Read or Write) or a series line (timestamp,client,value); or give --format");
  });
  if (!s.ok()) return s.error();
  if (!any) return Error(Errc::invalid_input, file + ": no records (the file is empty)");
  return found;
}

}  // namespace

Error trace_line_error(std::string_view file, std::uint64_t line, std::uint64_t column, std::string_view problem) {
  std::string m(file);
  m += ':';
  m += std::to_string(line);
  m += ':';
  m += std::to_string(column);
  m += ": ";
  m += problem;
  return Error(Errc::invalid_input, std::move(m));
}

Result<TraceFormat> parse_trace_format(std::string_view text) {
  for (TraceFormat f : {TraceFormat::auto_detect, TraceFormat::native, TraceFormat::msr, TraceFormat::series,
                        TraceFormat::worker})
    if (text == to_string(f)) return f;
  return Error(Errc::invalid_input,
               "unknown trace format " + quoted(text) + ": expected auto, native, msr, series or worker");
}

std::string_view to_string(TraceFormat format) noexcept {
  switch (format) {
    case TraceFormat::auto_detect: return "auto";
    case TraceFormat::native: return "native";
    case TraceFormat::msr: return "msr";
    case TraceFormat::series: return "series";
    case TraceFormat::worker: return "worker";
  }
  return "unknown";
}

Result<TraceReader> TraceReader::open(const std::filesystem::path& path, TraceFormat format) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec) return error_from_errno(ec.value(), "trace " + path.string());
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(status)) {
    if (format != TraceFormat::auto_detect && format != TraceFormat::worker)
      return Error(Errc::invalid_argument, path.string() + " is a directory; only the worker format (the worker's "
                                                           "trace/ directory) reads a directory, not " +
                                               std::string(to_string(format)));
    format = TraceFormat::worker;
    for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".csv" && it->is_regular_file(ec)) files.push_back(it->path());
    }
    if (ec) return error_from_errno(ec.value(), "list trace directory " + path.string());
    if (files.empty())
      return Error(Errc::invalid_input,
                   path.string() + ": no records (no *.csv files; expected the worker's trace/ directory)");
    std::sort(files.begin(), files.end(),
              [](const auto& a, const auto& b) { return a.filename().native() < b.filename().native(); });
  } else {
    files.push_back(path);
    if (format == TraceFormat::auto_detect) {
      AIOPS_ASSIGN(format, detect(path));
    }
  }
  std::uint64_t total = 0;
  for (const auto& f : files) {
    auto size = std::filesystem::file_size(f, ec);
    if (ec) return error_from_errno(ec.value(), "size of trace " + f.string());
    total += size;
  }
  return TraceReader(format, std::move(files), total);
}

Status TraceReader::read(const Sink& sink, const ReadProgress& progress) const {
  std::vector<char> buffer(kBufferBytes);
  ByteCount bytes;
  bytes.total = total_bytes_;
  bytes.progress = &progress;
  Fields fields;
  std::string msr_client;
  for (std::size_t i = 0; i < files_.size(); ++i) {
    std::string file = files_[i].string();
    TraceRecord record{};
    record.file = file;
    record.file_index = static_cast<std::uint32_t>(i);
    Status s = for_each_line(files_[i], buffer, bytes, [&](std::string_view line, std::uint64_t line_no, bool&) -> Status {
      if (is_blank_line(line)) return {};
      Where where{file, line_no};
      split(line, fields);
      if (fields.count > 0 && fields.at[0].text.size() == 9 && iequals(fields.at[0].text, "timestamp")) {
        TraceFormat h = header_format(fields);
        if (h == format_) return {};
        if (h != TraceFormat::auto_detect)
          return where.at(1, "this is the header of a " + std::string(to_string(h)) + " trace, but the format is " +
                                 std::string(to_string(format_)) + "; use --format " + std::string(to_string(h)) +
                                 " or auto");
        return where.at(1, "header does not match the " + std::string(to_string(format_)) + " format: expected " +
                               std::string(layout_of(format_)));
      }
      record.line = line_no;
      switch (format_) {
        case TraceFormat::native: AIOPS_TRY(parse_native(where, fields, record)); break;
        case TraceFormat::msr: AIOPS_TRY(parse_msr(where, fields, record, msr_client)); break;
        case TraceFormat::series: AIOPS_TRY(parse_series(where, fields, record)); break;
        case TraceFormat::worker: AIOPS_TRY(parse_worker(where, fields, record)); break;
        case TraceFormat::auto_detect: return Error(Errc::invalid_argument, "trace format not resolved");
      }
      return sink(record);
    });
    if (!s.ok()) return s;
  }
  if (progress) progress(bytes.done, std::max(bytes.done, bytes.total));
  return {};
}

}  // namespace aiops::forecast
