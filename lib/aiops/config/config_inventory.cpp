// [[listener]], [[volume]], [sla.*] and [[client]]: lists of named things.
// Names and ids must be unique within their list, and clients may only refer
// to SLA classes and volumes defined above them in the Config.
#include <limits>
#include <map>

#include "aiops/config/config_sections.hpp"
#include "aiops/config/listen_address.hpp"
#include "aiops/config/peer_rule.hpp"
#include "aiops/config/toml_text.hpp"
#include "aiops/core/units.hpp"

namespace aiops::config::detail {
namespace {

constexpr std::uint64_t kVolumeBlock = 4096;
constexpr std::uint64_t kMaxVolumeBytes = 64ULL << 40;
constexpr std::int64_t kMaxId = 4294967295;
constexpr NameRule kVolumeName{"volume name", 64, true};
constexpr NameRule kClientName{"client name", 64, true};
constexpr NameRule kSlaClassName{"SLA class name", 32, false};
// NBD allows 4096 bytes; a volume name is what a client usually asks for.
constexpr NameRule kExportName{"export name", 64, true};

// Refuses a second use of a name, id or address, naming the first one.
template <class Value>
class Uniqueness {
 public:
  explicit Uniqueness(std::string what) : what_(std::move(what)) {}

  void claim(const Value& value, std::string shown, const Setting& setting) {
    auto [first, inserted] = seen_.try_emplace(value, First{setting.key(), setting.line()});
    if (!inserted)
      setting.fail("duplicate " + what_ + " " + shown + " (first used by " + first->second.key + " on line " +
                   std::to_string(first->second.line) + ")");
  }

