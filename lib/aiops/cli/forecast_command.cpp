// `aiops forecast --trace FILE`: per-client load forecasts from an I/O trace,
// the priority scores they give, and optionally a backtest, SVG plots and the
// priority list file the worker loads (forecast.priority_file).

#include <cctype>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/cli/instance.hpp"
#include "aiops/core/units.hpp"
#include "aiops/forecast/batch.hpp"
#include "aiops/forecast/plot_svg.hpp"
#include "aiops/forecast/priority.hpp"
#include "aiops/forecast/series.hpp"
#include "aiops/forecast/trace_reader.hpp"

namespace aiops::cli {
namespace {

using namespace std::chrono;
using Time = sys_time<nanoseconds>;

struct ForecastOptions {
  std::string trace;
  std::string format = "auto";
  std::string interval;
  std::string window;
  std::string horizon;
  std::size_t season = 0;
  std::string config;
  std::string out;
  std::string plot;
  std::size_t backtest = 0;
  unsigned jobs = 0;
  bool json = false;
};

[[noreturn]] void usage(const std::string& message) { throw CommandFailed(Error(Errc::invalid_argument, message), exit_usage); }

nanoseconds duration_option(const std::string& name, const std::string& text) {
  auto d = parse_duration(text);
  if (!d.ok()) usage(name + ": " + d.error().message());
  if (d.value() <= nanoseconds::zero()) usage(name + ": must be more than 0s");
  return d.value();
}

// "2026-11-26T02:00:00Z", "2026-11-26T02:00Z", or with a zone offset
// "+01:00", "+0100" or "+01" instead of Z.
Time parse_instant(const std::string& name, const std::string& text) {
  const std::string bad = name + ": \"" + text + "\" is not a date-time like 2026-11-26T02:00:00Z";
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &consumed) != 5) usage(bad);
  std::string rest = text.substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && rest[0] == ':') {
    int used = 0;
    if (std::sscanf(rest.c_str(), ":%2d%n", &s, &used) != 1 || used != 3) usage(bad);
    rest = rest.substr(3);
  }
  minutes offset{0};
  auto two_digits = [&](std::size_t at) {
    if (at + 2 > rest.size() || !std::isdigit(static_cast<unsigned char>(rest[at])) ||
        !std::isdigit(static_cast<unsigned char>(rest[at + 1])))
      usage(name + ": bad zone offset in \"" + text + "\"");
    return (rest[at] - '0') * 10 + (rest[at + 1] - '0');
  };
  if (rest == "Z" || rest == "z") {
  } else if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    // +HH, +HHMM or +HH:MM
    const int oh = two_digits(1);
    int om = 0;
    if (rest.size() == 6 && rest[3] == ':') om = two_digits(4);
    else if (rest.size() == 5) om = two_digits(3);
    else if (rest.size() != 3) usage(name + ": bad zone offset in \"" + text + "\"");
    if (oh > 23 || om > 59) usage(name + ": bad zone offset in \"" + text + "\"");
    offset = hours{oh} + minutes{om};
    if (rest[0] == '-') offset = -offset;
  } else if (rest.empty()) {
    usage(name + ": \"" + text + "\" has no zone; add Z (UTC) or an offset such as +01:00");
  } else {
    usage(bad);
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) usage(name + ": \"" + text + "\" is not a valid date-time");
  return Time{sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} - offset};
}

std::size_t ceil_steps(nanoseconds d, nanoseconds interval) {
  return static_cast<std::size_t>((d.count() + interval.count() - 1) / interval.count());
}

// Progress on stderr when it is a terminal; nothing otherwise. The line is
// cleared when the object goes, also when an error ends the command, so an
// error message does not land at the end of a bar.
struct Progress {
  bool on = stderr_is_tty();
  Progress() = default;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { clear(); }
  void show(const std::string& what, double fraction) const {
    if (!on) return;
    shown = true;
    const int width = 30, filled = static_cast<int>(fraction * width + 0.5);
    std::fprintf(stderr, "\r%-18s [%s%s] %3d%%", what.c_str(), std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), static_cast<int>(fraction * 100 + 0.5));
    std::fflush(stderr);
  }
  void clear() const {
    if (on && shown) std::fprintf(stderr, "\r%70s\r", "");
    shown = false;
  }
  mutable bool shown = false;
};

