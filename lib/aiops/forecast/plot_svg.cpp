#include "aiops/forecast/plot_svg.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <span>

#include "aiops/core/units.hpp"

namespace aiops::forecast {
namespace {

using std::chrono::nanoseconds;

// Canvas and plot area, in px.
constexpr double kWidth = 1000;
constexpr double kHeight = 560;
constexpr double kLeft = 90;
constexpr double kRight = 950;
constexpr double kTop = 70;
constexpr double kBottom = 450;

constexpr std::size_t kMaxTitleChars = 110;
constexpr std::size_t kMaxMarkers = 400;
constexpr int kMaxTimeSteps = 10;
constexpr int kTargetValueSteps = 5;

constexpr std::string_view kHistoryColor = "#3a3a3a";
constexpr std::string_view kMeanColor = "#1565c0";
constexpr std::string_view kBand80Color = "#9dc0ea";
constexpr std::string_view kBand95Color = "#d3e3f6";
constexpr std::string_view kActualColor = "#e65100";
constexpr std::string_view kGridColor = "#e6e6e6";
constexpr std::string_view kAxisColor = "#888888";
constexpr std::string_view kTextColor = "#222222";

// ---- text -------------------------------------------------------------------

void append_code_point(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Decodes `text` as UTF-8 into code points; each byte that does not start a
// valid, shortest-form sequence becomes U+FFFD.
std::vector<char32_t> decode_utf8(std::string_view text) {
  std::vector<char32_t> out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    char32_t c = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      len = 1, c = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, c = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, c = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, c = b0 & 0x07, min = 0x10000;
    }
    bool ok = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      auto b = static_cast<unsigned char>(text[i + k]);
      ok = (b & 0xC0) == 0x80;
      c = (c << 6) | (b & 0x3F);
    }
    ok = ok && c >= min && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
    if (ok) {
      out.push_back(c);
      i += len;
    } else {
      out.push_back(0xFFFD);
      ++i;
    }
  }
  return out;
}

bool allowed_in_xml(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

// `text` as XML character data (also safe inside attribute values), cut to
// `max_chars` characters with an ellipsis.
std::string xml_text(std::string_view text, std::size_t max_chars = std::numeric_limits<std::size_t>::max()) {
  std::vector<char32_t> cps = decode_utf8(text);
  bool cut = cps.size() > max_chars;
  if (cut) cps.resize(max_chars - 1);
  std::string out;
  out.reserve(text.size() + 16);
  for (char32_t c : cps) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: append_code_point(out, allowed_in_xml(c) ? c : char32_t{0xFFFD}); break;
    }
  }
  if (cut) out += "\u2026";
  return out;
}

// The non-empty parts joined with " · ".
std::string joined(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += " \u00b7 ";
    out += part;
  }
  return out;
}

std::string fixed(double v, int decimals = 1) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s == "-0.0" || s == "-0") s.erase(0, 1);
  return s;
}

// ---- scales -----------------------------------------------------------------

// A "nice" number near x > 0: 1, 2 or 5 times a power of ten (Heckbert).
// `round` picks the nearest, otherwise the smallest not below x.
double nice_number(double x, bool round, int& exponent) {
  exponent = static_cast<int>(std::floor(std::log10(x)));
  double fraction = x / std::pow(10.0, exponent);
  double nice = 10;
  if (round) {
    nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  } else {
    nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  }
  if (nice == 10) nice = 1, ++exponent;
  return nice * std::pow(10.0, exponent);
}

struct ValueTick {
  double value;
  std::string label;
};

struct ValueScale {
  double lo = 0, hi = 1;
  std::vector<ValueTick> ticks;
};

std::string value_label(double v, double step, int step_exponent, double magnitude) {
  static constexpr std::array<std::string_view, 7> kSuffix = {"", "k", "M", "G", "T", "P", "E"};
  int power = 0;  // of 1000
  if (magnitude >= 1e4) power = std::min(static_cast<int>(std::floor(std::log10(magnitude) / 3)), 6);
  double unit = std::pow(1000.0, power);
  int decimals = std::max(0, 3 * power - step_exponent);
  // Zero is written without a suffix ("0", not "0.0M"); without one it keeps
  // the decimals of its neighbours ("0.0", "0.2", ...).
  if (std::abs(v) < step * 1e-9) return power > 0 ? "0" : fixed(0, decimals);
  std::string s = fixed(v / unit, decimals);
  s += kSuffix[static_cast<std::size_t>(power)];
  return s;
}

