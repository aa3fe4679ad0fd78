// The priority list (priority_list.hpp). The file is read with the located
// readers of aiops.toml (config/config_reader.hpp), so its errors say
// FILE:LINE:COLUMN and KEY the same way, and suggest the key meant when one
// is mistyped; their ConfigError is turned into an Error at the end of
// parse_priority_list.
#include "aiops/specbuf/priority_list.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <span>
#include <sstream>

#include <toml++/toml.h>

#include "aiops/config/config_loader.hpp"
#include "aiops/config/config_reader.hpp"
#include "aiops/config/config_sections.hpp"
#include "aiops/config/toml_text.hpp"
#include "aiops/core/units.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/io/replace_file.hpp"

namespace aiops::specbuf {
namespace {

using namespace std::string_view_literals;
using config::toml_float;
using config::toml_string;
using config::detail::Section;
using config::detail::Setting;
using config::detail::SourceFile;
using TimePoint = std::chrono::system_clock::time_point;

constexpr std::array kRootKeys{"generated"sv, "source"sv, "client"sv};
constexpr std::array kClientKeys{"name"sv,  "score"sv,  "rank"sv,  "predicted_ops"sv, "predicted_bytes"sv,
                                 "interval"sv, "window"sv, "model"sv, "app_type"sv};
constexpr config::detail::Bounds<double> kNonNegative{0.0, std::numeric_limits<double>::max()};
constexpr config::detail::Bounds<std::chrono::nanoseconds> kPositiveDuration{std::chrono::nanoseconds{1},
                                                                             std::chrono::nanoseconds::max()};

// A [[client]] as read, with its settings kept so that the checks that
// compare clients with one another can point at the offending value.
struct Named {
  ClientPriority entry;
  Setting name;
  Setting score;
  Setting rank;
};

std::string config_name(const config::Config& config) {
  return config.source_file.empty() ? "the configuration" : config.source_file.string();
}

// "client[0].name on line 5": where an earlier value was, for messages
// about a later one that conflicts with it.
std::string where(const Setting& setting) { return setting.key() + " on line " + std::to_string(setting.line()); }

// The configured clients in SLA order: weight descending, then id. A loaded
// Config defines every class its clients name; a hand-built one may not, and
// then the default weight of a class stands.
std::vector<std::pair<double, const config::ClientConfig*>> by_sla(const config::Config& config) {
  std::vector<std::pair<double, const config::ClientConfig*>> out;
  for (const config::ClientConfig& client : config.clients) {
    auto sla = config.sla.find(client.sla);
    out.emplace_back(sla != config.sla.end() ? sla->second.weight : config::SlaClass{}.weight, &client);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second->id < b.second->id;
  });
  return out;
}

TimePoint read_generated(const Setting& setting) {
  using namespace std::chrono;
  const auto* value = setting.node().as_date_time();
  // A local date-time names no instant: its meaning would depend on the
  // time zone of whoever reads the file.
  if (value == nullptr || !value->get().offset)
    setting.fail("expected an offset date-time such as 2026-11-25T10:00:00Z, found " +
                 std::string(value != nullptr ? "a local date-time (no offset)"
                                              : config::detail::type_name(setting.node().type())));
  const toml::date_time& t = value->get();
  sys_days date = year{t.date.year} / month{t.date.month} / day{t.date.day};
  auto instant = date + hours{t.time.hour} + minutes{t.time.minute} + seconds{t.time.second} +
                 nanoseconds{t.time.nanosecond} - minutes{t.offset->minutes};
  return time_point_cast<system_clock::duration>(instant);
}

std::string format_generated(TimePoint instant) {
  using namespace std::chrono;
  auto date = floor<days>(instant);
  year_month_day ymd{date};
  hh_mm_ss time{duration_cast<nanoseconds>(instant - date)};
  toml::date_time value{
      toml::date{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day())},
      toml::time{time.hours().count(), time.minutes().count(), time.seconds().count(), time.subseconds().count()},
      toml::time_offset{}};  // UTC, written "Z"
  std::ostringstream out;
  out << value;
  return out.str();
}

