#include <doctest/doctest.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "aiops/config/config_loader.hpp"
#include "aiops/config/config_printer.hpp"
#include "aiops/config/listen_address.hpp"
#include "support/temp_dir.hpp"

using namespace std::chrono_literals;
using namespace aiops::config;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;
constexpr std::uint64_t GiB = 1024 * MiB;
const std::filesystem::path kSourceDir = AIOPS_SOURCE_DIR;
const std::filesystem::path kEtcFile = "/etc/aiops/aiops.toml";
const std::string kVolume = "[[volume]]\nname = \"vol1\"\nid = 1\nsize = \"1GiB\"\n";
const std::string kToken = std::string(64, 'a');

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Config parse(const std::string& text, const std::filesystem::path& source = kEtcFile) {
  try {
    return parse_config(text, source);
  } catch (const ConfigError& e) {
    FAIL("unexpected ConfigError: " << e.what());
    throw;
  }
}

// A file that sets every key to something other than its default.
const std::string kEverySetting = R"([worker]
name = "edge-7"
data_dir = "/srv/aiops"
control_socket = "/srv/aiops/control.sock"
credentials_file = "/etc/aiops/credentials"
shutdown_timeout = "45s"
trace_interval = "30s"
max_connections = 64
max_request_size = "1MiB"
max_outstanding = 32
idle_timeout = "1h30m"
io_threads = 3

[[listener]]
protocol = "native"
address = "[::1]:7071"

[[listener]]
protocol = "nbd"
address = "unix:/srv/aiops/nbd.sock"

[log]
segment_size = "128MiB"
group_commit_bytes = "512KiB"
group_commit_delay = "200us"
ack = "durable"
checkpoint_interval = "2s"
checkpoint_bytes = "1GiB"

[buffer]
size = "1GiB"
max_entries = 1024

[[volume]]
name = "db.main"
id = 10
size = "2TiB"

[[volume]]
name = "scratch"
id = 11
size = "12KiB"

[sla.platinum]
weight = 12.5

[sla.tin]
weight = 0.1

[[client]]
name = "pg-1"
id = 100
sla = "platinum"
token_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
access = { "db.main" = "rw", scratch = "ro" }
app_type = "database"

[[client]]
name = "batch"
id = 101
sla = "tin"
token_sha256 = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
access = {}

[[export]]
name = "db"
volume = "db.main"
client = "pg-1"
allow = ["10.0.0.0/8", "fd00::/8", "192.0.2.7"]
read_only = true

[forecast]
interval = "5m"
horizon = "1h"
statistic = "upper95"
seasons = ["1h", "1d"]
priority_file = "/srv/aiops/priorities.toml"
reload_interval = "30s"
)";

}  // namespace

// ---- accepted files ----

TEST_CASE("the default share/aiops/aiops.toml is valid") {
  Config config = load_config(kSourceDir / "share/aiops/aiops.toml");
  CHECK(config.worker.name == "default");
  REQUIRE(config.volumes.size() == 1);
  CHECK(config.volumes[0].name == "vol0");
  REQUIRE(config.clients.size() == 1);
  CHECK(config.clients[0].access.at("vol0") == Access::read_write);
}

TEST_CASE("the default share/aiops/aiops.toml sets every key") {
  toml::table document = toml::parse_file((kSourceDir / "share/aiops/aiops.toml").string());
  for (std::string key : config_keys()) {
    for (auto at = key.find("[]"); at != std::string::npos; at = key.find("[]")) key.replace(at, 2, "[0]");
    if (auto at = key.find("<class>"); at != std::string::npos) key.replace(at, 7, "gold");
    CAPTURE(key);
    CHECK(document.at_path(key).node() != nullptr);
  }
}

TEST_CASE("the default share/aiops/aiops.toml holds the documented defaults") {
  Config from_file = load_config(kSourceDir / "share/aiops/aiops.toml");
  Config minimal = parse(kVolume, kSourceDir / "share/aiops/aiops.toml");
  CHECK(from_file.worker == minimal.worker);
  CHECK(from_file.listeners == minimal.listeners);
  CHECK(from_file.log == minimal.log);
  CHECK(from_file.buffer == minimal.buffer);
  CHECK(from_file.sla == minimal.sla);
  CHECK(from_file.forecast == minimal.forecast);
}

