// init_instance (instance_init.hpp): checks that change nothing, then the
// directory, the port and the tokens, then the two files, then reading both
// back the way the worker and the tools will.
#include "aiops/config/instance_init.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <string_view>

#include "aiops/auth/token.hpp"
#include "aiops/config/config_loader.hpp"
#include "aiops/config/credentials.hpp"
#include "aiops/config/listen_address.hpp"
#include "aiops/config/toml_text.hpp"
#include "aiops/io/file_system.hpp"
#include "aiops/io/replace_file.hpp"

namespace aiops::config {
namespace {

constexpr std::string_view kConfigName = "aiops.toml";
constexpr std::string_view kCredentialsName = "credentials.toml";
constexpr std::string_view kControlSocketName = "control.sock";
constexpr std::size_t kMaxWorkerNameLength = 32;

struct ClientSpec {
  std::string_view name;
  std::string_view sla;
};
// Client ids are their position here, counted from 1.
constexpr std::array<ClientSpec, 6> kClients{{{"gold-1", "gold"},
                                              {"gold-2", "gold"},
                                              {"silver-1", "silver"},
                                              {"silver-2", "silver"},
                                              {"bronze-1", "bronze"},
                                              {"bronze-2", "bronze"}}};
// Volume ids are their position here, counted from 1.
constexpr std::array<std::string_view, 2> kVolumes{"vol0", "vol1"};
// The client each volume's NBD export acts as.
constexpr std::array<std::string_view, 2> kExportClients{"gold-1", "silver-1"};

// `dir` absolute and normal, without a trailing separator.
std::filesystem::path normal_directory(const std::filesystem::path& dir) {
  std::filesystem::path out = std::filesystem::absolute(dir).lexically_normal();
  if (out.filename().empty() && out.has_relative_path()) out = out.parent_path();
  return out;
}

// Refuses what would make the instance unusable or overwrite one, before
// anything is created.
Status check_target(const std::filesystem::path& dir, bool force) {
  if (Status fits = check_unix_socket_path(dir / kControlSocketName); !fits.ok())
    return Error(Errc::invalid_input, fits.error().message() + "; choose a directory whose path is at most " +
                                          std::to_string(kMaxUnixPathBytes - 1 - kControlSocketName.size()) +
                                          " bytes long");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::success();
    return error_from_errno(errno, dir.string());
  }
  if (!S_ISDIR(st.st_mode)) return Error(Errc::invalid_input, dir.string() + " exists and is not a directory");
  if (force) return Status::success();
  for (std::string_view name : {kConfigName, kCredentialsName}) {
    std::filesystem::path file = dir / name;
    if (::lstat(file.c_str(), &st) == 0) return Error(Errc::already_exists, file.string() + " already exists");
    if (errno != ENOENT) return error_from_errno(errno, file.string());
  }
  return Status::success();
}

// The port `fd` gets when bound to 127.0.0.1:0.
Result<std::uint16_t> bind_any_loopback_port(int fd) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    return error_from_errno(errno, "bind a TCP socket to 127.0.0.1:0 to find a free port");
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return error_from_errno(errno, "read the port of a TCP socket bound to 127.0.0.1:0");
  return ntohs(address.sin_port);
}

