#pragma once
// Priority scoring: from each client's forecast for the update window to
// the priority list the worker puts in force during a live update
// (specbuf/priority_list.hpp), with the details `aiops forecast` shows.
//
//   score = SLA weight × predicted load in the window
//
// where the predicted load is the total of the predicted operations over
// the window (ClientForecast::ops), taken at the statistic that
// forecast.statistic of aiops.toml chooses: the mean, or the upper end of
// the 80% or 95% prediction interval ("upper80", "upper95"). An upper
// quantile favours clients whose load may burst over those with the same
// expected but steadier load. The SLA weight is that of the client's
// [[client]] sla class.
//
// Which clients the list holds:
//   * with a configuration, every configured client exactly once (as the
//     loader of the file requires): those the trace has are scored; those
//     it lacks get score 0 and no predicted load, and a warning. Clients in
//     the trace that the configuration does not name are left out of the
//     list (it could not be loaded against that configuration) with a
//     warning; their details are still reported, scored as without a
//     configuration.
//   * without a configuration, every client in the trace, weight 1, SLA
//     class "none", id 0, statistic "mean".
// Ranks: by score descending; equal scores by SLA weight descending, then
// by name, so the same input always gives the same list.
//
// Each list entry carries the optional keys of the file: predicted_ops and
// predicted_bytes (the chosen statistic of each total), interval, window and
// model for the clients that have a forecast, and the application type
// (app_type.hpp) for every client. The list's source is "forecast"; its
// `generated` is left to the caller (the time the forecast ran).
//
// The functions keep no state; any thread may call them.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "aiops/config/config.hpp"
#include "aiops/core/error.hpp"
#include "aiops/forecast/app_type.hpp"
#include "aiops/forecast/client_forecast.hpp"
#include "aiops/specbuf/priority_list.hpp"

namespace aiops::forecast {

/// One client as scored, for the CLI (table and JSON).
struct ClientScore {
  std::string client;
  uint32_t id = 0;           // from the configuration; 0 when it does not name the client
  bool configured = false;   // the configuration names the client
  bool has_forecast = false;  // the trace has the client
  bool listed = false;       // in the priority list (rank > 0)
  std::string sla = "none";  // its SLA class; "none" when not configured
  double weight = 1;         // the weight of that class
  double predicted_ops = 0;    // the statistic of forecast.ops; 0 without a forecast
  double predicted_bytes = 0;  // the statistic of forecast.bytes
  double score = 0;            // weight × predicted_ops
  uint32_t rank = 0;           // in the list, 1 first; 0 when not listed
  AppTypeResult app_type;
  ClientForecast forecast;  // as given (all zero without a forecast)
};

struct Priorities {
  specbuf::PriorityList list;
  config::ForecastConfig::Statistic statistic = config::ForecastConfig::Statistic::mean;
  std::chrono::nanoseconds interval{0};
  std::chrono::nanoseconds window{0};
  // The listed clients by rank, then those left out of the list by name.
  std::vector<ClientScore> clients;
  // One line each: clients in the trace but not configured, and configured
  // clients missing from the trace.
  std::vector<std::string> warnings;
};

/// The value of `total` that `statistic` chooses.
[[nodiscard]] double pick(const WindowTotal& total, config::ForecastConfig::Statistic statistic) noexcept;

/// Scores `forecasts` (one per client, made with series of step `interval`
/// for a window of length `window`) against `config`, which may be nullptr
/// (see above). Errors (Errc::invalid_argument, naming the client): two
/// forecasts for one client, an empty client name, a total that is
/// negative or not finite, a score that is not finite, an interval or
/// window that is not more than 0.
[[nodiscard]] Result<Priorities> score_priorities(const config::Config* config,
                                                  std::span<const ClientForecast> forecasts,
                                                  std::chrono::nanoseconds interval,
                                                  std::chrono::nanoseconds window);

}  // namespace aiops::forecast
