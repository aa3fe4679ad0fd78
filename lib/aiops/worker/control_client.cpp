#include "aiops/worker/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace aiops::worker {
namespace {

// Owns a descriptor.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<nlohmann::json> control_request(const std::filesystem::path& socket, const nlohmann::json& request,
                                       std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = socket.string();
  if (path.size() >= sizeof addr.sun_path) return Error(Errc::invalid_argument, "control socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return error_from_errno(errno, "socket");
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == ENOENT || err == ECONNREFUSED)
      return Error(Errc::unreachable, "no worker is listening on " + path + " (" + std::strerror(err) + ")", err);
    return error_from_errno(err, "connect to " + path);
  }
  std::string line = request.dump() + "\n";
  for (size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(s.fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) return error_from_errno(errno, "send to " + path);
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (reply.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{s.fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0)));
    if (ready == 0) return Error(Errc::timeout, "no reply on " + path + " within " + std::to_string(timeout.count()) + " ms");
    if (ready < 0 && errno != EINTR) return error_from_errno(errno, "poll " + path);
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n == 0) return Error(Errc::disconnected, "the worker closed " + path + " without replying");
    if (n < 0 && errno != EINTR) return error_from_errno(errno, "receive from " + path);
    if (n > 0) reply.append(buf, static_cast<size_t>(n));
  }
  auto doc = nlohmann::json::parse(reply.substr(0, reply.find('\n')), nullptr, false);
  if (doc.is_discarded()) return Error(Errc::invalid_input, "the worker's reply on " + path + " is not JSON");
  return doc;
}

}  // namespace aiops::worker