ValueScale value_scale(double lo, double hi, bool any) {
  if (!any) lo = 0, hi = 1;
  if (lo >= 0 && (lo <= 0.5 * hi || lo == hi)) lo = 0;
  if (lo == hi) {
    // Only a constant series below zero, or all zeros, gets here.
    double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo = lo == 0 ? 0 : lo - pad;
    hi = hi + pad;
  }
  ValueScale s;
  if (!std::isfinite(hi - lo)) {
    // Beyond what nice numbers can help with: label the raw ends.
    s.lo = lo, s.hi = hi;
    s.ticks = {{lo, fixed(lo, 0)}, {hi, fixed(hi, 0)}};
    return s;
  }
  int range_exponent = 0;
  int step_exponent = 0;
  double range = nice_number(hi - lo, false, range_exponent);
  double step = nice_number(range / kTargetValueSteps, true, step_exponent);
  auto first = static_cast<long long>(std::floor(lo / step + 1e-9));
  auto last = static_cast<long long>(std::ceil(hi / step - 1e-9));
  s.lo = static_cast<double>(first) * step;
  s.hi = static_cast<double>(last) * step;
  double magnitude = std::max(std::abs(s.lo), std::abs(s.hi));
  for (long long k = first; k <= last; ++k) {
    double v = static_cast<double>(k) * step;
    s.ticks.push_back({v, value_label(v, step, step_exponent, magnitude)});
  }
  return s;
}

struct TimeTick {
  double offset;      // ns after the time of the first shown point
  std::string label;  // first line
  std::string date;   // second line, may be empty
};

std::string two(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v % 100);
  return buf;
}