// Reads one [[client]] of a file with `count` of them; throws ConfigError.
Named read_client(const Section& table, std::size_t count, const config::Config& config) {
  table.allow_only(kClientKeys);
  Setting name = table.require("name");
  const config::ClientConfig* client = config.find_client(name.string());
  if (client == nullptr) name.fail("no client " + toml_string(name.string()) + " in " + config_name(config));
  Setting score = table.require("score");
  Setting rank = table.require("rank");
  double score_value = score.number(kNonNegative);
  std::int64_t rank_value = rank.integer({1, std::numeric_limits<std::int64_t>::max()});
  if (static_cast<std::uint64_t>(rank_value) > count)
    rank.fail("rank " + std::to_string(rank_value) + " is beyond " + std::to_string(count) + ": the " +
              std::to_string(count) + " [[client]] tables of the file take the ranks 1 to " + std::to_string(count));
  Named out{{client->name, client->id, score_value, static_cast<uint32_t>(rank_value)}, name, score, rank};
  ClientPriority& entry = out.entry;
  if (auto v = table.find("predicted_ops")) entry.predicted_ops = v->number(kNonNegative);
  if (auto v = table.find("predicted_bytes")) entry.predicted_bytes = v->number(kNonNegative);
  if (auto v = table.find("interval")) entry.interval = v->duration(kPositiveDuration);
  if (auto v = table.find("window")) entry.window = v->duration(kPositiveDuration);
  if (auto v = table.find("model")) {
    entry.model = v->string();
    // Empty would read back as "no model": leaving the key out says that.
    if (entry.model.empty()) v->fail("must not be empty; leave the key out when no model is known");
  }
  if (auto v = table.find("app_type")) entry.app_type = std::string(v->one_of(config::detail::kAppTypes));
  return out;
}

// Why `c` cannot be written to the file, or nothing: the loader's rules for
// the optional keys, checked before anything is written.
std::optional<std::string> optional_keys_problem(const ClientPriority& c) {
  auto bad_number = [](const std::optional<double>& v) { return v && !(std::isfinite(*v) && *v >= 0); };
  auto bad_duration = [](const std::optional<std::chrono::nanoseconds>& v) { return v && v->count() <= 0; };
  if (bad_number(c.predicted_ops)) return "predicted_ops " + std::to_string(*c.predicted_ops) + " is not a number >= 0";
  if (bad_number(c.predicted_bytes))
    return "predicted_bytes " + std::to_string(*c.predicted_bytes) + " is not a number >= 0";
  if (bad_duration(c.interval)) return "interval " + format_duration(*c.interval) + " is not more than 0";
  if (bad_duration(c.window)) return "window " + format_duration(*c.window) + " is not more than 0";
  const auto& types = config::detail::kAppTypes;
  if (!c.app_type.empty() && std::find(types.begin(), types.end(), c.app_type) == types.end())
    return "app_type " + toml_string(c.app_type) + " is not an application type";
  return std::nullopt;
}

// The optional keys of `c` that are set, as lines of its [[client]] table.
std::string optional_keys_text(const ClientPriority& c) {
  std::string text;
  if (c.predicted_ops) text += "predicted_ops = " + toml_float(*c.predicted_ops) + "\n";
  if (c.predicted_bytes) text += "predicted_bytes = " + toml_float(*c.predicted_bytes) + "\n";
  if (c.interval) text += "interval = " + toml_string(format_duration(*c.interval)) + "\n";
  if (c.window) text += "window = " + toml_string(format_duration(*c.window)) + "\n";
  if (!c.model.empty()) text += "model = " + toml_string(c.model) + "\n";
  if (!c.app_type.empty()) text += "app_type = " + toml_string(c.app_type) + "\n";
  return text;
}