nlohmann::json opt_number(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json total_json(const forecast::WindowTotal& t) {
  return {{"mean", t.mean}, {"upper80", t.upper80}, {"upper95", t.upper95}};
}

nlohmann::json path_json(const forecast::SeriesForecast& f, Time first, nanoseconds interval) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < f.mean.size(); ++i)
    out.push_back({{"time", format_utc(first + interval * static_cast<long>(i))},
                   {"mean", f.mean[i]},
                   {"lo80", f.lo80[i]},
                   {"hi80", f.hi80[i]},
                   {"lo95", f.lo95[i]},
                   {"hi95", f.hi95[i]}});
  return out;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string opt_fixed(const std::optional<double>& v, int decimals) { return v ? fixed(*v, decimals) : "-"; }

int run_forecast(const ForecastOptions& opt) {
  if (!opt.window.empty() && !opt.horizon.empty()) usage("--window and --horizon exclude each other");
  if (!opt.out.empty() && opt.config.empty())
    usage("--out needs --config: the priority list names the clients of a configuration");
  const auto format = forecast::parse_trace_format(opt.format);
  if (!format.ok()) usage("--format: " + format.error().message());

  std::optional<config::Config> config;
  if (!opt.config.empty()) config = load_instance_config(opt.config);
  const config::ForecastConfig fc = config ? config->forecast : config::ForecastConfig{};

  // The window's options are checked before the trace is read, which can
  // take minutes; whether it starts after the trace is known only after.
  std::optional<Time> asked_start;
  nanoseconds window_length = fc.horizon;
  if (!opt.horizon.empty()) window_length = duration_option("--horizon", opt.horizon);
  if (!opt.window.empty()) {
    const auto slash = opt.window.find('/');
    if (slash == std::string::npos) usage("--window: expected START/DURATION, e.g. 2026-11-26T02:00:00Z/30m");
    asked_start = parse_instant("--window", opt.window.substr(0, slash));
    window_length = duration_option("--window", opt.window.substr(slash + 1));
  }

  // The step: --interval, else the trace's own step (series and worker
  // traces have one), else the configuration's forecast.interval.
  const auto reader = need(forecast::TraceReader::open(opt.trace, format.value()));
  const bool has_own_step =
      reader.format() == forecast::TraceFormat::series || reader.format() == forecast::TraceFormat::worker;
  nanoseconds interval = !opt.interval.empty() ? duration_option("--interval", opt.interval)
                         : has_own_step         ? nanoseconds::zero()
                                                : fc.interval;

  Progress progress;
  const auto t_read = steady_clock::now();
  forecast::SeriesSet set = need(forecast::read_trace(opt.trace, reader.format(), interval, [&](uint64_t done, uint64_t total) {
    progress.show("reading trace", total ? static_cast<double>(done) / static_cast<double>(total) : 1.0);
  }));
  progress.clear();
  const double read_seconds = duration<double>(steady_clock::now() - t_read).count();
  interval = set.interval;
  const Time history_end = set.start + interval * static_cast<long>(set.length);

  // The window.
  forecast::BatchOptions batch;
  Time window_start = asked_start.value_or(history_end);
  if (window_start < history_end)
    usage("--window: starts at " + format_utc(window_start) + ", before the trace ends (" + format_utc(history_end) + ")");
  // The window covers every interval it touches: from the one holding its
  // start to the one holding its last instant.
  const std::size_t skip = static_cast<std::size_t>((window_start - history_end) / interval);
  batch.plan.window_start = skip;
  batch.plan.horizon = std::max<std::size_t>(skip + 1, ceil_steps(window_start + window_length - history_end, interval));
  constexpr std::size_t max_horizon = 100'000;
  if (batch.plan.horizon > max_horizon)
    usage("the window ends " + std::to_string(batch.plan.horizon) + " intervals after the trace; at most " +
          std::to_string(max_horizon) + " (use a longer --interval or an earlier window)");

  // Cycles, in intervals.
  std::vector<std::string> notes;
  if (opt.season > 0) {
    batch.plan.seasons = {opt.season};
  } else {
    for (nanoseconds s : fc.seasons) {
      if (s % interval != nanoseconds::zero()) {
        notes.push_back("season " + format_duration(s) + " is not a multiple of the interval " +
                        format_duration(interval) + "; not used");
        continue;
      }
      batch.plan.seasons.push_back(static_cast<std::size_t>(s / interval));
    }
  }
  batch.backtest = opt.backtest;
  batch.jobs = opt.jobs;
  batch.progress = [&](std::size_t done, std::size_t total) {
    progress.show("fitting models", static_cast<double>(done) / static_cast<double>(total));
  };
  forecast::BatchTiming timing;
  std::vector<forecast::ClientResult> results = forecast::forecast_all(set, batch, &timing);
  progress.clear();

  std::vector<forecast::ClientForecast> summaries;
  summaries.reserve(results.size());
  for (const auto& r : results) summaries.push_back(r.summary);
  const nanoseconds window = interval * static_cast<long>(batch.plan.horizon - batch.plan.window_start);
  // Reported as the intervals forecast, which hold the window asked for.
  window_start = history_end + interval * static_cast<long>(batch.plan.window_start);
  forecast::Priorities prio = need(forecast::score_priorities(config ? &*config : nullptr, summaries, interval, window));
  prio.list.generated = time_point_cast<system_clock::duration>(system_clock::now());

  if (!opt.out.empty()) need(specbuf::save_priority_list(opt.out, prio.list));

  if (!opt.plot.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opt.plot, ec);
    if (ec) throw CommandFailed(error_from_errno(ec.value(), "create --plot directory " + opt.plot));
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      const auto& series = set.clients[i];
      forecast::PlotInput in;
      in.client = r.client;
      in.metric_label = "operations per " + format_duration(interval);
      in.interval = interval;
      in.start = set.start;
      in.history.assign(series.ops.begin(), series.ops.end());
      const forecast::SeriesForecast* f = &r.ops;
      if (r.backtest.done) {
        in.history.resize(in.history.size() - opt.backtest);
        f = &r.backtest.forecast;
        in.actual = r.backtest.actual;
        in.model = f->model + " (backtest, " + std::to_string(opt.backtest) + " held out)";
      } else {
        in.model = f->model;
      }
      in.mean = f->mean;
      in.lo80 = f->lo80;
      in.hi80 = f->hi80;
      in.lo95 = f->lo95;
      in.hi95 = f->hi95;
      need(forecast::write_svg(std::filesystem::path(opt.plot) / forecast::plot_file_name(r.client), in));
    }
  }

  // Backtest summary over the clients it ran for.
  std::size_t bt_count = 0, bt_mase_count = 0, bt_snaive_count = 0;
  double bt_mase = 0, bt_mase_snaive = 0, bt_smape = 0, bt_smape_snaive = 0;
  for (const auto& r : results) {
    if (!r.backtest.done) continue;
    ++bt_count;
    if (r.backtest.mase) bt_mase += *r.backtest.mase, ++bt_mase_count;
    if (r.backtest.mase_snaive) bt_mase_snaive += *r.backtest.mase_snaive, ++bt_snaive_count;
    bt_smape += r.backtest.smape.value_or(0);
    bt_smape_snaive += r.backtest.smape_snaive.value_or(0);
  }
  auto mean_of = [](double sum, std::size_t n) { return n ? nlohmann::json(sum / static_cast<double>(n)) : nlohmann::json(nullptr); };

  const Time forecast_first = history_end;
  const Time window_end = window_start + window;
  if (opt.json) {
    nlohmann::json clients = nlohmann::json::array();
    std::map<std::string, const forecast::ClientScore*> scores;
    for (const auto& s : prio.clients) scores[s.client] = &s;
    for (const auto& r : results) {
      nlohmann::json c = {{"client", r.client},
                          {"model", r.ops.model},
                          {"fallback", r.ops.fallback},
                          {"reason", r.ops.fallback ? nlohmann::json(r.ops.reason) : nlohmann::json(nullptr)},
                          {"period", r.ops.period},
                          {"predicted_ops", total_json(r.ops.total)},
                          {"predicted_bytes", r.bytes ? total_json(r.bytes->total) : nlohmann::json(nullptr)},
                          {"forecast", path_json(r.ops, forecast_first, interval)}};
      if (const auto it = scores.find(r.client); it != scores.end()) {
        const auto& s = *it->second;
        c["sla"] = s.sla;
        c["weight"] = s.weight;
        c["score"] = s.score;
        c["rank"] = s.listed ? nlohmann::json(s.rank) : nlohmann::json(nullptr);
        c["app_type"] = std::string(forecast::to_string(s.app_type.type));
        c["app_type_source"] = std::string(forecast::to_string(s.app_type.source));
        c["app_type_reason"] = s.app_type.reason;
      }
      if (opt.backtest > 0) {
        const auto& b = r.backtest;
        c["mase"] = opt_number(b.mase);
        c["smape"] = opt_number(b.smape);
        c["mase_snaive"] = opt_number(b.mase_snaive);
        c["smape_snaive"] = opt_number(b.smape_snaive);
        c["backtest"] = b.done ? nlohmann::json{{"model", b.forecast.model},
                                                {"period", b.period},
                                                {"actual", b.actual},
                                                {"forecast", path_json(b.forecast, history_end - interval * static_cast<long>(opt.backtest), interval)}}
                               : nlohmann::json{{"skipped", b.skipped}};
      }
      clients.push_back(std::move(c));
    }
    nlohmann::json doc = {
        {"trace", opt.trace},
        {"format", std::string(forecast::to_string(set.format))},
        {"interval", format_duration(interval)},
        {"interval_seconds", duration<double>(interval).count()},
        {"start", format_utc(set.start)},
        {"end", format_utc(history_end)},
        {"intervals", set.length},
        {"records", set.records},
        {"seasons", batch.plan.seasons},
        {"window", {{"start", format_utc(window_start)}, {"end", format_utc(window_end)}, {"intervals", batch.plan.horizon - batch.plan.window_start}}},
        {"statistic", std::string(config::to_string(prio.statistic))},
        {"timing", {{"read_seconds", read_seconds}, {"backtest_seconds", timing.backtest_seconds},
                    {"forecast_seconds", timing.forecast_seconds},
                    {"jobs", opt.jobs ? opt.jobs : std::max(1u, std::thread::hardware_concurrency())}}},
        {"priority_file", opt.out.empty() ? nlohmann::json(nullptr) : nlohmann::json(opt.out)},
        {"plots", opt.plot.empty() ? nlohmann::json(nullptr) : nlohmann::json(opt.plot)},
        {"warnings", prio.warnings},
        {"notes", notes},
        {"clients", std::move(clients)}};
    nlohmann::json ranking = nlohmann::json::array();
    for (const auto& p : prio.list.clients) ranking.push_back({{"client", p.name}, {"rank", p.rank}, {"score", p.score}});
    doc["priorities"] = std::move(ranking);
    if (opt.backtest > 0)
      doc["backtest"] = {{"holdout", opt.backtest}, {"clients", bt_count},
                         {"mean_mase", mean_of(bt_mase, bt_mase_count)},
                         {"mean_mase_snaive", mean_of(bt_mase_snaive, bt_snaive_count)},
                         {"mean_smape", mean_of(bt_smape, bt_count)},
                         {"mean_smape_snaive", mean_of(bt_smape_snaive, bt_count)}};
    print_json(doc);
    return exit_ok;
  }

  std::cout << "trace " << opt.trace << ": " << forecast::to_string(set.format) << ", " << set.clients.size()
            << " clients, " << set.length << " intervals of " << format_duration(interval) << " from "
            << format_utc(set.start) << " to " << format_utc(history_end) << "\n";
  std::cout << "window " << format_utc(window_start) << " to " << format_utc(window_end) << " (" << format_duration(window)
            << "); score = SLA weight x predicted operations (" << config::to_string(prio.statistic) << ")\n\n";
  std::printf("%-4s %-20s %-8s %6s %14s %14s %14s  %-10s %s\n", "rank", "client", "sla", "weight", "predicted ops",
              "upper 95%", "score", "app type", "model");
  std::map<std::string, const forecast::ClientResult*> by_name;
  for (const auto& r : results) by_name[r.client] = &r;
  for (const auto& s : prio.clients) {
    const auto it = by_name.find(s.client);
    const std::string model = it == by_name.end() ? "(not in the trace)" : it->second->ops.model;
    std::printf("%-4s %-20s %-8s %6g %14s %14s %14s  %-10s %s\n", s.listed ? std::to_string(s.rank).c_str() : "-",
                s.client.c_str(), s.sla.c_str(), s.weight, fixed(s.forecast.ops.mean, 0).c_str(),
                fixed(s.forecast.ops.upper95, 0).c_str(), fixed(s.score, 1).c_str(),
                std::string(forecast::to_string(s.app_type.type)).c_str(), model.c_str());
  }
  for (const auto& r : results)
    if (r.ops.fallback) std::cout << "note: " << r.client << ": " << r.ops.model << " because " << r.ops.reason << "\n";
  for (const auto& n : notes) std::cout << "note: " << n << "\n";
  for (const auto& w : prio.warnings) std::cout << "warning: " << w << "\n";
  if (opt.backtest > 0) {
    std::cout << "\nbacktest: last " << opt.backtest << " intervals held out\n";
    std::printf("%-20s %8s %8s %13s %14s  %s\n", "client", "MASE", "sMAPE", "MASE snaive", "sMAPE snaive", "model");
    for (const auto& r : results) {
      if (!r.backtest.done) {
        std::printf("%-20s skipped: %s\n", r.client.c_str(), r.backtest.skipped.c_str());
        continue;
      }
      std::printf("%-20s %8s %8s %13s %14s  %s\n", r.client.c_str(), opt_fixed(r.backtest.mase, 3).c_str(),
                  opt_fixed(r.backtest.smape, 1).c_str(), opt_fixed(r.backtest.mase_snaive, 3).c_str(),
                  opt_fixed(r.backtest.smape_snaive, 1).c_str(), r.backtest.forecast.model.c_str());
    }
    if (bt_mase_count > 0 && bt_snaive_count > 0)
      std::cout << "mean MASE " << fixed(bt_mase / static_cast<double>(bt_mase_count), 3) << " (seasonal naive "
                << fixed(bt_mase_snaive / static_cast<double>(bt_snaive_count), 3) << ")\n";
  }
  if (!opt.out.empty()) std::cout << "\npriority list written to " << opt.out << "\n";
  if (!opt.plot.empty())
    std::cout << (opt.out.empty() ? "\n" : "") << "plots written to " << opt.plot
              << (opt.plot.back() == '/' ? "" : "/") << "\n";
  return exit_ok;
}

}  // namespace

