#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "aiops/config/config_loader.hpp"
#include "aiops/config/credentials.hpp"
#include "aiops/config/instance_init.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using namespace aiops::config;
using aiops::test::TempDir;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string text_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

InitResult init_ok(const std::filesystem::path& dir, bool force = false) {
  auto result = init_instance(dir, force);
  REQUIRE_MESSAGE(result.ok(), result.error().message());
  return std::move(result).value();
}

}  // namespace

TEST_CASE("init_instance writes a configuration that load_config accepts") {
  TempDir tmp;
  init_ok(tmp / "inst");
  Config c = load_config(tmp / "inst/aiops.toml");
  CHECK(c.worker.name == "inst");
  CHECK(c.worker.data_dir == tmp / "inst/data");
  CHECK(c.worker.control_socket == tmp / "inst/control.sock");
  CHECK(c.worker.credentials_file == tmp / "inst/credentials.toml");
  CHECK(c.forecast.priority_file == tmp / "inst/data/state/priorities.toml");
  REQUIRE(c.listeners.size() == 2);
  CHECK(c.listeners[0].protocol == ListenerConfig::Protocol::native);
  CHECK(c.listeners[0].host == "127.0.0.1");
  CHECK(c.listeners[0].port != 0);
  CHECK(c.listeners[1].protocol == ListenerConfig::Protocol::nbd);
  CHECK(c.listeners[1].host == "127.0.0.1");
  CHECK(c.listeners[1].port != 0);
  CHECK(c.listeners[1].port != c.listeners[0].port);
  CHECK(c.log.segment_size_bytes == 16 * MiB);
  CHECK(c.buffer.size_bytes == 64 * MiB);
}

TEST_CASE("init_instance defines two volumes, three SLA classes and six clients") {
  TempDir tmp;
  init_ok(tmp / "inst");
  Config c = load_config(tmp / "inst/aiops.toml");
  REQUIRE(c.volumes.size() == 2);
  CHECK(c.volumes[0] == VolumeConfig{"vol0", 1, 256 * MiB});
  CHECK(c.volumes[1] == VolumeConfig{"vol1", 2, 256 * MiB});
  CHECK(c.sla == std::map<std::string, SlaClass>{{"gold", {8.0}}, {"silver", {4.0}}, {"bronze", {1.0}}});
  const std::vector<std::pair<std::string, std::string>> clients{{"gold-1", "gold"},     {"gold-2", "gold"},
                                                                 {"silver-1", "silver"}, {"silver-2", "silver"},
                                                                 {"bronze-1", "bronze"}, {"bronze-2", "bronze"}};
  REQUIRE(c.clients.size() == clients.size());
  for (std::size_t i = 0; i < clients.size(); ++i) {
    CAPTURE(i);
    CHECK(c.clients[i].name == clients[i].first);
    CHECK(c.clients[i].sla == clients[i].second);
    CHECK(c.clients[i].id == i + 1);
    CHECK(c.clients[i].access == std::map<std::string, Access>{{"vol0", Access::read_write}, {"vol1", Access::read_write}});
  }
}

TEST_CASE("init_instance exports both volumes over NBD to loopback peers") {
  TempDir tmp;
  init_ok(tmp / "inst");
  Config c = load_config(tmp / "inst/aiops.toml");
  const std::vector<std::string> loopback{"127.0.0.1", "::1"};
  REQUIRE(c.exports.size() == 2);
  CHECK(c.exports[0] == ExportConfig{"vol0", "vol0", "gold-1", loopback, false});
  CHECK(c.exports[1] == ExportConfig{"vol1", "vol1", "silver-1", loopback, false});
}

TEST_CASE("init_instance writes credentials of mode 0600 that match the configuration") {
  TempDir tmp;
  init_ok(tmp / "inst");
  CHECK(mode_of(tmp / "inst/credentials.toml") == 0600);
  Config c = load_config(tmp / "inst/aiops.toml");
  auto credentials = load_credentials(c.worker.credentials_file, c);
  REQUIRE_MESSAGE(credentials.ok(), credentials.error().message());
  CHECK(credentials->tokens.size() == 6);
  CHECK(text_of(tmp / "inst/aiops.toml").find(credentials->tokens.at("gold-1")) == std::string::npos);
}