std::string date_text(std::chrono::sys_days day) {
  std::chrono::year_month_day ymd{day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// Ticks at whole multiples of a step between the absolute times
// first + lo and first + hi (ns).
std::vector<TimeTick> time_ticks(std::chrono::sys_time<nanoseconds> first, double lo, double hi) {
  using namespace std::chrono;
  constexpr int64_t ms = 1'000'000;
  constexpr int64_t s = 1000 * ms;
  constexpr int64_t min = 60 * s;
  constexpr int64_t h = 60 * min;
  constexpr int64_t d = 24 * h;
  constexpr int64_t w = 7 * d;
  static constexpr std::array<int64_t, 31> kSteps = {
      1 * ms,  2 * ms,  5 * ms,  10 * ms, 20 * ms,  50 * ms, 100 * ms, 200 * ms, 500 * ms, 1 * s, 2 * s,
      5 * s,   10 * s,  15 * s,  30 * s,  1 * min,  2 * min, 5 * min,  10 * min, 15 * min, 30 * min,
      1 * h,   2 * h,   3 * h,   6 * h,   12 * h,   1 * d,   2 * d,    1 * w,    2 * w,    4 * w};
  double span = hi - lo;
  int64_t step = kSteps.back();
  for (int64_t candidate : kSteps) {
    if (span / static_cast<double>(candidate) <= kMaxTimeSteps) {
      step = candidate;
      break;
    }
  }
  while (span / static_cast<double>(step) > kMaxTimeSteps) step *= 2;
  // Weeks start on Monday, four days after the epoch (a Thursday).
  int64_t align = step % w == 0 ? 4 * d : 0;

  int64_t base = first.time_since_epoch().count();
  auto abs_lo = static_cast<int64_t>(std::ceil(static_cast<double>(base) + lo));
  auto abs_hi = static_cast<int64_t>(std::floor(static_cast<double>(base) + hi));
  int64_t rel = abs_lo - align;
  int64_t k = rel / step;
  if (k * step < rel) ++k;  // ceil for either sign
  std::vector<TimeTick> ticks;
  std::string previous_date;
  for (int64_t t = k * step + align; t <= abs_hi; t += step) {
    sys_time<nanoseconds> tp{nanoseconds{t}};
    sys_days day = floor<days>(tp);
    hh_mm_ss<nanoseconds> tod{tp - day};
    TimeTick tick;
    tick.offset = static_cast<double>(t - base);
    std::string date = date_text(day);
    if (step >= d) {
      tick.label = date;
    } else {
      tick.label = two(static_cast<unsigned>(tod.hours().count())) + ":" +
                   two(static_cast<unsigned>(tod.minutes().count()));
      if (step < min) tick.label += ":" + two(static_cast<unsigned>(tod.seconds().count()));
      if (step < s) {
        char buf[8];
        std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(tod.subseconds().count() / ms));
        tick.label += buf;
      }
      if (date != previous_date) tick.date = date;
    }
    previous_date = date;
    ticks.push_back(std::move(tick));
  }
  return ticks;
}

// ---- drawing ----------------------------------------------------------------

// Where things go: global point index -> x, value -> y.
struct Frame {
  std::size_t first = 0;  // global index of the leftmost shown point
  double lo = 0, hi = 1;  // x range, in units after the first point (ns, or points)
  double unit = 1;        // x units per point
  ValueScale values;

  [[nodiscard]] double x_of_offset(double offset) const { return kLeft + (offset - lo) / (hi - lo) * (kRight - kLeft); }
  [[nodiscard]] double x(std::size_t index) const {
    return x_of_offset(static_cast<double>(index - first) * unit);
  }
  [[nodiscard]] double y(double v) const {
    return kBottom - (v - values.lo) / (values.hi - values.lo) * (kBottom - kTop);
  }
};

std::string point(double x, double y) { return fixed(x) + "," + fixed(y); }

// A polyline over the finite values (values[i] at global index first + i),
// broken at non-finite ones; lone points become dots.
void draw_line(std::string& svg, const Frame& f, std::span<const double> values, std::size_t first,
               std::string_view color, double width, std::string_view extra = {}) {
  std::string path;
  std::string dots;
  std::size_t i = 0;
  while (i < values.size()) {
    if (!std::isfinite(values[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < values.size() && std::isfinite(values[j])) ++j;
    if (j - i == 1) {
      dots += "<circle cx=\"" + fixed(f.x(first + i)) + "\" cy=\"" + fixed(f.y(values[i])) + "\" r=\"" +
              fixed(width + 1.5) + "\" fill=\"" + std::string(color) + "\"/>\n";
    } else {
      for (std::size_t k = i; k < j; ++k) path += (k == i ? "M" : "L") + point(f.x(first + k), f.y(values[k]));
    }
    i = j;
  }
  if (!path.empty()) {
    svg += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + std::string(color) + "\" stroke-width=\"" +
           fixed(width) + "\" stroke-linejoin=\"round\"" + std::string(extra) + "/>\n";
  }
  svg += dots;
}

void draw_markers(std::string& svg, const Frame& f, std::span<const double> values, std::size_t first,
                  std::string_view color) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    svg += "<circle cx=\"" + fixed(f.x(first + i)) + "\" cy=\"" + fixed(f.y(values[i])) +
           "\" r=\"2.5\" fill=\"#ffffff\" stroke=\"" + std::string(color) + "\" stroke-width=\"1.2\"/>\n";
  }
}

// A band between lo and hi over the points where both are finite; a lone
// point becomes a small bar so that a one-step forecast still shows it.
void draw_band(std::string& svg, const Frame& f, std::span<const double> lo, std::span<const double> hi,
               std::size_t first, std::string_view color) {
  std::size_t n = std::min(lo.size(), hi.size());
  auto good = [&](std::size_t i) { return std::isfinite(lo[i]) && std::isfinite(hi[i]); };
  std::size_t i = 0;
  while (i < n) {
    if (!good(i)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && good(j)) ++j;
    std::string points;
    if (j - i == 1) {
      double x = f.x(first + i);
      points = point(x - 4, f.y(hi[i])) + " " + point(x + 4, f.y(hi[i])) + " " + point(x + 4, f.y(lo[i])) + " " +
               point(x - 4, f.y(lo[i]));
    } else {
      for (std::size_t k = i; k < j; ++k) points += point(f.x(first + k), f.y(hi[k])) + " ";
      for (std::size_t k = j; k-- > i;) points += point(f.x(first + k), f.y(lo[k])) + (k > i ? " " : "");
    }
    svg += "<polygon points=\"" + points + "\" fill=\"" + std::string(color) + "\" stroke=\"none\"/>\n";
    i = j;
  }
}

void extend(double& lo, double& hi, bool& any, std::span<const double> values) {
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = any ? std::min(lo, v) : v;
    hi = any ? std::max(hi, v) : v;
    any = true;
  }
}

