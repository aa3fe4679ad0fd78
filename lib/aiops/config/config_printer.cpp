#include "aiops/config/config_printer.hpp"

#include "aiops/config/toml_text.hpp"
#include "aiops/core/units.hpp"

namespace aiops::config {
namespace {

// One document builds both outputs, so TOML and JSON cannot drift apart.
// It is a template because the TOML text keeps the schema's key order
// (ordered_json) while to_json returns the library's ordinary json type.
template <class Json>
Json worker_document(const WorkerConfig& w) {
  Json out;
  out["name"] = w.name;
  out["data_dir"] = w.data_dir.string();
  out["control_socket"] = w.control_socket.string();
  out["credentials_file"] = w.credentials_file.string();
  out["shutdown_timeout"] = format_duration(w.shutdown_timeout);
  out["trace_interval"] = format_duration(w.trace_interval);
  out["max_connections"] = w.max_connections;
  out["max_request_size"] = format_size(w.max_request_size_bytes);
  out["max_outstanding"] = w.max_outstanding;
  out["idle_timeout"] = format_duration(w.idle_timeout);
  out["io_threads"] = w.io_threads;
  return out;
}

template <class Json>
Json log_document(const LogConfig& l) {
  Json out;
  out["segment_size"] = format_size(l.segment_size_bytes);
  out["group_commit_bytes"] = format_size(l.group_commit_bytes);
  out["group_commit_delay"] = format_duration(l.group_commit_delay);
  out["ack"] = to_string(l.ack);
  out["checkpoint_interval"] = format_duration(l.checkpoint_interval);
  out["checkpoint_bytes"] = format_size(l.checkpoint_bytes);
  return out;
}

template <class Json>
Json client_document(const ClientConfig& c) {
  Json out;
  out["name"] = c.name;
  out["id"] = c.id;
  out["sla"] = c.sla;
  out["token_sha256"] = c.token_sha256;
  out["access"] = Json::object();
  for (const auto& [volume, access] : c.access) out["access"][volume] = to_string(access);
  out["app_type"] = c.app_type;
  return out;
}

template <class Json>
Json forecast_document(const ForecastConfig& f) {
  Json out;
  out["interval"] = format_duration(f.interval);
  out["horizon"] = format_duration(f.horizon);
  out["statistic"] = to_string(f.statistic);
  out["seasons"] = Json::array();
  for (auto season : f.seasons) out["seasons"].push_back(format_duration(season));
  out["priority_file"] = f.priority_file.string();
  out["reload_interval"] = format_duration(f.reload_interval);
  return out;
}

template <class Json>
Json document(const Config& c) {
  Json out;
  out["worker"] = worker_document<Json>(c.worker);
  out["listener"] = Json::array();
  for (const auto& l : c.listeners) out["listener"].push_back(Json{{"protocol", to_string(l.protocol)}, {"address", l.address}});
  out["log"] = log_document<Json>(c.log);
  out["buffer"] = Json{{"size", format_size(c.buffer.size_bytes)}, {"max_entries", c.buffer.max_entries}};
  out["volume"] = Json::array();
  for (const auto& v : c.volumes)
    out["volume"].push_back(Json{{"name", v.name}, {"id", v.id}, {"size", format_size(v.size_bytes)}});
  out["sla"] = Json::object();
  for (const auto& [name, k] : c.sla)
    out["sla"][name] = Json{{"weight", k.weight},           {"reservation", k.reservation},
                            {"limit", k.limit},             {"retry_delay", format_duration(k.retry_delay)},
                            {"retry_budget", k.retry_budget}, {"retry_burst", k.retry_burst}};
  out["client"] = Json::array();
  for (const auto& client : c.clients) out["client"].push_back(client_document<Json>(client));
  out["export"] = Json::array();
  for (const auto& e : c.exports) {
    Json allow = Json::array();
    for (const auto& rule : e.allow) allow.push_back(rule);
    out["export"].push_back(Json{{"name", e.name}, {"volume", e.volume}, {"client", e.client}, {"allow", allow},
                                 {"read_only", e.read_only}});
  }
  out["forecast"] = forecast_document<Json>(c.forecast);
  const SchedulerConfig& s = c.scheduler;
  out["scheduler"] = Json{{"policy", to_string(s.policy)},
                          {"queue_depth", s.queue_depth},
                          {"queue_limit", s.queue_limit},
                          {"queue_watermark", s.queue_watermark},
                          {"buffer_watermark", s.buffer_watermark},
                          {"retry_jitter", s.retry_jitter}};
  return out;
}

// ---- TOML rendering of the document ----

using Ordered = nlohmann::ordered_json;

std::string toml_value(const Ordered& value) {
  if (value.is_string()) return toml_string(value.template get<std::string>());
  if (value.is_number_float()) return toml_float(value.template get<double>());
  if (value.is_boolean()) return value.template get<bool>() ? "true" : "false";
  if (value.is_number()) return value.dump();
  std::string out;
  bool first = true;
  if (value.is_array()) {
    for (const auto& element : value) out += (std::exchange(first, false) ? "" : ", ") + toml_value(element);
    return "[" + out + "]";
  }
  for (const auto& [key, element] : value.items())
    out += (std::exchange(first, false) ? "" : ", ") + toml_key(key) + " = " + toml_value(element);
  return first ? "{}" : "{ " + out + " }";
}

void append_table(std::string& out, const std::string& header, const Ordered& table) {
  out += "\n" + header + "\n";
  for (const auto& [key, value] : table.items()) out += toml_key(key) + " = " + toml_value(value) + "\n";
}

// An object of objects ([sla.gold], [sla.silver]) or an object of values ([log]).
bool holds_tables(const Ordered& table) {
  if (table.empty()) return false;
  for (const auto& element : table)
    if (!element.is_object()) return false;
  return true;
}

}  // namespace

std::string to_toml(const Config& config) {
  std::string out = "# The effective configuration";
  if (!config.source_file.empty()) out += " read from " + config.source_file.string();
  out += ": every setting,\n# with defaults filled in. See aiops.toml(5).\n";
  const Ordered settings = document<Ordered>(config);
  for (const auto& [name, section] : settings.items()) {
    if (section.is_array()) {
      for (const auto& element : section) append_table(out, "[[" + toml_key(name) + "]]", element);
    } else if (holds_tables(section)) {
      for (const auto& [child, table] : section.items())
        append_table(out, "[" + toml_key(name) + "." + toml_key(child) + "]", table);
    } else {
      append_table(out, "[" + toml_key(name) + "]", section);
    }
  }
  return out;
}

nlohmann::json to_json(const Config& config) { return document<nlohmann::json>(config); }

}  // namespace aiops::config
