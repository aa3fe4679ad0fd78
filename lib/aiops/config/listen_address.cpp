#include "aiops/config/listen_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <string>

namespace aiops::config {
namespace {

constexpr std::string_view kForms = R"(expected "host:port", "[v6addr]:port" or "unix:/path")";

Error bad_address(std::string_view text, std::string_view problem) {
  return Error(Errc::invalid_input,
               "invalid address \"" + std::string(text) + "\": " + std::string(problem) + " (" + std::string(kForms) + ")");
}

bool is_ipv4(const std::string& host) {
  in_addr parsed{};
  return ::inet_pton(AF_INET, host.c_str(), &parsed) == 1;
}

bool is_ipv6(const std::string& host) {
  in6_addr parsed{};
  return ::inet_pton(AF_INET6, host.c_str(), &parsed) == 1;
}

Result<std::uint16_t> parse_port(std::string_view text, std::string_view port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || port.size() > 5 || ec != std::errc{} || end != port.data() + port.size())
    return bad_address(text, "the port must be a number from 0 to 65535");
  if (value > 65535) return bad_address(text, "port " + std::string(port) + " is above 65535");
  return static_cast<std::uint16_t>(value);
}

Result<ListenerConfig> parse_unix(std::string_view text, const std::filesystem::path& directory) {
  std::filesystem::path path(text.substr(5));
  if (path.empty()) return bad_address(text, "a Unix address needs a path after \"unix:\"");
  if (path.is_relative()) path = directory / path;
  path = path.lexically_normal();
  if (!path.has_filename()) return bad_address(text, "the Unix socket path names a directory");
  AIOPS_TRY(check_unix_socket_path(path));
  ListenerConfig out;
  out.address = "unix:" + path.string();
  out.is_unix = true;
  out.unix_path = std::move(path);
  return out;
}

// Splits "host:port" / "[v6]:port" into a host without brackets and a port.
Result<ListenerConfig> parse_inet(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad_address(text, "the port is missing");
  std::string host(text.substr(0, colon));
  AIOPS_ASSIGN(std::uint16_t port, parse_port(text, text.substr(colon + 1)));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (!is_ipv6(host)) return bad_address(text, "\"" + host + "\" is not an IPv6 address");
  } else if (host.find(':') != std::string::npos) {
    return bad_address(text, "an IPv6 address needs brackets, e.g. \"[::1]:7070\"");
  } else if (host != "localhost" && !is_ipv4(host)) {
    return bad_address(text, "the host must be an IPv4 dotted quad, [IPv6] or \"localhost\", not \"" + host + "\"");
  }
  ListenerConfig out;
  out.address = std::string(text);
  out.host = std::move(host);
  out.port = port;
  return out;
}

}  // namespace

Result<ListenerConfig> parse_listen_address(std::string_view text, const std::filesystem::path& directory) {
  if (text.starts_with("unix:")) return parse_unix(text, directory);
  return parse_inet(text);
}

Status check_unix_socket_path(const std::filesystem::path& path) {
  std::size_t length = path.native().size();
  if (length <= kMaxUnixPathBytes) return Status::success();
  return Error(Errc::invalid_input, "the socket path " + path.string() + " is " + std::to_string(length) +
                                        " bytes long; a Unix socket path can have at most " +
                                        std::to_string(kMaxUnixPathBytes));
}

}  // namespace aiops::config
