// The credentials file (credentials.hpp): first the file itself must be
// private and ours, checked with fstat on the descriptor that is then read,
// so the checks and the read concern the same file; then its contents are
// read with the located readers of aiops.toml (config_reader.hpp), whose
// ConfigError is turned into an Error at the end of load_credentials.
#include "aiops/config/credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>

#include "aiops/auth/token.hpp"
#include "aiops/config/config_loader.hpp"
#include "aiops/config/config_reader.hpp"
#include "aiops/config/toml_text.hpp"
#include "aiops/core/units.hpp"
#include "aiops/io/replace_file.hpp"

namespace aiops::config {
namespace {

using namespace std::string_view_literals;
using detail::Section;
using detail::Setting;
using detail::SourceFile;

constexpr std::array kRootKeys{"client"sv};
constexpr std::array kClientKeys{"name"sv, "token"sv};
constexpr std::string_view kHeader =
    "# aiops client credentials — clear tokens; keep this file private (mode 0600).\n"
    "# The SHA-256 of each token is the token_sha256 of the client in aiops.toml;\n"
    "# see aiops.toml(5).\n";

// Closes the descriptor when the read is over, whichever way it ends.
class OpenFile {
 public:
  explicit OpenFile(int fd) : fd_(fd) {}
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const noexcept { return fd_; }

 private:
  int fd_;
};

std::string octal_mode(mode_t mode) {
  std::array<char, 8> text{};
  std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777));
  return text.data();
}

// What group and others may do with the file, for the refusal message.
std::string_view exposure(mode_t mode) {
  if ((mode & (S_IRGRP | S_IROTH)) != 0) return "readable";
  if ((mode & (S_IWGRP | S_IWOTH)) != 0) return "writable";
  return "executable";
}

Status check_private(const std::filesystem::path& file, const struct stat& st) {
  std::string name = file.string();
  if (!S_ISREG(st.st_mode)) return Error(Errc::invalid_input, name + " is not a regular file");
  if ((st.st_mode & 077) != 0)
    return Error(Errc::permission_denied, name + " is " + std::string(exposure(st.st_mode)) +
                                              " by group/other (mode " + octal_mode(st.st_mode) + "); chmod 600 " +
                                              name);
  if (st.st_uid != ::geteuid())
    return Error(Errc::permission_denied, name + " is owned by uid " + std::to_string(st.st_uid) +
                                              ", not by the current user (uid " + std::to_string(::geteuid()) +
                                              "); only its owner may use the tokens in it");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxCredentialsBytes)
    return Error(Errc::invalid_input, name + " is " + format_size(static_cast<std::uint64_t>(st.st_size)) +
                                          "; a credentials file may be at most " + format_size(kMaxCredentialsBytes));
  return Status::success();
}

// The contents of `file` once it has passed check_private.
Result<std::string> read_private_file(const std::filesystem::path& file) {
  // O_NONBLOCK: opening a FIFO must not hang before fstat can refuse it.
  OpenFile fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return error_from_errno(errno, file.string() + ": cannot open the credentials file");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return error_from_errno(errno, file.string() + ": cannot stat the credentials file");
  AIOPS_TRY(check_private(file, st));
  std::string text;
  std::array<char, 65536> buffer{};
  while (text.size() <= kMaxCredentialsBytes) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return error_from_errno(errno, file.string() + ": cannot read the credentials file");
    if (n == 0) return text;
    text.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return Error(Errc::invalid_input, file.string() + " grew beyond " + format_size(kMaxCredentialsBytes) +
                                        " while it was read");
}

std::string defined_clients(const Config& config) {
  std::string out;
  for (const ClientConfig& client : config.clients) out += (out.empty() ? "" : ", ") + toml_string(client.name);
  return out.empty() ? "it defines no clients" : "defined: " + out;
}

std::string config_name(const Config& config) {
  return config.source_file.empty() ? "the configuration" : config.source_file.string();
}

// Reads one [[client]] into `out`; throws ConfigError.
void read_client(const Section& client, const Config& config, Credentials& out) {
  client.allow_only(kClientKeys);
  Setting name = client.require("name");
  const ClientConfig* configured = config.find_client(name.string());
  if (configured == nullptr)
    name.fail("no client " + toml_string(name.string()) + " in " + config_name(config) + " (" +
              defined_clients(config) + ")");
  if (out.tokens.count(configured->name) != 0) name.fail("duplicate client " + toml_string(configured->name));
  Setting token = client.require("token");
  std::string value = token.string();
  if (value.empty()) token.fail("must not be empty");
  if (!auth::token_matches(value, configured->token_sha256))
    token.fail("token for client " + toml_string(configured->name) + " does not match its token_sha256 in " +
               config_name(config));
  out.tokens.emplace(configured->name, std::move(value));
}

// The checked contents of the file; throws ConfigError.
Credentials parse_credentials(std::string_view text, const std::filesystem::path& file, const Config& config) {
  SourceFile source{file.string(), std::filesystem::absolute(file).lexically_normal().parent_path()};
  toml::table document;
  try {
    document = toml::parse(text, std::string_view(source.name));
  } catch (const toml::parse_error& e) {
    detail::fail(source, e.source().begin, "(syntax)", std::string(e.description()));
  }
  Section root(source, document, "");
  root.allow_only(kRootKeys);
  Credentials out;
  out.source_file = file;
  for (const Section& client : root.sections("client")) read_client(client, config, out);
  return out;
}

}  // namespace

Result<Credentials> load_credentials(const std::filesystem::path& file, const Config& config) {
  AIOPS_ASSIGN(std::string text, read_private_file(file));
  try {
    return parse_credentials(text, file, config);
  } catch (const ConfigError& e) {
    return Error(Errc::invalid_input, e.what());
  }
}

Status save_credentials(const std::filesystem::path& file, const Credentials& credentials) {
  std::string text(kHeader);
  for (const auto& [name, token] : credentials.tokens)
    text += "\n[[client]]\nname = " + toml_string(name) + "\ntoken = " + toml_string(token) + "\n";
  return io::replace_file(io::posix_file_system(), file, text);
}

Result<std::string> token_for(const Credentials& credentials, std::string_view client) {
  auto found = credentials.tokens.find(std::string(client));
  if (found != credentials.tokens.end()) return found->second;
  std::string where = credentials.source_file.empty() ? "the credentials" : credentials.source_file.string();
  return Error(Errc::not_found, "no token for client " + toml_string(client) + " in " + where);
}

}  // namespace aiops::config