// The checked list; throws ConfigError.
PriorityList parse(std::string_view text, const std::filesystem::path& file, const config::Config& config) {
  SourceFile source{file.empty() ? "(text)" : file.string(), file.parent_path()};
  toml::table document;
  try {
    document = toml::parse(text, std::string_view(source.name));
  } catch (const toml::parse_error& e) {
    config::detail::fail(source, e.source().begin, "(syntax)", std::string(e.description()));
  }
  Section root(source, document, "");
  root.allow_only(kRootKeys);
  PriorityList out;
  out.source = root.string_or("source", "file");
  if (auto generated = root.find("generated")) out.generated = read_generated(*generated);

  std::vector<Section> tables = root.sections("client");
  std::vector<Named> named;
  std::map<uint32_t, std::size_t> by_id;                // client id -> index in named
  std::vector<std::size_t> by_rank(tables.size() + 1);  // rank -> index in named
  for (const Section& table : tables) {
    Named client = read_client(table, tables.size(), config);
    if (auto first = by_id.find(client.entry.id); first != by_id.end())
      client.name.fail("duplicate client " + toml_string(client.entry.name) + " (first named by " +
                       where(named[first->second].name) + ")");
    std::size_t& slot = by_rank[client.entry.rank];
    if (slot != 0)
      client.rank.fail("duplicate rank " + std::to_string(client.entry.rank) + " (first given by " +
                       where(named[slot - 1].rank) + ")");
    by_id.emplace(client.entry.id, named.size());
    named.push_back(std::move(client));
    slot = named.size();  // index + 1, so that 0 means "not taken yet"
  }
  // N distinct ranks within 1..N: every rank is taken exactly once.
  for (std::size_t rank = 1; rank <= named.size(); ++rank) {
    const Named& client = named[by_rank[rank] - 1];
    if (rank > 1) {
      const Named& better = named[by_rank[rank - 1] - 1];
      if (client.entry.score > better.entry.score)
        client.rank.fail("client " + toml_string(client.entry.name) + " has score " + toml_float(client.entry.score) +
                         " but rank " + std::to_string(rank) + ", after client " + toml_string(better.entry.name) +
                         " with the lower score " + toml_float(better.entry.score) + " (" + where(better.rank) +
                         "); a higher score needs a better rank");
    }
    out.clients.push_back(client.entry);
  }
  for (const auto& [weight, client] : by_sla(config))
    if (by_id.count(client->id) == 0)
      out.clients.push_back({client->name, client->id, 0.0, static_cast<uint32_t>(out.clients.size() + 1)});
  return out;
}

}  // namespace

const ClientPriority* PriorityList::find(uint32_t id) const {
  auto it = std::find_if(clients.begin(), clients.end(), [id](const ClientPriority& c) { return c.id == id; });
  return it != clients.end() ? &*it : nullptr;
}

Result<PriorityList> load_priority_list(const std::filesystem::path& file, const config::Config& config) {
  AIOPS_ASSIGN(std::string text, io::read_text(io::posix_file_system(), file));
  return parse_priority_list(text, file, config);
}

Result<PriorityList> parse_priority_list(std::string_view text, const std::filesystem::path& name_for_messages,
                                         const config::Config& config) {
  try {
    return parse(text, name_for_messages, config);
  } catch (const config::ConfigError& e) {
    return Error(Errc::invalid_input, e.what());
  }
}

PriorityList priorities_from_sla(const config::Config& config) {
  PriorityList out;
  out.source = "sla";
  for (const auto& [weight, client] : by_sla(config))
    out.clients.push_back({client->name, client->id, weight, static_cast<uint32_t>(out.clients.size() + 1)});
  return out;
}

Status save_priority_list(const std::filesystem::path& file, const PriorityList& list) {
  std::string text = "# aiops priority list: clients by importance during a live update, rank 1 first.\n";
  if (list.generated) text += "generated = " + format_generated(*list.generated) + "\n";
  text += "source = " + toml_string(list.source) + "\n";
  for (std::size_t i = 0; i < list.clients.size(); ++i) {
    const ClientPriority& c = list.clients[i];
    // Refused here rather than written, since the file could not be loaded.
    bool score_ok = std::isfinite(c.score) && c.score >= 0 && (i == 0 || c.score <= list.clients[i - 1].score);
    if (c.rank != i + 1 || !score_ok)
      return Error(Errc::invalid_argument, file.string() + ": not saved: client " + toml_string(c.name) + " at rank " +
                                               std::to_string(c.rank) + " with score " + std::to_string(c.score) +
                                               " breaks the order of the list (ranks 1..N, scores >= 0 and not rising)");
    if (auto problem = optional_keys_problem(c))
      return Error(Errc::invalid_argument,
                   file.string() + ": not saved: client " + toml_string(c.name) + ": " + *problem);
    text += "\n[[client]]\nname = " + toml_string(c.name) + "\nscore = " + toml_float(c.score) +
            "\nrank = " + std::to_string(c.rank) + "\n" + optional_keys_text(c);
  }
  return io::replace_file(io::posix_file_system(), file, text);
}

}  // namespace aiops::specbuf