bool has_finite(std::span<const double> values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

std::string text(double x, double y, std::string_view content, std::string_view attributes = {}) {
  return "<text x=\"" + fixed(x) + "\" y=\"" + fixed(y) + "\"" + std::string(attributes) + ">" +
         std::string(content) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, std::string_view color, double width,
                 std::string_view extra) {
  return "<line x1=\"" + fixed(x1) + "\" y1=\"" + fixed(y1) + "\" x2=\"" + fixed(x2) + "\" y2=\"" + fixed(y2) +
         "\" stroke=\"" + std::string(color) + "\" stroke-width=\"" + fixed(width) + "\"" + std::string(extra) +
         "/>\n";
}

std::string hline(double x1, double x2, double y, std::string_view color, double width = 1,
                  std::string_view extra = {}) {
  return line(x1, y, x2, y, color, width, extra);
}

std::string vline(double x, double y1, double y2, std::string_view color, std::string_view extra = {}) {
  return line(x, y1, x, y2, color, 1, extra);
}

struct LegendItem {
  enum Kind { line, band, markers } kind;
  std::string_view color;
  std::string_view label;
};

void draw_legend(std::string& svg, const std::vector<LegendItem>& items) {
  double x = kLeft;
  constexpr double y = 538;
  for (const LegendItem& item : items) {
    switch (item.kind) {
      case LegendItem::line:
        svg += hline(x, x + 24, y - 4, item.color, 2);
        break;
      case LegendItem::band:
        svg += "<rect x=\"" + fixed(x) + "\" y=\"" + fixed(y - 10) + "\" width=\"24\" height=\"12\" fill=\"" +
               std::string(item.color) + "\"/>\n";
        break;
      case LegendItem::markers:
        svg += hline(x, x + 24, y - 4, item.color, 1.5, " stroke-dasharray=\"5,3\"");
        svg += "<circle cx=\"" + fixed(x + 12) + "\" cy=\"" + fixed(y - 4) + "\" r=\"2.5\" fill=\"#ffffff\" stroke=\"" +
               std::string(item.color) + "\" stroke-width=\"1.2\"/>\n";
        break;
    }
    svg += text(x + 30, y, item.label);
    // About 7 px per character at 12 px sans-serif, plus the swatch and a gap.
    x += 30 + 7.0 * static_cast<double>(item.label.size()) + 24;
  }
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

Status write_all(int fd, std::string_view data, const std::filesystem::path& tmp) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return error_from_errno(errno, "write " + tmp.string());
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

std::string render_svg(const PlotInput& in) {
  const std::size_t history_n = in.history.size();
  const std::size_t shown = std::min(history_n, in.max_history_points);
  const std::size_t forecast_n = std::max(in.mean.size(), in.actual.size());
  const std::size_t first = history_n - shown;
  const std::size_t points = shown + forecast_n;
  const bool timed = in.interval.count() > 0;
  std::span<const double> history = std::span(in.history).subspan(first);

  Frame f;
  f.first = first;
  f.unit = timed ? static_cast<double>(in.interval.count()) : 1.0;
  // Half a step of room at both ends keeps the first and last dots and bars
  // off the frame; with thousands of points it is invisible.
  f.lo = -0.5 * f.unit;
  f.hi = (static_cast<double>(std::max<std::size_t>(points, 1)) - 0.5) * f.unit;

  double lo = 0, hi = 0;
  bool any = false;
  extend(lo, hi, any, history);
  for (const auto* v : {&in.mean, &in.lo80, &in.hi80, &in.lo95, &in.hi95, &in.actual}) extend(lo, hi, any, *v);
  f.values = value_scale(lo, hi, any);

  std::string svg;
  svg.reserve(64 * 1024 + 40 * (shown + 6 * forecast_n));
  svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fixed(kWidth, 0) + "\" height=\"" +
         fixed(kHeight, 0) + "\" viewBox=\"0 0 " + fixed(kWidth, 0) + " " + fixed(kHeight, 0) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\" fill=\"" +
         std::string(kTextColor) + "\">\n";
  svg += "<title>" + xml_text(joined({in.client, in.model, in.metric_label})) + "</title>\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + fixed(kWidth, 0) + "\" height=\"" + fixed(kHeight, 0) +
         "\" fill=\"#ffffff\"/>\n";

  // Title and subtitle.
  svg += text(kLeft, 28, xml_text(joined({in.client, in.model}), kMaxTitleChars),
              " font-size=\"17\" font-weight=\"bold\"");
  std::string subtitle = xml_text(in.metric_label, kMaxTitleChars);
  if (shown < history_n) {
    if (!subtitle.empty()) subtitle += " \u00b7 ";
    subtitle += "history: last " + std::to_string(shown) + " of " + std::to_string(history_n) + " points";
  }
  svg += text(kLeft, 50, subtitle, " fill=\"#555555\"");

  // Grid and value axis.
  svg += "<g id=\"y-axis\">\n";
  for (const ValueTick& t : f.values.ticks) {
    double y = f.y(t.value);
    svg += hline(kLeft, kRight, y, kGridColor);
    svg += text(kLeft - 8, y + 4, t.label, " text-anchor=\"end\"");
  }
  svg += text(0, 0, xml_text(in.metric_label, kMaxTitleChars),
              " text-anchor=\"middle\" transform=\"translate(22," + fixed((kTop + kBottom) / 2) + ") rotate(-90)\"");
  svg += "</g>\n";

  // Time axis.
  svg += "<g id=\"x-axis\">\n";
  if (timed) {
    auto first_time = in.start + in.interval * static_cast<int64_t>(first);
    for (const TimeTick& t : time_ticks(first_time, f.lo, f.hi)) {
      double x = f.x_of_offset(t.offset);
      svg += vline(x, kTop, kBottom, kGridColor);
      svg += vline(x, kBottom, kBottom + 5, kAxisColor);
      svg += text(x, kBottom + 19, t.label, " text-anchor=\"middle\"");
      if (!t.date.empty()) svg += text(x, kBottom + 34, t.date, " text-anchor=\"middle\" fill=\"#555555\"");
    }
    svg += text((kLeft + kRight) / 2, kBottom + 56, "time (UTC), one point per " + format_duration(in.interval),
                " text-anchor=\"middle\" fill=\"#555555\"");
  } else {
    ValueScale idx = value_scale(static_cast<double>(first) + f.lo, static_cast<double>(first) + f.hi, true);
    for (const ValueTick& t : idx.ticks) {
      double offset = t.value - static_cast<double>(first);
      if (offset < f.lo || offset > f.hi || t.value != std::floor(t.value)) continue;  // whole points only
      double x = f.x_of_offset(offset);
      svg += vline(x, kTop, kBottom, kGridColor);
      svg += vline(x, kBottom, kBottom + 5, kAxisColor);
      svg += text(x, kBottom + 19, fixed(t.value, 0), " text-anchor=\"middle\"");
    }
    svg += text((kLeft + kRight) / 2, kBottom + 56, "point number (no interval given)",
                " text-anchor=\"middle\" fill=\"#555555\"");
  }
  svg += "</g>\n";

  // Data: bands under lines, the forecast over the history.
  std::vector<LegendItem> legend;
  svg += "<g id=\"data\">\n";
  const bool band95 = has_finite(in.lo95) && has_finite(in.hi95);
  const bool band80 = has_finite(in.lo80) && has_finite(in.hi80);
  if (band95) draw_band(svg, f, in.lo95, in.hi95, history_n, kBand95Color);
  if (band80) draw_band(svg, f, in.lo80, in.hi80, history_n, kBand80Color);
  if (shown > 0 && forecast_n > 0) {
    svg += vline(f.x(history_n), kTop, kBottom, "#999999", " stroke-dasharray=\"4,3\"");
  }
  if (has_finite(history)) {
    draw_line(svg, f, history, first, kHistoryColor, 1.2);
    legend.push_back({LegendItem::line, kHistoryColor, "history"});
  }
  if (has_finite(in.mean)) {
    draw_line(svg, f, in.mean, history_n, kMeanColor, 2);
    legend.push_back({LegendItem::line, kMeanColor, "forecast (mean)"});
  }
  if (band80) legend.push_back({LegendItem::band, kBand80Color, "80% interval"});
  if (band95) legend.push_back({LegendItem::band, kBand95Color, "95% interval"});
  if (has_finite(in.actual)) {
    draw_line(svg, f, in.actual, history_n, kActualColor, 1.5, " stroke-dasharray=\"5,3\"");
    if (in.actual.size() <= kMaxMarkers) draw_markers(svg, f, in.actual, history_n, kActualColor);
    legend.push_back({LegendItem::markers, kActualColor, "actual (held out)"});
  }
  if (legend.empty()) {
    svg += text((kLeft + kRight) / 2, (kTop + kBottom) / 2, "no data", " text-anchor=\"middle\" fill=\"#888888\"");
  }
  svg += "</g>\n";

  // Plot frame on top, so that lines at the edges do not hide it.
  svg += "<rect x=\"" + fixed(kLeft) + "\" y=\"" + fixed(kTop) + "\" width=\"" + fixed(kRight - kLeft) +
         "\" height=\"" + fixed(kBottom - kTop) + "\" fill=\"none\" stroke=\"" + std::string(kAxisColor) + "\"/>\n";
  svg += "<g id=\"legend\">\n";
  draw_legend(svg, legend);
  svg += "</g>\n";
  svg += "</svg>\n";
  return svg;
}

Status write_svg(const std::filesystem::path& file, const PlotInput& input) {
  std::string svg = render_svg(input);
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return error_from_errno(errno, "plot " + file.string() + ": create " + tmp.string());
  Status written = write_all(fd, svg, tmp);
  if (::close(fd) != 0 && written.ok()) written = error_from_errno(errno, "close " + tmp.string());
  if (written.ok() && ::rename(tmp.c_str(), file.c_str()) != 0) {
    written = error_from_errno(errno, "rename " + tmp.string() + " to " + file.string());
  }
  if (!written.ok()) {
    // The first failure is what matters; the temporary file is overwritten
    // by the next attempt anyway.
    (void)::unlink(tmp.c_str());
    return written.error().with_context("plot " + file.string());
  }
  return {};
}

std::string plot_file_name(std::string_view client) {
  static constexpr std::string_view kHex = "0123456789ABCDEF";
  constexpr std::size_t kMaxEscaped = 200;
  constexpr std::size_t kKeptWhenLong = 180;
  if (client.empty()) return "~.svg";
  std::string escaped;
  std::vector<std::size_t> boundaries;  // where each input byte's escape starts
  for (std::size_t i = 0; i < client.size(); ++i) {
    auto c = static_cast<unsigned char>(client[i]);
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                 c == '-' || c == '.';
    if (i == 0 && (c == '.' || c == '-')) plain = false;
    boundaries.push_back(escaped.size());
    if (plain) {
      escaped += static_cast<char>(c);
    } else {
      escaped += '~';
      escaped += kHex[c >> 4];
      escaped += kHex[c & 0xF];
    }
  }
  if (escaped.size() > kMaxEscaped) {
    auto cut = std::upper_bound(boundaries.begin(), boundaries.end(), kKeptWhenLong);
    std::size_t keep = *std::prev(cut);
    escaped.resize(keep);
    uint64_t h = fnv1a64(client);
    escaped += "~~";
    for (int shift = 60; shift >= 0; shift -= 4) escaped += kHex[(h >> shift) & 0xF];
  }
  return escaped + ".svg";
}

}  // namespace aiops::forecast