void add_forecast_commands(CLI::App& app, Action& action) {
  auto opt = std::make_shared<ForecastOptions>();
  CLI::App* cmd = app.add_subcommand(
      "forecast", "Forecast each client's load from an I/O trace and score its priority for a live update");
  cmd->add_option("--trace", opt->trace, "Trace file, or the worker's trace/ directory")->required();
  cmd->add_option("--format", opt->format, "auto (default), native, msr, series or worker")
      ->check(CLI::IsMember({"auto", "native", "msr", "series", "worker"}));
  cmd->add_option("--interval", opt->interval,
                  "Length of one step, e.g. 1m (default: the trace's own step for series and worker traces, "
                  "else forecast.interval)");
  cmd->add_option("--window", opt->window, "Update window START/DURATION, e.g. 2026-11-26T02:00:00Z/30m");
  cmd->add_option("--horizon", opt->horizon, "Window right after the trace, e.g. 15m (default: forecast.horizon)");
  cmd->add_option("--season", opt->season, "One cycle of N intervals instead of forecast.seasons")
      ->check(CLI::Range(std::size_t{2}, std::size_t{1'000'000}));
  cmd->add_option("--config", opt->config, "aiops.toml: SLA weights, application types, statistic, seasons");
  cmd->add_option("--out", opt->out, "Write the priority list (TOML) the worker loads; needs --config");
  cmd->add_option("--plot", opt->plot, "Write one SVG per client into this directory");
  cmd->add_option("--backtest", opt->backtest, "Hold out the last N intervals and report MASE and sMAPE")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  cmd->add_option("--jobs", opt->jobs, "Threads fitting models (default: all cores)")
      ->check(CLI::Range(1u, 1024u));
  cmd->add_flag("--json", opt->json, "Print the result as JSON");
  cmd->callback([opt, &action] { action = [opt] { return run_forecast(*opt); }; });
}

}  // namespace aiops::cli