TEST_CASE("the man page documents every key") {
  std::string page = read_text(kSourceDir / "man/aiops.toml.5");
  for (const std::string& key : config_keys()) {
    std::string name = key.substr(key.rfind('.') + 1);
    CAPTURE(key);
    CHECK(page.find("\n.It Cm " + name + " Ar ") != std::string::npos);
  }
}

TEST_CASE("the man page example is a valid file") {
  std::string page = read_text(kSourceDir / "man/aiops.toml.5");
  auto examples = page.find(".Sh EXAMPLES");
  REQUIRE(examples != std::string::npos);
  auto begin = page.find(".Bd -literal -offset indent\n", examples);
  auto end = page.find(".Ed\n", begin);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  begin = page.find('\n', begin) + 1;
  Config c = parse(page.substr(begin, end - begin));
  CHECK(c.clients.at(0).access.at("archive") == Access::read_only);
}

TEST_CASE("a minimal file gets the documented defaults") {
  Config c = parse(kVolume);
  CHECK(c.source_file == kEtcFile);
  CHECK(c.worker.name == "default");
  CHECK(c.worker.data_dir == "/var/lib/aiops");
  CHECK(c.worker.control_socket == "/run/aiops/default.sock");
  CHECK(c.worker.credentials_file.empty());
  CHECK(c.worker.shutdown_timeout == 30s);
  CHECK(c.worker.trace_interval == 1min);
  CHECK(c.worker.max_connections == 1024);
  CHECK(c.worker.max_request_size_bytes == 8 * MiB);
  CHECK(c.worker.max_outstanding == 128);
  CHECK(c.worker.idle_timeout == 10min);
  CHECK(c.worker.io_threads == 0);  // half the CPUs
  CHECK(c.log.segment_size_bytes == 64 * MiB);
  CHECK(c.log.group_commit_bytes == 1 * MiB);
  CHECK(c.log.group_commit_delay == 0us);
  CHECK(c.log.ack == LogConfig::Ack::written);
  CHECK(c.log.checkpoint_interval == 5s);
  CHECK(c.log.checkpoint_bytes == 256 * MiB);
  CHECK(c.buffer.size_bytes == 256 * MiB);
  CHECK(c.buffer.max_entries == 65536);
  CHECK(c.forecast.interval == 1min);
  CHECK(c.forecast.horizon == 15min);
  CHECK(c.forecast.statistic == ForecastConfig::Statistic::mean);
  CHECK(c.forecast.seasons == std::vector<std::chrono::nanoseconds>{24h, 7 * 24h});
  CHECK(c.forecast.priority_file == "/var/lib/aiops/state/priorities.toml");
  CHECK(c.forecast.reload_interval == 1min);
  CHECK(c.clients.empty());
}

TEST_CASE("without [[listener]] the worker serves native on 127.0.0.1:7070") {
  Config c = parse(kVolume);
  REQUIRE(c.listeners.size() == 1);
  CHECK(c.listeners[0].protocol == ListenerConfig::Protocol::native);
  CHECK(c.listeners[0].address == "127.0.0.1:7070");
  CHECK_FALSE(c.listeners[0].is_unix);
  CHECK(c.listeners[0].host == "127.0.0.1");
  CHECK(c.listeners[0].port == 7070);
}

TEST_CASE("without [sla] the classes are gold, silver and bronze") {
  using std::chrono::milliseconds;
  Config c = parse(kVolume);
  CHECK(c.sla == std::map<std::string, SlaClass>{{"gold", {8.0, 500.0, 0.0, milliseconds{5}, 0.1, 10.0}},
                                                 {"silver", {4.0, 200.0, 0.0, milliseconds{10}, 0.1, 10.0}},
                                                 {"bronze", {1.0, 50.0, 0.0, milliseconds{20}, 0.1, 10.0}}});
}