// Two different TCP ports on 127.0.0.1 that were free when this returned
// (see the header): both sockets are bound at once, so they differ.
Result<std::pair<std::uint16_t, std::uint16_t>> free_loopback_ports() {
  int fds[2] = {::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  Result<std::uint16_t> ports[2] = {Error(Errc::io_error, "create a TCP socket to find a free port"),
                                    Error(Errc::io_error, "create a TCP socket to find a free port")};
  for (int i = 0; i < 2; ++i)
    if (fds[i] >= 0) ports[i] = bind_any_loopback_port(fds[i]);
    else ports[i] = error_from_errno(errno, "create a TCP socket to find a free port");
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  for (const auto& port : ports)
    if (!port.ok()) return port.error();
  return std::pair{*ports[0], *ports[1]};
}

std::string header_text() {
  return std::string("# aiops.toml, written by \"aiops config init\" (aiops ") + AIOPS_VERSION +
         ") for a worker\n"
         "# instance that lives in this directory. Start it from here with\n"
         "#   aiops-worker --config aiops.toml\n"
         "#\n"
         "# The clients' tokens are in credentials.toml (mode 0600), which the aiops\n"
         "# tools read; this file holds only the SHA-256 of each. Every path below is\n"
         "# relative to this directory, so the directory can be moved as a whole.\n"
         "# Settings not written here have their defaults, described in\n"
         "# aiops.toml(5); \"aiops config check aiops.toml\" prints them all.\n";
}

std::string worker_text(const std::string& name, std::uint16_t port, std::uint16_t nbd_port) {
  return "\n[worker]\nname = " + toml_string(name) + "\ndata_dir = \"data\"\ncontrol_socket = " +
         toml_string(kControlSocketName) + "\ncredentials_file = " + toml_string(kCredentialsName) +
         "\n\n"
         "# The ports were free when this file was written; another program may have\n"
         "# taken them since. If the worker cannot listen, change them here.\n"
         "[[listener]]\nprotocol = \"native\"\naddress = \"127.0.0.1:" +
         std::to_string(port) +
         "\"\n\n"
         "# NBD clients (qemu, nbdinfo, nbdcopy, fio): nbd://127.0.0.1:" +
         std::to_string(nbd_port) + "/vol0\n[[listener]]\nprotocol = \"nbd\"\naddress = \"127.0.0.1:" +
         std::to_string(nbd_port) +
         "\"\n\n"
         "# Demo sizes: small log segments and a small speculative buffer.\n"
         "[log]\nsegment_size = \"16MiB\"\n\n[buffer]\nsize = \"64MiB\"\n";
}

std::string volumes_and_sla_text() {
  std::string out;
  for (std::size_t i = 0; i < kVolumes.size(); ++i)
    out += "\n[[volume]]\nname = " + toml_string(kVolumes[i]) + "\nid = " + std::to_string(i + 1) +
           "\nsize = \"256MiB\"\n";
  out += "\n[sla.gold]\nweight = 8.0\n\n[sla.silver]\nweight = 4.0\n\n[sla.bronze]\nweight = 1.0\n";
  return out;
}

std::string clients_text(const Credentials& credentials) {
  std::string access;
  for (std::string_view volume : kVolumes) access += (access.empty() ? "" : ", ") + toml_key(volume) + " = \"rw\"";
  std::string out;
  for (std::size_t i = 0; i < kClients.size(); ++i) {
    const std::string& token = credentials.tokens.at(std::string(kClients[i].name));
    out += "\n[[client]]\nname = " + toml_string(kClients[i].name) + "\nid = " + std::to_string(i + 1) +
           "\nsla = " + toml_string(kClients[i].sla) + "\ntoken_sha256 = \"" + auth::sha256_hex(token) +
           "\"\naccess = { " + access + " }\n";
  }
  return out;
}

// Each volume served over NBD as one of the clients, to loopback peers only.
std::string exports_text() {
  std::string out;
  for (std::size_t i = 0; i < kVolumes.size(); ++i)
    out += std::string(i == 0 ? "\n# NBD exports: each volume, acting as a client (its SLA class and rights),\n"
                                "# for peers on this machine only.\n"
                              : "\n") +
           "[[export]]\nvolume = " + toml_string(kVolumes[i]) + "\nclient = " +
           toml_string(kExportClients[i]) + "\nallow = [\"127.0.0.1\", \"::1\"]\n";
  return out;
}

std::string config_text(const std::string& name, std::uint16_t port, std::uint16_t nbd_port,
                        const Credentials& credentials) {
  return header_text() + worker_text(name, port, nbd_port) + volumes_and_sla_text() + clients_text(credentials) +
         exports_text() +
         "\n[forecast]\npriority_file = \"data/state/priorities.toml\"\n";
}

Result<Credentials> fresh_credentials() {
  Credentials out;
  for (const ClientSpec& client : kClients) {
    AIOPS_ASSIGN(std::string token, auth::generate_token());
    out.tokens.emplace(client.name, std::move(token));
  }
  return out;
}

// Reads both files back as the worker and the tools will.
Result<InitResult> verify_instance(const std::filesystem::path& config_file, const std::filesystem::path& credentials_file) {
  Config config;
  try {
    config = load_config(config_file);
  } catch (const ConfigError& e) {
    return Error(Errc::invalid_input, std::string("the written configuration is not valid: ") + e.what());
  }
  auto credentials = load_credentials(credentials_file, config);
  if (!credentials.ok()) return credentials.error().with_context("the written credentials are not accepted");
  InitResult out{config_file, credentials_file, config.listeners.at(0).address, config.listeners.at(1).address,
                 config.worker.control_socket, {}, {}};
  for (const ClientConfig& client : config.clients) out.clients.push_back(client.name);
  for (const VolumeConfig& volume : config.volumes) out.volumes.push_back(volume.name);
  return out;
}

}  // namespace

std::string instance_name(const std::filesystem::path& dir) {
  std::string base = normal_directory(dir).filename().string();
  std::string name;
  for (char c : base.substr(0, kMaxWorkerNameLength)) {
    if (c >= 'A' && c <= 'Z') name += static_cast<char>(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') name += c;
    else name += '-';
  }
  return name.empty() ? "aiops" : name;
}

Result<InitResult> init_instance(const std::filesystem::path& dir, bool force) {
  std::filesystem::path root = normal_directory(dir);
  AIOPS_TRY(check_target(root, force));
  AIOPS_TRY(io::create_directories(io::posix_file_system(), root));
  AIOPS_ASSIGN(auto ports, free_loopback_ports());
  AIOPS_ASSIGN(Credentials credentials, fresh_credentials());
  std::filesystem::path config_file = root / kConfigName;
  std::filesystem::path credentials_file = root / kCredentialsName;
  AIOPS_TRY(save_credentials(credentials_file, credentials));
  AIOPS_TRY(io::replace_file(io::posix_file_system(), config_file, config_text(instance_name(root), ports.first, ports.second, credentials)));
  return verify_instance(config_file, credentials_file);
}

}  // namespace aiops::config
