#pragma once
// One client's history and forecast as a self-contained SVG image that a
// person opens in a browser (`aiops forecast --plot DIR`).
//
// What the picture holds (1000 x 560 px, white background):
//   * a title "<client> · <model>" and a subtitle with the metric label and,
//     when the history was cut (below), how much of it is shown;
//   * the history as a dark line;
//   * the 95% and 80% prediction intervals as shaded bands (95% lighter,
//     drawn first) and the forecast mean as a blue line over them;
//   * held-out actuals (a backtest) as an orange line with point markers
//     (markers only while there are at most 400 of them);
//   * a dashed vertical line where the forecast begins;
//   * an x axis of UTC times: ticks at whole multiples of a step chosen from
//     1ms ... 1s, 2s, 5s, 10s, 15s, 30s, 1m, 2m, 5m, 10m, 15m, 30m, 1h, 2h,
//     3h, 6h, 12h, 1d, 2d, 7d (weeks start on Monday), 14d, 28d, ... so that
//     there are at most 10 steps across the plot; labels "HH:MM" (or
//     "HH:MM:SS", "HH:MM:SS.mmm" for short steps) with the date under the
//     first tick and under every tick whose date differs from the previous
//     one, or "YYYY-MM-DD" for steps of a day or more. A non-positive
//     interval has no times: the axis then counts points;
//   * a y axis with "nice" ticks (1, 2 or 5 times a power of ten, about 5
//     steps), labels shortened with k/M/G/T/P/E (powers of 1000) from 10^4
//     up, and the metric label as the axis title. The axis starts at 0 when
//     all values are >= 0 and the smallest is at most half the largest (load
//     is read against zero), otherwise it fits the data;
//   * a legend of the elements that are present.
//
// History cut: only the last `max_history_points` values of the history are
// drawn (default 2880, two days of 1-minute intervals: enough to show the
// daily cycle the forecast continues, while the forecast keeps a readable
// share of the width). The subtitle then says "history: last N of M points".
//
// Point i of the history lies at start + i·interval; forecast point j (and
// actual j) at start + (history.size() + j)·interval. The four interval
// vectors are aligned with `mean`; a band is drawn over the points where both
// its ends are finite, a line over its finite points (a NaN leaves a gap), a
// lone finite point as a dot. Vectors may be empty; `actual` may be shorter
// or longer than `mean`.
//
// Text (client, model, metric label) is escaped for XML; bytes that are not
// valid UTF-8 and characters XML 1.0 forbids become U+FFFD, so any client
// name gives a well-formed file. Titles longer than 110 characters are cut
// with "…". No scripts, no external fonts, images or style sheets.
//
// File names (plot_file_name): the client name with every byte outside
// [A-Za-z0-9_.-] written as "~XX" (two upper-case hex digits; '~' itself
// too), and a leading '.' or '-' escaped as well (no hidden files, no names
// that look like options), then ".svg". The empty name gives "~.svg". Names
// whose escaped form exceeds 200 bytes keep their first 180 escaped bytes
// (never splitting an escape) followed by "~~" and the 16 hex digits of the
// 64-bit FNV-1a hash of the whole name. Distinct names give distinct file
// names: escaping is reversible, "~" alone and "~~" never occur in an escaped
// name, so only two long names with the same first 180 bytes and the same
// hash could collide. Case is kept, so on a case-insensitive file system
// "A" and "a" would collide.
//
// write_svg replaces the file atomically (write "<file>.tmp", then rename),
// so a browser reloading it sees the old or the new picture. It does not
// fsync: plots are reproducible output. The directory must exist; two
// processes writing the same plot at once are not supported.
// Thread-safety: pure functions apart from write_svg's file system calls.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "aiops/core/error.hpp"

namespace aiops::forecast {

inline constexpr std::size_t kDefaultMaxHistoryPoints = 2880;

struct PlotInput {
  std::string client;
  std::string model;         // e.g. "ARIMA(1,0,1)(0,1,1)[24]"
  std::string metric_label;  // e.g. "operations per 1m"; also the y axis title
  std::chrono::sys_time<std::chrono::nanoseconds> start;  // time of history[0]
  std::chrono::nanoseconds interval{0};                   // spacing of the points
  std::vector<double> history;
  // Forecast, starting right after the history; lo/hi aligned with mean.
  std::vector<double> mean, lo80, hi80, lo95, hi95;
  // Held-out actuals aligned with the forecast (backtest); may be empty.
  std::vector<double> actual;
  std::size_t max_history_points = kDefaultMaxHistoryPoints;  // history cut, see above
};

/// The whole SVG document.
[[nodiscard]] std::string render_svg(const PlotInput& input);

/// Renders and atomically replaces `file`. Errors name the file.
[[nodiscard]] Status write_svg(const std::filesystem::path& file, const PlotInput& input);

/// A safe, stable file name (with ".svg") for the plot of `client`; distinct
/// clients get distinct names (see above).
[[nodiscard]] std::string plot_file_name(std::string_view client);

}  // namespace aiops::forecast