TEST_CASE("an SLA class takes the scheduler's tags and its retry settings") {
  Config c = parse(kVolume + "[sla.gold]\nweight = 8\nreservation = 100\nlimit = 1000\nretry_delay = \"2ms\"\n"
                             "retry_budget = 0.2\nretry_burst = 5\n[sla.bronze]\nweight = 1\n"
                             "[scheduler]\npolicy = \"fifo\"\nqueue_depth = 8\nqueue_watermark = 0.25\n");
  CHECK(c.sla.at("gold") == SlaClass{8.0, 100.0, 1000.0, std::chrono::milliseconds{2}, 0.2, 5.0});
  CHECK(c.sla.at("bronze") == SlaClass{1.0});  // the keys left out take the defaults of a class
  CHECK(c.scheduler.policy == SchedulerConfig::Policy::fifo);
  CHECK(c.scheduler.queue_depth == 8);
  CHECK(c.scheduler.queue_watermark == 0.25);
  CHECK(c.scheduler.buffer_watermark == 0.8);
}

TEST_CASE("an SLA class may not be capped below its reservation") {
  CHECK_THROWS_WITH_AS((void)parse_config(kVolume + "[sla.gold]\nweight = 8\nreservation = 100\nlimit = 50\n", "aiops.toml"),
                       doctest::Contains("sla.gold.limit: 50.0 is below sla.gold.reservation (100.0)"), ConfigError);
  CHECK_THROWS_WITH_AS((void)parse_config(kVolume + "[sla.gold]\nweight = 8\nretry_budget = 0\n", "aiops.toml"),
                       doctest::Contains("sla.gold.retry_budget: must be greater than 0"), ConfigError);
  CHECK_THROWS_WITH_AS((void)parse_config(kVolume + "[scheduler]\npolicy = \"lifo\"\n", "aiops.toml"), doctest::Contains("scheduler.policy"),
                       ConfigError);
}

TEST_CASE("an empty [sla] table defines no classes") {
  CHECK(parse("[sla]\n" + kVolume).sla.empty());
}

TEST_CASE("an SLA weight may be an integer") {
  CHECK(parse("[sla.gold]\nweight = 3\n" + kVolume).sla.at("gold").weight == 3.0);
}

TEST_CASE("control_socket defaults to /run/aiops/<name>.sock") {
  CHECK(parse("[worker]\nname = \"edge-7\"\n" + kVolume).worker.control_socket == "/run/aiops/edge-7.sock");
}

TEST_CASE("priority_file defaults to <data_dir>/state/priorities.toml") {
  Config c = parse("[worker]\ndata_dir = \"/srv/x\"\n[forecast]\npriority_file = \"\"\n" + kVolume);
  CHECK(c.forecast.priority_file == "/srv/x/state/priorities.toml");
}

TEST_CASE("every setting is read") {
  Config c = parse(kEverySetting);
  CHECK(c.worker.idle_timeout == 90min);
  CHECK(c.worker.io_threads == 3);
  REQUIRE(c.listeners.size() == 2);
  CHECK(c.listeners[0].host == "::1");
  CHECK(c.listeners[0].port == 7071);
  CHECK(c.listeners[1].protocol == ListenerConfig::Protocol::nbd);
  CHECK(c.listeners[1].is_unix);
  CHECK(c.listeners[1].unix_path == "/srv/aiops/nbd.sock");
  CHECK(c.log.ack == LogConfig::Ack::durable);
  CHECK(c.volumes[0].size_bytes == 2048 * GiB);
  CHECK(c.sla.at("tin").weight == 0.1);
  CHECK(c.clients[0].access.at("scratch") == Access::read_only);
  CHECK(c.clients[0].app_type == "database");
  CHECK(c.clients[1].access.empty());
  CHECK(c.clients[1].app_type.empty());
  CHECK(c.forecast.statistic == ForecastConfig::Statistic::upper95);
  CHECK(c.forecast.seasons == std::vector<std::chrono::nanoseconds>{1h, 24h});
}

