#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "aiops/auth/token.hpp"
#include "aiops/config/config_loader.hpp"
#include "aiops/config/credentials.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using namespace aiops::config;
using aiops::test::TempDir;

namespace {

const std::string kGoldToken = "gold-secret";
const std::string kBronzeToken = "bronze-secret";

// Two clients whose token_sha256 are those of the tokens above.
Config two_clients(const TempDir& dir) {
  std::string text = "[[volume]]\nname = \"vol0\"\nid = 1\nsize = \"1GiB\"\n";
  text += "[[client]]\nname = \"gold-1\"\nid = 1\nsla = \"gold\"\naccess = {}\ntoken_sha256 = \"" +
          auth::sha256_hex(kGoldToken) + "\"\n";
  text += "[[client]]\nname = \"bronze-1\"\nid = 2\nsla = \"bronze\"\naccess = {}\ntoken_sha256 = \"" +
          auth::sha256_hex(kBronzeToken) + "\"\n";
  return parse_config(text, dir / "aiops.toml");
}

void write_file(const std::filesystem::path& path, const std::string& text, unsigned mode = 0600) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, std::filesystem::perms(mode));
}

// load_credentials of `text` (mode 0600) that must fail; returns the error.
Error refused(const TempDir& dir, const std::string& text) {
  write_file(dir / "credentials.toml", text);
  auto loaded = load_credentials(dir / "credentials.toml", two_clients(dir));
  REQUIRE_FALSE(loaded.ok());
  return loaded.error();
}

std::string gold_entry(const std::string& token) {
  return "[[client]]\nname = \"gold-1\"\ntoken = \"" + token + "\"\n";
}

}  // namespace

TEST_CASE("credentials survive save_credentials and load_credentials") {
  TempDir dir;
  Credentials saved{{{"gold-1", kGoldToken}, {"bronze-1", kBronzeToken}}, {}};
  REQUIRE(save_credentials(dir / "credentials.toml", saved).ok());
  auto loaded = load_credentials(dir / "credentials.toml", two_clients(dir));
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message());
  CHECK(loaded->tokens == saved.tokens);
  CHECK(loaded->source_file == dir / "credentials.toml");
}

TEST_CASE("save_credentials creates the file with mode 0600 and the header") {
  TempDir dir;
  REQUIRE(save_credentials(dir / "credentials.toml", Credentials{{{"gold-1", kGoldToken}}, {}}).ok());
  struct stat st {};
  REQUIRE(::stat((dir / "credentials.toml").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  std::ifstream in(dir / "credentials.toml");
  std::string first_line;
  std::getline(in, first_line);
  CHECK(first_line.find("keep this file private (mode 0600)") != std::string::npos);
}

TEST_CASE("save_credentials keeps tokens with quotes and backslashes exact") {
  TempDir dir;
  Config config = parse_config("[[volume]]\nname = \"v\"\nid = 1\nsize = \"4KiB\"\n[[client]]\nname = \"odd\"\nid = 1\n"
                               "sla = \"gold\"\naccess = {}\ntoken_sha256 = \"" +
                                   auth::sha256_hex("a\"b\\c") + "\"\n",
                               dir / "aiops.toml");
  REQUIRE(save_credentials(dir / "c.toml", Credentials{{{"odd", "a\"b\\c"}}, {}}).ok());
  auto loaded = load_credentials(dir / "c.toml", config);
  REQUIRE_MESSAGE(loaded.ok(), loaded.error().message());
  CHECK(loaded->tokens.at("odd") == "a\"b\\c");
}

TEST_CASE("a credentials file may hold some of the clients, or none") {
  TempDir dir;
  write_file(dir / "credentials.toml", "# nothing yet\n");
  auto empty = load_credentials(dir / "credentials.toml", two_clients(dir));
  REQUIRE(empty.ok());
  CHECK(empty->tokens.empty());
  write_file(dir / "credentials.toml", gold_entry(kGoldToken));
  auto some = load_credentials(dir / "credentials.toml", two_clients(dir));
  REQUIRE(some.ok());
  CHECK(some->tokens.size() == 1);
}

TEST_CASE("token_for finds a client's token and names the file when it has none") {
  Credentials credentials{{{"gold-1", kGoldToken}}, "/etc/aiops/credentials.toml"};
  auto found = token_for(credentials, "gold-1");
  REQUIRE(found.ok());
  CHECK(found.value() == kGoldToken);
  auto missing = token_for(credentials, "silver-1");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Errc::not_found);
  CHECK(missing.error().message() == "no token for client \"silver-1\" in /etc/aiops/credentials.toml");
}

// ---- refusals ----

TEST_CASE("a missing credentials file is not_found and named") {
  TempDir dir;
  auto loaded = load_credentials(dir / "missing.toml", two_clients(dir));
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code() == Errc::not_found);
  CHECK(loaded.error().message() ==
        (dir / "missing.toml").string() + ": cannot open the credentials file: No such file or directory");
}