 private:
  struct First {
    std::string key;
    std::uint32_t line;
  };
  std::string what_;
  std::map<Value, First> seen_;
};

// "defined: "bronze", "gold"", or `none` when there are none.
std::string list_defined(const std::vector<std::string_view>& names, std::string_view none) {
  std::string out;
  for (std::string_view name : names) out += (out.empty() ? "" : ", ") + toml_string(name);
  return out.empty() ? std::string(none) : "defined: " + out;
}

ListenerConfig read_listener(const Section& listener) {
  listener.allow_only(kListenerKeys);
  constexpr std::array protocols{ListenerConfig::Protocol::native, ListenerConfig::Protocol::nbd};
  auto protocol = listener.require("protocol").choice(std::span<const ListenerConfig::Protocol>(protocols));
  Setting address = listener.require("address");
  auto parsed = parse_listen_address(address.string(), listener.file().directory);
  if (!parsed.ok()) address.fail(parsed.error().message());
  parsed->protocol = protocol;
  return std::move(parsed).value();
}

std::string token_problem(std::string_view token) {
  std::string expected = "expected 64 lowercase hexadecimal digits (the SHA-256 of the client's token), found ";
  if (token.size() != 64) return expected + std::to_string(token.size()) + " characters";
  for (std::size_t i = 0; i < token.size(); ++i) {
    char c = token[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return expected + "'" + std::string(1, c) + "' at position " + std::to_string(i + 1);
  }
  return {};
}

std::map<std::string, Access> read_access(const Section& client, const Config& config) {
  Section access = Section::as_section(client.require("access"), "an inline table of volume = \"rw\" or \"ro\"");
  constexpr std::array rights{Access::read_write, Access::read_only};
  std::map<std::string, Access> out;
  for (auto&& [volume, node] : access.table()) {
    std::string key = access.key_path(volume.str());
    if (config.find_volume(volume.str()) == nullptr) {
      std::vector<std::string_view> defined;
      for (const auto& v : config.volumes) defined.push_back(v.name);
      fail(access.file(), volume.source().begin, key,
           "undefined volume " + toml_string(volume.str()) + " (" + list_defined(defined, "no volumes defined") + ")");
    }
    out.emplace(std::string(volume.str()), Setting(access.file(), node, key).choice(std::span<const Access>(rights)));
  }
  return out;
}

ClientConfig read_client(const Section& client, const Config& config) {
  client.allow_only(kClientKeys);
  ClientConfig out;
  out.name = client.require("name").name(kClientName);
  out.id = static_cast<std::uint32_t>(client.require("id").integer({1, kMaxId}));
  Setting sla = client.require("sla");
  out.sla = sla.string();
  if (config.sla.count(out.sla) == 0) {
    std::vector<std::string_view> defined;
    for (const auto& [name, sla_class] : config.sla) defined.push_back(name);
    sla.fail("undefined SLA class " + toml_string(out.sla) + " (" + list_defined(defined, "no SLA classes defined") +
             ")");
  }
  Setting token = client.require("token_sha256");
  out.token_sha256 = token.string();
  if (std::string problem = token_problem(out.token_sha256); !problem.empty()) token.fail(problem);
  out.access = read_access(client, config);
  if (auto app_type = client.find("app_type"); app_type && !app_type->string().empty())
    out.app_type = std::string(app_type->one_of(kAppTypes));
  return out;
}

}  // namespace

std::vector<ListenerConfig> read_listeners(const Section& root) {
  std::vector<ListenerConfig> out;
  Uniqueness<std::string> addresses("listener address");
  for (const Section& listener : root.sections("listener")) {
    out.push_back(read_listener(listener));
    const ListenerConfig& added = out.back();
    // Port 0 asks for a fresh port each time, so it never clashes.
    if (added.is_unix || added.port != 0) {
      std::string identity = added.is_unix ? added.address : "[" + added.host + "]:" + std::to_string(added.port);
      addresses.claim(identity, toml_string(added.address), listener.require("address"));
    }
  }
  if (out.empty()) out.push_back(parse_listen_address("127.0.0.1:7070", "/").value());
  return out;
}

std::vector<VolumeConfig> read_volumes(const Section& root) {
  std::vector<VolumeConfig> out;
  Uniqueness<std::string> names("volume name");
  Uniqueness<std::uint32_t> ids("volume id");
  for (const Section& volume : root.sections("volume")) {
    volume.allow_only(kVolumeKeys);
    VolumeConfig v;
    v.name = volume.require("name").name(kVolumeName);
    names.claim(v.name, toml_string(v.name), volume.require("name"));
    v.id = static_cast<std::uint32_t>(volume.require("id").integer({1, kMaxId}));
    ids.claim(v.id, std::to_string(v.id), volume.require("id"));
    Setting size = volume.require("size");
    v.size_bytes = size.size({kVolumeBlock, kMaxVolumeBytes});
    if (v.size_bytes % kVolumeBlock != 0) size.fail(format_size(v.size_bytes) + " is not a multiple of 4KiB");
    out.push_back(std::move(v));
  }
  if (out.empty()) root.fail("volume", "no [[volume]] defined; at least one is required");
  return out;
}

namespace {

// Without an [sla] table: three classes whose reservations are small next
// to what one log serves, so they hold under any flood.
std::map<std::string, SlaClass> default_sla() {
  using std::chrono::milliseconds;
  return {{"gold", SlaClass{8.0, 500.0, 0.0, milliseconds{5}, 0.1, 10.0}},
          {"silver", SlaClass{4.0, 200.0, 0.0, milliseconds{10}, 0.1, 10.0}},
          {"bronze", SlaClass{1.0, 50.0, 0.0, milliseconds{20}, 0.1, 10.0}}};
}

SlaClass read_sla_class(const Section& sla_class) {
  using namespace std::chrono_literals;
  sla_class.allow_only(kSlaClassKeys);
  SlaClass out;
  Setting weight = sla_class.require("weight");
  out.weight = weight.number({std::numeric_limits<double>::lowest(), 1e6});
  if (out.weight <= 0) weight.fail("must be greater than 0, found " + toml_float(out.weight));
  out.reservation = sla_class.number_or("reservation", out.reservation, {0.0, 1e7});
  out.limit = sla_class.number_or("limit", out.limit, {0.0, 1e7});
  if (out.limit > 0 && out.limit < out.reservation)
    sla_class.require("limit").fail(toml_float(out.limit) + " is below " + sla_class.key_path("reservation") + " (" +
                                    toml_float(out.reservation) + "); a class cannot be capped below what it is promised");
  out.retry_delay = sla_class.duration_or("retry_delay", out.retry_delay, {1ms, 10s});
  if (auto budget = sla_class.find("retry_budget")) {
    out.retry_budget = budget->number({0.0, 1.0});
    if (out.retry_budget <= 0) budget->fail("must be greater than 0, found " + toml_float(out.retry_budget));
  }
  out.retry_burst = sla_class.number_or("retry_burst", out.retry_burst, {1.0, 1e6});
  return out;
}

}  // namespace

std::map<std::string, SlaClass> read_sla(const Section& root) {
  if (!root.find("sla")) return default_sla();
  Section sla = root.section("sla");
  std::map<std::string, SlaClass> out;
  for (auto&& [name, node] : sla.table()) {
    std::string key = sla.key_path(name.str());
    if (auto problem = name_problem(name.str(), kSlaClassName)) fail(sla.file(), name.source().begin, key, *problem);
    Section sla_class = Section::as_section(Setting(sla.file(), node, key), "a table ([" + key + "]) with a weight");
    out.emplace(std::string(name.str()), read_sla_class(sla_class));
  }
  return out;
}

std::vector<ClientConfig> read_clients(const Section& root, const Config& config) {
  std::vector<ClientConfig> out;
  Uniqueness<std::string> names("client name");
  Uniqueness<std::uint32_t> ids("client id");
  for (const Section& client : root.sections("client")) {
    out.push_back(read_client(client, config));
    names.claim(out.back().name, toml_string(out.back().name), client.require("name"));
    ids.claim(out.back().id, std::to_string(out.back().id), client.require("id"));
  }
  return out;
}

std::vector<ExportConfig> read_exports(const Section& root, const Config& config) {
  std::vector<ExportConfig> out;
  Uniqueness<std::string> names("export name");
  for (const Section& section : root.sections("export")) {
    section.allow_only(kExportKeys);
    ExportConfig e;
    Setting volume = section.require("volume");
    e.volume = volume.string();
    if (config.find_volume(e.volume) == nullptr) {
      std::vector<std::string_view> defined;
      for (const auto& v : config.volumes) defined.push_back(v.name);
      volume.fail("undefined volume " + toml_string(e.volume) + " (" + list_defined(defined, "no volumes defined") + ")");
    }
    if (auto name = section.find("name")) {
      e.name = name->name(kExportName);
      names.claim(e.name, toml_string(e.name), *name);
    } else {
      e.name = e.volume;
      names.claim(e.name, toml_string(e.name), volume);
    }
    Setting client = section.require("client");
    e.client = client.string();
    const ClientConfig* owner = config.find_client(e.client);
    if (owner == nullptr) {
      std::vector<std::string_view> defined;
      for (const auto& c : config.clients) defined.push_back(c.name);
      client.fail("undefined client " + toml_string(e.client) + " (" + list_defined(defined, "no clients defined") + ")");
    }
    if (owner->access.count(e.volume) == 0)
      client.fail("client " + toml_string(e.client) + " has no access to volume " + toml_string(e.volume) +
                  " (grant it in the client's access table)");
    if (auto allow = section.find("allow")) {
      const toml::array& rules = allow->array("an array of addresses or prefixes, e.g. [\"127.0.0.1\", \"10.0.0.0/8\"]");
      e.allow.clear();
      for (std::size_t i = 0; i < rules.size(); ++i) {
        Setting element(section.file(), *rules.get(i), allow->key() + "[" + std::to_string(i) + "]");
        std::string rule = element.string();
        if (auto parsed = parse_peer_rule(rule); !parsed.ok()) element.fail(parsed.error().message());
        e.allow.push_back(std::move(rule));
      }
    }
    if (auto read_only = section.find("read_only")) e.read_only = read_only->boolean();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace aiops::config::detail