TEST_CASE("volumes and clients can be found by name and by id") {
  Config c = parse(kEverySetting);
  REQUIRE(c.find_volume("scratch") != nullptr);
  CHECK(c.find_volume("scratch")->id == 11);
  CHECK(c.find_volume(std::uint32_t{10})->name == "db.main");
  CHECK(c.find_volume("nope") == nullptr);
  CHECK(c.find_volume(std::uint32_t{12}) == nullptr);
  CHECK(c.find_client("batch")->id == 101);
  CHECK(c.find_client(std::uint32_t{100})->name == "pg-1");
  CHECK(c.find_client("nope") == nullptr);
}

TEST_CASE("listeners on port 0 never clash") {
  std::string two = "[[listener]]\nprotocol = \"native\"\naddress = \"localhost:0\"\n"
                    "[[listener]]\nprotocol = \"nbd\"\naddress = \"localhost:0\"\n";
  CHECK(parse(two + kVolume).listeners.size() == 2);
}

TEST_CASE("listen addresses take IPv4, [IPv6], localhost and Unix paths") {
  auto v4 = parse_listen_address("10.0.0.1:0", "/etc");
  REQUIRE(v4.ok());
  CHECK(v4->host == "10.0.0.1");
  CHECK(v4->port == 0);
  auto v6 = parse_listen_address("[fe80::1]:65535", "/etc");
  REQUIRE(v6.ok());
  CHECK(v6->host == "fe80::1");
  CHECK(v6->port == 65535);
  CHECK(v6->address == "[fe80::1]:65535");
  auto local = parse_listen_address("localhost:7070", "/etc");
  REQUIRE(local.ok());
  CHECK(local->host == "localhost");
  auto unix_socket = parse_listen_address("unix:run/../data.sock", "/etc/aiops");
  REQUIRE(unix_socket.ok());
  CHECK(unix_socket->is_unix);
  CHECK(unix_socket->unix_path == "/etc/aiops/data.sock");
}

TEST_CASE("listen addresses refuse host names, bad ports and empty paths") {
  for (const char* bad : {"example.com:80", "10.0.0:80", "10.0.0.1", "10.0.0.1:", "10.0.0.1:-1", "10.0.0.1:http",
                          "[10.0.0.1]:80", "[::1:80", "unix:", ":80"}) {
    CAPTURE(bad);
    auto parsed = parse_listen_address(bad, "/etc");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message().find(std::string("\"") + bad + "\"") != std::string::npos);
  }
}

// ---- relative paths ----

TEST_CASE("relative paths resolve against the directory of the file") {
  std::string text = "[worker]\ndata_dir = \"data\"\ncontrol_socket = \"../run/aiops.sock\"\n"
                     "credentials_file = \"./secret/creds\"\n"
                     "[[listener]]\nprotocol = \"native\"\naddress = \"unix:sockets/data.sock\"\n"
                     "[forecast]\npriority_file = \"state/p.toml\"\n" +
                     kVolume;
  Config c = parse(text, "/etc/aiops/aiops.toml");
  CHECK(c.worker.data_dir == "/etc/aiops/data");
  CHECK(c.worker.control_socket == "/etc/run/aiops.sock");
  CHECK(c.worker.credentials_file == "/etc/aiops/secret/creds");
  CHECK(c.listeners[0].unix_path == "/etc/aiops/sockets/data.sock");
  CHECK(c.listeners[0].address == "unix:/etc/aiops/sockets/data.sock");
  CHECK(c.forecast.priority_file == "/etc/aiops/state/p.toml");
}

TEST_CASE("the default priority_file follows a relative data_dir") {
  Config c = parse("[worker]\ndata_dir = \"data\"\n" + kVolume, "/etc/aiops/aiops.toml");
  CHECK(c.forecast.priority_file == "/etc/aiops/data/state/priorities.toml");
}

TEST_CASE("a relative file name resolves against the current directory") {
  Config c = parse("[worker]\ndata_dir = \"data\"\n" + kVolume, "conf/aiops.toml");
  CHECK(c.source_file == std::filesystem::current_path() / "conf/aiops.toml");
  CHECK(c.worker.data_dir == std::filesystem::current_path() / "conf/data");
}

