// Priority scoring (priority.hpp).
#include "aiops/forecast/priority.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "aiops/config/toml_text.hpp"

namespace aiops::forecast {
namespace {

using config::toml_string;
using Statistic = config::ForecastConfig::Statistic;

std::string config_name(const config::Config& config) {
  return config.source_file.empty() ? "the configuration" : config.source_file.string();
}

Status check_total(const ClientForecast& f, const WindowTotal& total, std::string_view what) {
  for (double value : {total.mean, total.upper80, total.upper95})
    if (!std::isfinite(value) || value < 0)
      return Error(Errc::invalid_argument, "client " + toml_string(f.client) + ": the predicted " + std::string(what) +
                                               " total " + std::to_string(value) + " is not a number >= 0");
  return {};
}

Status check_forecasts(std::span<const ClientForecast> forecasts) {
  std::set<std::string_view> seen;
  for (const ClientForecast& f : forecasts) {
    if (f.client.empty()) return Error(Errc::invalid_argument, "a forecast names no client");
    if (!seen.insert(f.client).second)
      return Error(Errc::invalid_argument, "client " + toml_string(f.client) + " has more than one forecast");
    AIOPS_TRY(check_total(f, f.ops, "operations"));
    AIOPS_TRY(check_total(f, f.bytes, "bytes"));
  }
  return {};
}

// A client with a forecast, scored with `weight`.
ClientScore scored(const ClientForecast& f, Statistic statistic, double weight) {
  ClientScore s;
  s.client = f.client;
  s.has_forecast = true;
  s.weight = weight;
  s.predicted_ops = pick(f.ops, statistic);
  s.predicted_bytes = pick(f.bytes, statistic);
  s.score = weight * s.predicted_ops;
  s.forecast = f;
  return s;
}

// Score descending, then weight descending, then name: a total order on
// distinct names, so the ranks do not depend on the input order.
bool ranks_before(const ClientScore& a, const ClientScore& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.weight != b.weight) return a.weight > b.weight;
  return a.client < b.client;
}

specbuf::ClientPriority entry_for(const ClientScore& s, std::chrono::nanoseconds interval,
                                  std::chrono::nanoseconds window) {
  specbuf::ClientPriority e(s.client, s.id, s.score, s.rank);
  if (s.has_forecast) {
    e.predicted_ops = s.predicted_ops;
    e.predicted_bytes = s.predicted_bytes;
    e.interval = interval;
    e.window = window;
    e.model = s.forecast.model;
  }
  e.app_type = std::string(to_string(s.app_type.type));
  return e;
}

}  // namespace

double pick(const WindowTotal& total, Statistic statistic) noexcept {
  switch (statistic) {
    case Statistic::mean: return total.mean;
    case Statistic::upper80: return total.upper80;
    case Statistic::upper95: return total.upper95;
  }
  return total.mean;
}

Result<Priorities> score_priorities(const config::Config* config, std::span<const ClientForecast> forecasts,
                                    std::chrono::nanoseconds interval, std::chrono::nanoseconds window) {
  if (interval.count() <= 0 || window.count() <= 0)
    return Error(Errc::invalid_argument, "priority scoring needs an interval and a window of more than 0");
  AIOPS_TRY(check_forecasts(forecasts));

  Priorities out;
  out.statistic = config != nullptr ? config->forecast.statistic : Statistic::mean;
  out.interval = interval;
  out.window = window;
  out.list.source = "forecast";

  std::vector<ClientScore> listed;
  std::vector<ClientScore> left_out;
  if (config == nullptr) {
    for (const ClientForecast& f : forecasts) {
      ClientScore s = scored(f, out.statistic, 1.0);
      s.app_type = infer_app_type(f.mix);
      listed.push_back(std::move(s));
    }
  } else {
    std::map<std::string_view, const ClientForecast*> by_name;
    for (const ClientForecast& f : forecasts) by_name.emplace(f.client, &f);
    for (const config::ClientConfig& client : config->clients) {
      auto sla = config->sla.find(client.sla);
      // A loaded Config defines every class its clients name; a hand-built
      // one may not, and then the default weight of a class stands.
      const double weight = sla != config->sla.end() ? sla->second.weight : config::SlaClass{}.weight;
      ClientScore s;
      if (auto it = by_name.find(client.name); it != by_name.end()) {
        s = scored(*it->second, out.statistic, weight);
        s.app_type = resolve_app_type(client.app_type, it->second->mix);
        by_name.erase(it);
      } else {
        s.client = client.name;
        s.weight = weight;
        s.app_type = resolve_app_type(client.app_type, IoMix{});
        if (s.app_type.source == AppTypeResult::Source::inferred) s.app_type.reason = "not in the trace";
        out.warnings.push_back("client " + toml_string(client.name) + " of " + config_name(*config) +
                               " is not in the trace: score 0");
      }
      s.id = client.id;
      s.configured = true;
      s.sla = client.sla;
      listed.push_back(std::move(s));
    }
    // What is left is in the trace only; by_name keeps it in name order.
    for (const auto& [name, f] : by_name) {
      ClientScore s = scored(*f, out.statistic, 1.0);
      s.app_type = infer_app_type(f->mix);
      left_out.push_back(std::move(s));
      out.warnings.push_back("client " + toml_string(name) + " is in the trace but not in " + config_name(*config) +
                             ": left out of the priority list");
    }
  }

  for (const ClientScore& s : listed)
    if (!std::isfinite(s.score))
      return Error(Errc::invalid_argument, "client " + toml_string(s.client) + ": the score (weight " +
                                               std::to_string(s.weight) + " times " + std::to_string(s.predicted_ops) +
                                               ") is not finite");
  std::sort(listed.begin(), listed.end(), ranks_before);
  for (std::size_t i = 0; i < listed.size(); ++i) {
    listed[i].listed = true;
    listed[i].rank = static_cast<uint32_t>(i + 1);
    out.list.clients.push_back(entry_for(listed[i], interval, window));
  }
  out.clients = std::move(listed);
  out.clients.insert(out.clients.end(), std::make_move_iterator(left_out.begin()),
                     std::make_move_iterator(left_out.end()));
  return out;
}

}  // namespace aiops::forecast