TEST_CASE("init_instance reports what it wrote") {
  TempDir tmp;
  InitResult r = init_ok(tmp / "inst");
  CHECK(r.config_file == tmp / "inst/aiops.toml");
  CHECK(r.credentials_file == tmp / "inst/credentials.toml");
  CHECK(r.control_socket == tmp / "inst/control.sock");
  CHECK(r.listener == load_config(r.config_file).listeners[0].address);
  CHECK(r.listener.starts_with("127.0.0.1:"));
  CHECK(r.clients == std::vector<std::string>{"gold-1", "gold-2", "silver-1", "silver-2", "bronze-1", "bronze-2"});
  CHECK(r.volumes == std::vector<std::string>{"vol0", "vol1"});
}

TEST_CASE("init_instance creates the directory and missing parents with mode 0700") {
  TempDir tmp;
  init_ok(tmp / "a/b/inst/");
  CHECK(mode_of(tmp / "a/b/inst") == 0700);
  CHECK(mode_of(tmp / "a") == 0700);
  CHECK(load_config(tmp / "a/b/inst/aiops.toml").worker.name == "inst");
}

TEST_CASE("an instance directory can be moved") {
  TempDir tmp;
  init_ok(tmp / "inst");
  CHECK(text_of(tmp / "inst/aiops.toml").find(tmp.path().string()) == std::string::npos);
  std::filesystem::rename(tmp / "inst", tmp / "moved");
  Config c = load_config(tmp / "moved/aiops.toml");
  CHECK(c.worker.control_socket == tmp / "moved/control.sock");
  CHECK(load_credentials(c.worker.credentials_file, c).ok());
}

TEST_CASE("init_instance refuses to overwrite an instance and changes nothing") {
  TempDir tmp;
  init_ok(tmp / "inst");
  std::string config = text_of(tmp / "inst/aiops.toml");
  std::string credentials = text_of(tmp / "inst/credentials.toml");
  auto again = init_instance(tmp / "inst", false);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code() == Errc::already_exists);
  CHECK(again.error().message() == (tmp / "inst/aiops.toml").string() + " already exists");
  CHECK(text_of(tmp / "inst/aiops.toml") == config);
  CHECK(text_of(tmp / "inst/credentials.toml") == credentials);
}

TEST_CASE("init_instance refuses a directory that holds only a credentials file") {
  TempDir tmp;
  std::filesystem::create_directory(tmp / "inst");
  std::ofstream(tmp / "inst/credentials.toml") << "# mine\n";
  auto result = init_instance(tmp / "inst", false);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message() == (tmp / "inst/credentials.toml").string() + " already exists");
  CHECK_FALSE(std::filesystem::exists(tmp / "inst/aiops.toml"));
}

TEST_CASE("init_instance with force replaces the instance and its tokens") {
  TempDir tmp;
  init_ok(tmp / "inst");
  std::string old_credentials = text_of(tmp / "inst/credentials.toml");
  init_ok(tmp / "inst", true);
  CHECK(text_of(tmp / "inst/credentials.toml") != old_credentials);
  CHECK(mode_of(tmp / "inst/credentials.toml") == 0600);
}

TEST_CASE("init_instance refuses a directory too long for the control socket and creates nothing") {
  TempDir tmp;
  std::filesystem::path dir = tmp / std::string(120, 'd');
  auto result = init_instance(dir, false);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code() == Errc::invalid_input);
  CHECK(result.error().message().find("a Unix socket path can have at most 107") != std::string::npos);
  CHECK(result.error().message().find("choose a directory whose path is at most 94 bytes long") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir));
}

TEST_CASE("init_instance accepts a directory of exactly 94 bytes") {
  TempDir tmp;
  std::size_t used = tmp.path().string().size() + 1;
  REQUIRE(used < 94);
  auto result = init_instance(tmp / std::string(94 - used, 'd'), false);
  CHECK_MESSAGE(result.ok(), result.error().message());
}

TEST_CASE("init_instance refuses a path that is a file") {
  TempDir tmp;
  std::ofstream(tmp / "file") << "x";
  auto result = init_instance(tmp / "file", true);
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code() == Errc::invalid_input);
  CHECK(result.error().message() == (tmp / "file").string() + " exists and is not a directory");
}

TEST_CASE("instance_name is the sanitised base name of the directory") {
  CHECK(instance_name("/srv/inst") == "inst");
  CHECK(instance_name("/srv/inst/") == "inst");
  CHECK(instance_name("/srv/My Demo.1") == "my-demo-1");
  CHECK(instance_name("/srv/under_score-dash") == "under_score-dash");
  CHECK(instance_name("/srv/" + std::string(40, 'x')) == std::string(32, 'x'));
  CHECK(instance_name("/") == "aiops");
}