TEST_CASE("load_config resolves relative paths next to the file") {
  aiops::test::TempDir dir;
  std::ofstream(dir / "aiops.toml") << "[worker]\ndata_dir = \"data\"\n" << kVolume;
  Config c = load_config(dir / "aiops.toml");
  CHECK(c.source_file == dir.path() / "aiops.toml");
  CHECK(c.worker.data_dir == dir.path() / "data");
}

// ---- printing ----

TEST_CASE("to_toml round-trips a file that sets every key") {
  Config c = parse(kEverySetting);
  CHECK(parse(to_toml(c), c.source_file) == c);
}

TEST_CASE("to_toml round-trips the defaults") {
  Config c = parse(kVolume);
  CHECK(parse(to_toml(c), c.source_file) == c);
}

TEST_CASE("to_toml round-trips an empty [sla] and empty seasons") {
  Config c = parse("[sla]\n[forecast]\nseasons = []\n" + kVolume);
  CHECK(parse(to_toml(c), c.source_file) == c);
}

TEST_CASE("to_toml round-trips the default share/aiops/aiops.toml") {
  Config c = load_config(kSourceDir / "share/aiops/aiops.toml");
  CHECK(parse(to_toml(c), c.source_file) == c);
}

TEST_CASE("to_toml prints every key") {
  std::string text = to_toml(parse(kEverySetting));
  for (const std::string& key : config_keys()) {
    std::string name = key.substr(key.rfind('.') + 1);
    CAPTURE(key);
    CHECK(text.find("\n" + name + " = ") != std::string::npos);
  }
}

TEST_CASE("to_json uses the TOML keys with sizes and durations as text") {
  nlohmann::json j = to_json(parse(kEverySetting));
  CHECK(j["worker"]["max_request_size"] == "1MiB");
  CHECK(j["worker"]["idle_timeout"] == "1h30m");
  CHECK(j["worker"]["max_connections"] == 64);
  CHECK(j["worker"]["io_threads"] == 3);
  CHECK(j["listener"][1]["address"] == "unix:/srv/aiops/nbd.sock");
  CHECK(j["log"]["ack"] == "durable");
  CHECK(j["volume"][0]["size"] == "2TiB");
  CHECK(j["sla"]["platinum"]["weight"] == 12.5);
  CHECK(j["client"][0]["access"]["db.main"] == "rw");
  CHECK(j["forecast"]["seasons"] == nlohmann::json::array({"1h", "1d"}));
  CHECK(j["scheduler"]["policy"] == "mclock");
  CHECK(j["export"][0]["allow"][0] == "10.0.0.0/8");
  CHECK(j["export"][0]["read_only"] == true);
  CHECK(j.size() == 10);
}

// ---- errors ----

TEST_CASE("ConfigError::what() is FILE:LINE:COLUMN: KEY: PROBLEM") {
  try {
    (void)parse_config("[log]\nsegment_size = \"512KiB\"\n" + kVolume, "aiops.toml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "aiops.toml:2:16: log.segment_size: 512KiB is below the minimum of 1MiB");
  }
}

TEST_CASE("a file that cannot be read gives line 0 and the system's reason") {
  aiops::test::TempDir dir;
  try {
    (void)load_config(dir / "missing.toml");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.line == 0);
    CHECK(e.key == "(file)");
    CHECK(e.file == (dir / "missing.toml").string());
    CHECK(e.problem.find(std::strerror(ENOENT)) != std::string::npos);
  }
}

