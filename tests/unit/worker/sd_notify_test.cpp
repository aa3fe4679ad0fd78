#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "aiops/worker/sd_notify.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;

TEST_CASE("sd_notify sends its state to NOTIFY_SOCKET, and nothing when it is unset") {
  test::TempDir tmp;
  std::string path = (tmp / "notify").string();
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);

  ::unsetenv("NOTIFY_SOCKET");
  CHECK(worker::sd_notify("READY=1").ok());

  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  REQUIRE(worker::sd_notify("READY=1\nMAINPID=42").ok());
  char buf[64] = {};
  ssize_t n = ::recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  CHECK(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))) == "READY=1\nMAINPID=42");

  ::setenv("NOTIFY_SOCKET", (tmp / "nobody-listens").c_str(), 1);
  CHECK_FALSE(worker::sd_notify("READY=1").ok());
  ::unsetenv("NOTIFY_SOCKET");
  ::close(fd);
}