TEST_CASE("a credentials file readable by group or others is refused") {
  TempDir dir;
  std::string file = (dir / "credentials.toml").string();
  write_file(file, gold_entry(kGoldToken), 0644);
  auto loaded = load_credentials(file, two_clients(dir));
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code() == Errc::permission_denied);
  CHECK(loaded.error().message() == file + " is readable by group/other (mode 0644); chmod 600 " + file);
}

TEST_CASE("a credentials file writable by group or others is refused") {
  TempDir dir;
  std::string file = (dir / "credentials.toml").string();
  write_file(file, gold_entry(kGoldToken), 0602);
  auto loaded = load_credentials(file, two_clients(dir));
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code() == Errc::permission_denied);
  CHECK(loaded.error().message() == file + " is writable by group/other (mode 0602); chmod 600 " + file);
}

TEST_CASE("a credentials file owned by another user is refused") {
  TempDir dir;
  std::string file = (dir / "credentials.toml").string();
  write_file(file, gold_entry(kGoldToken));
  if (::geteuid() != 0) {
    MESSAGE("skipped: only root can give a file to another user");
    return;
  }
  REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);
  auto loaded = load_credentials(file, two_clients(dir));
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code() == Errc::permission_denied);
  CHECK(loaded.error().message().starts_with(file + " is owned by uid 65534, not by the current user (uid 0)"));
}

TEST_CASE("a credentials path that is a directory is refused") {
  TempDir dir;
  std::filesystem::create_directory(dir / "credentials.toml");
  auto loaded = load_credentials(dir / "credentials.toml", two_clients(dir));
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().code() == Errc::invalid_input);
  CHECK(loaded.error().message() == (dir / "credentials.toml").string() + " is not a regular file");
}

TEST_CASE("malformed TOML in a credentials file is refused at its position") {
  TempDir dir;
  Error e = refused(dir, "[[client]]\nname = \"gold-1\n");
  CHECK(e.code() == Errc::invalid_input);
  CHECK(e.message().starts_with((dir / "credentials.toml").string() + ":2:"));
  CHECK(e.message().find(": (syntax): ") != std::string::npos);
}

TEST_CASE("an unknown key in a credentials file is refused with a suggestion") {
  TempDir dir;
  Error e = refused(dir, "[[client]]\nname = \"gold-1\"\ntokn = \"x\"\n");
  CHECK(e.code() == Errc::invalid_input);
  CHECK(e.message() == (dir / "credentials.toml").string() +
                           ":3:1: client[0].tokn: unknown key (did you mean \"token\"?)");
}

TEST_CASE("an unknown table in a credentials file is refused") {
  TempDir dir;
  Error e = refused(dir, "[worker]\nname = \"x\"\n");
  CHECK(e.message() == (dir / "credentials.toml").string() + ":1:2: worker: unknown table");
}

TEST_CASE("a client missing from the configuration is refused") {
  TempDir dir;
  Error e = refused(dir, gold_entry(kGoldToken) + "[[client]]\nname = \"silver-9\"\ntoken = \"t\"\n");
  CHECK(e.code() == Errc::invalid_input);
  CHECK(e.message() == (dir / "credentials.toml").string() + ":5:8: client[1].name: no client \"silver-9\" in " +
                           (dir / "aiops.toml").string() + " (defined: \"gold-1\", \"bronze-1\")");
}

TEST_CASE("a client listed twice in a credentials file is refused") {
  TempDir dir;
  Error e = refused(dir, gold_entry(kGoldToken) + gold_entry(kGoldToken));
  CHECK(e.message() == (dir / "credentials.toml").string() + ":5:8: client[1].name: duplicate client \"gold-1\"");
}

TEST_CASE("a token that does not match token_sha256 is refused") {
  TempDir dir;
  Error e = refused(dir, gold_entry(kBronzeToken));
  CHECK(e.code() == Errc::invalid_input);
  CHECK(e.message() == (dir / "credentials.toml").string() +
                           ":3:9: client[0].token: token for client \"gold-1\" does not match its token_sha256 in " +
                           (dir / "aiops.toml").string());
}

TEST_CASE("an empty token is refused") {
  TempDir dir;
  Error e = refused(dir, gold_entry(""));
  CHECK(e.message() == (dir / "credentials.toml").string() + ":3:9: client[0].token: must not be empty");
}

TEST_CASE("a token that is not a string is refused") {
  TempDir dir;
  Error e = refused(dir, "[[client]]\nname = \"gold-1\"\ntoken = 42\n");
  CHECK(e.message() == (dir / "credentials.toml").string() +
                           ":3:9: client[0].token: expected a string, found an integer (42)");
}

TEST_CASE("a client without a token is refused at its table") {
  TempDir dir;
  Error e = refused(dir, "[[client]]\nname = \"gold-1\"\n");
  CHECK(e.message() == (dir / "credentials.toml").string() + ":1:1: client[0].token: required key is missing");
}