namespace {

struct BadInput {
  const char* kind;
  std::string text;
  std::uint32_t line;
  std::uint32_t column;
  const char* key;
  const char* problem;  // a distinctive part of the message
};

const std::string kClientHead = "[[volume]]\nname = \"vol1\"\nid = 1\nsize = \"1GiB\"\n[[client]]\nname = \"c\"\nid = 1\n";
// kClientHead ends on line 7; a client's remaining keys follow on line 8.
std::string client(const std::string& sla, const std::string& token, const std::string& access) {
  return kClientHead + "sla = " + sla + "\ntoken_sha256 = " + token + "\naccess = " + access + "\n";
}
const std::string kGoodToken = "\"" + kToken + "\"";

// One row per kind of bad input; each must give its own message and point
// at the right place.
const std::vector<BadInput> kBadInputs = {
    {"syntax error", "[log]\nack = \n" + kVolume, 2, 7, "(syntax)", "expected value"},
    {"duplicate key", "[log]\nack = \"written\"\nack = \"durable\"\n", 3, 7, "(syntax)", "cannot redefine"},
    {"unknown key, close to a known one", "[log]\nsegment_sise = \"1MiB\"\n" + kVolume, 2, 1, "log.segment_sise",
     "unknown key (did you mean \"segment_size\"?)"},
    {"unknown key, far from any", "[worker]\ncolour = \"blue\"\n" + kVolume, 2, 1, "worker.colour", "unknown key"},
    {"unknown table", "[logs]\nack = \"durable\"\n" + kVolume, 1, 2, "logs", "unknown table (did you mean \"log\"?)"},
    {"table where a value belongs", "[worker.extra]\nx = 1\n" + kVolume, 1, 9, "worker.extra", "unknown table"},
    {"string expected", "[worker]\nname = 5\n" + kVolume, 2, 8, "worker.name", "expected a string, found an integer (5)"},
    {"integer given as float", "[worker]\nmax_connections = 10.0\n" + kVolume, 2, 19, "worker.max_connections",
     "expected an integer, found a float (10.0)"},
    {"integer given as string", "[buffer]\nmax_entries = \"100\"\n" + kVolume, 2, 15, "buffer.max_entries",
     "expected an integer, found a string (\"100\")"},
    {"size given as integer", "[log]\nsegment_size = 67108864\n" + kVolume, 2, 16, "log.segment_size",
     "found an integer (67108864); write \"64MiB\""},
    {"duration given as integer", "[worker]\nidle_timeout = 600\n" + kVolume, 2, 16, "worker.idle_timeout",
     "expected a duration as a string with a unit"},
    {"table expected", "log = 5\n" + kVolume, 1, 7, "log", "expected a table ([log]), found an integer (5)"},
    {"array of tables expected", "[listener]\nprotocol = \"native\"\n" + kVolume, 1, 1, "listener",
     "write [[listener]] for each one"},
    {"size below minimum", "[log]\nsegment_size = \"512KiB\"\n" + kVolume, 2, 16, "log.segment_size",
     "512KiB is below the minimum of 1MiB"},
    {"io_threads above maximum", "[worker]\nio_threads = 65\n" + kVolume, 2, 14, "worker.io_threads", "above the maximum of 64"},
    {"integer above maximum", "[worker]\nmax_outstanding = 65537\n" + kVolume, 2, 19, "worker.max_outstanding",
     "65537 is above the maximum of 65536"},
    {"duration out of range", "[worker]\nshutdown_timeout = \"0s\"\n" + kVolume, 2, 20, "worker.shutdown_timeout",
     "must be greater than 0s"},
    {"bad size text", "[buffer]\nsize = \"64 mb\"\n" + kVolume, 2, 8, "buffer.size", "invalid size \"64 mb\""},
    {"duration without unit", "[worker]\ntrace_interval = \"60\"\n" + kVolume, 2, 18, "worker.trace_interval",
     "a duration needs a unit"},
    {"bad enum value", "[log]\nack = \"fast\"\n" + kVolume, 2, 7, "log.ack",
     "\"fast\" is not one of the allowed values \"written\", \"durable\""},
    {"bad worker name", "[worker]\nname = \"Prod\"\n" + kVolume, 2, 8, "worker.name", "not a valid worker name"},
    {"empty path", "[worker]\ndata_dir = \"\"\n" + kVolume, 2, 12, "worker.data_dir", "must not be empty"},
    {"socket path too long", "[worker]\ncontrol_socket = \"/" + std::string(120, 's') + "\"\n" + kVolume, 2, 18,
     "worker.control_socket", "at most 107"},
    {"group commit above segment", "[log]\nsegment_size = \"1MiB\"\ngroup_commit_bytes = \"2MiB\"\n" + kVolume, 3, 22,
     "log.group_commit_bytes", "2MiB is above log.segment_size (1MiB)"},
    {"segment above default checkpoint", "[log]\nsegment_size = \"1GiB\"\n" + kVolume, 2, 16, "log.segment_size",
     "1GiB is above log.checkpoint_bytes (256MiB, its default)"},
    {"horizon below interval", "[forecast]\ninterval = \"1h\"\nhorizon = \"30m\"\n" + kVolume, 3, 11,
     "forecast.horizon", "30m is below forecast.interval (1h)"},
    {"season not a multiple", "[forecast]\ninterval = \"7m\"\nhorizon = \"1h\"\nseasons = [\"1h\"]\n" + kVolume, 4,
     12, "forecast.seasons[0]", "1h is not a multiple of forecast.interval (7m)"},
    {"bad listener address", "[[listener]]\nprotocol = \"native\"\naddress = \"::1:7070\"\n" + kVolume, 3, 11,
     "listener[0].address", "an IPv6 address needs brackets"},
    {"listener port too large", "[[listener]]\nprotocol = \"nbd\"\naddress = \"127.0.0.1:70000\"\n" + kVolume, 3, 11,
     "listener[0].address", "port 70000 is above 65535"},
    {"duplicate listener address",
     "[[listener]]\nprotocol = \"native\"\naddress = \"127.0.0.1:7070\"\n"
     "[[listener]]\nprotocol = \"nbd\"\naddress = \"127.0.0.1:7070\"\n" +
         kVolume,
     6, 11, "listener[1].address", "duplicate listener address \"127.0.0.1:7070\" (first used by listener[0].address on line 3)"},
    {"missing required key", "[[volume]]\nname = \"v\"\nid = 1\n", 1, 1, "volume[0].size", "required key is missing"},
    {"missing required table", "[worker]\nname = \"x\"\n", 1, 1, "volume", "no [[volume]] defined"},
    {"volume size not a multiple of 4KiB", "[[volume]]\nname = \"v\"\nid = 1\nsize = \"6KiB\"\n", 4, 8, "volume[0].size",
     "6KiB is not a multiple of 4KiB"},
    {"duplicate volume name", kVolume + "[[volume]]\nname = \"vol1\"\nid = 2\nsize = \"4KiB\"\n", 6, 8, "volume[1].name",
     "duplicate volume name \"vol1\" (first used by volume[0].name on line 2)"},
    {"duplicate volume id", kVolume + "[[volume]]\nname = \"vol2\"\nid = 1\nsize = \"4KiB\"\n", 7, 6, "volume[1].id",
     "duplicate volume id 1 (first used by volume[0].id on line 3)"},
    {"volume id out of range", "[[volume]]\nname = \"v\"\nid = 0\nsize = \"4KiB\"\n", 3, 6, "volume[0].id",
     "must be greater than 0"},
    {"bad SLA class name", "[sla.Gold]\nweight = 1\n" + kVolume, 1, 6, "sla.Gold", "not a valid SLA class name"},
    {"SLA weight not positive", "[sla.gold]\nweight = 0\n" + kVolume, 2, 10, "sla.gold.weight",
     "must be greater than 0"},
    {"SLA weight too large", "[sla.gold]\nweight = 1e7\n" + kVolume, 2, 10, "sla.gold.weight",
     "is above the maximum of 1e+06"},
    {"SLA weight missing", "[sla.gold]\n" + kVolume, 1, 1, "sla.gold.weight", "required key is missing"},
    {"undefined SLA class", client("\"platinum\"", kGoodToken, "{}"), 8, 7, "client[0].sla",
     "undefined SLA class \"platinum\" (defined: \"bronze\", \"gold\", \"silver\")"},
    {"bad token hash", client("\"gold\"", "\"" + std::string(63, 'a') + "\"", "{}"), 9, 16, "client[0].token_sha256",
     "64 lowercase hexadecimal digits"},
    {"token hash in upper case", client("\"gold\"", "\"" + std::string(64, 'A') + "\"", "{}"), 9, 16,
     "client[0].token_sha256", "'A' at position 1"},
    {"undefined volume in access", client("\"gold\"", kGoodToken, "{ vol9 = \"rw\" }"), 10, 12,
     "client[0].access.vol9", "undefined volume \"vol9\" (defined: \"vol1\")"},
    {"bad access right", client("\"gold\"", kGoodToken, "{ vol1 = \"rwx\" }"), 10, 19, "client[0].access.vol1",
     "\"rwx\" is not one of the allowed values \"rw\", \"ro\""},
    {"access not a table", client("\"gold\"", kGoodToken, "\"rw\""), 10, 10, "client[0].access",
     "expected an inline table"},
    {"bad app_type", client("\"gold\"", kGoodToken, "{}") + "app_type = \"game\"\n", 11, 12, "client[0].app_type",
     "\"game\" is not one of the allowed values \"database\""},
    {"duplicate client id",
     client("\"gold\"", kGoodToken, "{}") + "[[client]]\nname = \"d\"\nid = 1\nsla = \"gold\"\ntoken_sha256 = " +
         kGoodToken + "\naccess = {}\n",
     13, 6, "client[1].id", "duplicate client id 1 (first used by client[0].id on line 7)"},
};

}  // namespace

TEST_CASE("[[export]]: name defaults to the volume; allow to loopback; each reference is checked") {
  const std::string client = "[[client]]\nname = \"c\"\nid = 1\nsla = \"gold\"\ntoken_sha256 = " + kGoodToken +
                             "\naccess = { vol1 = \"ro\" }\n";
  Config c = parse(kVolume + client + "[[export]]\nvolume = \"vol1\"\nclient = \"c\"\n");
  REQUIRE(c.exports.size() == 1);
  CHECK(c.exports[0] == ExportConfig{"vol1", "vol1", "c", {"127.0.0.1", "::1"}, false});
  CHECK(c.find_export("vol1") == &c.exports[0]);
  auto refused = [&](const std::string& text, const char* problem) {
    CHECK_THROWS_WITH_AS((void)parse_config(kVolume + client + text, "aiops.toml"), doctest::Contains(problem),
                         ConfigError);
  };
  refused("[[export]]\nvolume = \"vol9\"\nclient = \"c\"\n", "export[0].volume: undefined volume \"vol9\"");
  refused("[[export]]\nvolume = \"vol1\"\nclient = \"d\"\n", "export[0].client: undefined client \"d\"");
  refused("[[export]]\nvolume = \"vol1\"\nclient = \"c\"\nallow = [\"10.0.0.0/33\"]\n",
          "export[0].allow[0]: \"10.0.0.0/33\": the prefix length must be 0 to 32");
  refused("[[export]]\nvolume = \"vol1\"\nclient = \"c\"\nallow = [\"example.com\"]\n", "not an IP address");
  refused("[[export]]\nvolume = \"vol1\"\nclient = \"c\"\nread_only = \"yes\"\n",
          "export[0].read_only: expected true or false");
  refused("[[export]]\nvolume = \"vol1\"\nclient = \"c\"\n[[export]]\nname = \"vol1\"\nvolume = \"vol1\"\nclient = \"c\"\n",
          "duplicate export name \"vol1\"");
  refused("[[volume]]\nname = \"vol2\"\nid = 2\nsize = \"4KiB\"\n[[export]]\nvolume = \"vol2\"\nclient = \"c\"\n",
          "client \"c\" has no access to volume \"vol2\"");
}

TEST_CASE("each kind of bad input gives its own message at its position") {
  REQUIRE(kBadInputs.size() >= 20);
  for (const BadInput& row : kBadInputs) {
    SUBCASE(row.kind) {
      try {
        Config c = parse_config(row.text, "aiops.toml");
        FAIL("accepted:\n" << to_toml(c));
      } catch (const ConfigError& e) {
        INFO(std::string(e.what()));
        CHECK(e.file == "aiops.toml");
        CHECK(e.line == row.line);
        CHECK(e.column == row.column);
        CHECK(e.key == row.key);
        CHECK(e.problem.find(row.problem) != std::string::npos);
        CHECK(std::string(e.what()) == "aiops.toml:" + std::to_string(e.line) + ":" + std::to_string(e.column) + ": " +
                                           e.key + ": " + e.problem);
      }
    }
  }
}
