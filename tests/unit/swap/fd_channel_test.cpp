// Descriptors handed over a Unix socket: a listening socket and a live TCP
// connection keep working on the receiving side, counts and payloads
// arrive intact frame by frame, and bad frames are refused without leaking
// the descriptors that came with them.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "aiops/core/endian.hpp"
#include "aiops/swap/fd_channel.hpp"

using aiops::Errc;
using aiops::swap::FdChannel;
using aiops::swap::UniqueFd;

namespace {

std::vector<std::byte> bytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A listener on 127.0.0.1 with a system-chosen port, and that port.
std::pair<UniqueFd, uint16_t> tcp_listener() {
  UniqueFd l(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(l.valid());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(l.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(l.get(), 8) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(l.get(), reinterpret_cast<sockaddr*>(&a), &len) == 0);
  return {std::move(l), ntohs(a.sin_port)};
}

UniqueFd tcp_connect(uint16_t port) {
  UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(c.valid());
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  REQUIRE(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return c;
}

}  // namespace

TEST_CASE("fd channel: a listener and a live connection keep working after the hand-over") {
  auto pair = aiops::swap::fd_channel_pair();
  REQUIRE(pair.ok());
  auto& [old_side, new_side] = pair.value();
  auto [listener, port] = tcp_listener();
  UniqueFd client = tcp_connect(port);
  UniqueFd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(server.valid());
  // A request the old side read but did not parse travels in the payload.
  const int fds[] = {listener.get(), server.get()};
  REQUIRE(old_side.send(7, bytes("unparsed bytes"), fds).ok());
  listener = UniqueFd();  // the old process lets go of its copies
  server = UniqueFd();

  auto got = new_side.receive();
  REQUIRE(got.ok());
  CHECK(got->kind == 7);
  CHECK(got->payload == bytes("unparsed bytes"));
  REQUIRE(got->fds.size() == 2);
  for (const auto& fd : got->fds) CHECK((::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);

  // The connection: bytes the client sends now arrive on the received socket.
  REQUIRE(::send(client.get(), "ping", 4, 0) == 4);
  char buf[8] = {};
  REQUIRE(::recv(got->fds[1].get(), buf, sizeof buf, 0) == 4);
  CHECK(std::string(buf, 4) == "ping");
  // The listener: a new client is accepted on the received one.
  UniqueFd second = tcp_connect(port);
  UniqueFd accepted(::accept4(got->fds[0].get(), nullptr, nullptr, SOCK_CLOEXEC));
  CHECK(accepted.valid());
}

TEST_CASE("fd channel: frames arrive one by one with their own descriptors; the kernel's limit is kept") {
  auto pair = aiops::swap::fd_channel_pair();
  REQUIRE(pair.ok());
  auto& [a, b] = pair.value();
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  UniqueFd r(p[0]), w(p[1]);
  std::vector<int> many(aiops::swap::max_fds_per_message, r.get());
  std::vector<int> too_many(aiops::swap::max_fds_per_message + 1, r.get());
  auto refused = a.send(1, {}, too_many);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code() == Errc::invalid_argument);

  std::vector<std::byte> big(300000, std::byte{0x5a});  // more than a socket buffer: sent in pieces
  const int one[] = {w.get()};
  // The receiver reads concurrently so the large frame cannot block the sender.
  std::thread sender([&] {
    REQUIRE(a.send(1, bytes("first"), many).ok());
    REQUIRE(a.send(2, big, one).ok());
    REQUIRE(a.send(3, bytes("none"), {}).ok());
  });
  auto first = b.receive();
  auto second = b.receive();
  auto third = b.receive();
  sender.join();
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  REQUIRE(third.ok());
  CHECK(first->fds.size() == aiops::swap::max_fds_per_message);
  CHECK(first->payload == bytes("first"));
  CHECK(second->kind == 2);
  CHECK(second->payload == big);
  REQUIRE(second->fds.size() == 1);
  CHECK(third->fds.empty());
  CHECK(third->payload == bytes("none"));
  // The received write end is the pipe's.
  REQUIRE(::write(second->fds[0].get(), "x", 1) == 1);
  char c = 0;
  REQUIRE(::read(r.get(), &c, 1) == 1);
  CHECK(c == 'x');
}

TEST_CASE("fd channel: a bad frame is refused and its descriptors are closed") {
  auto pair = aiops::swap::fd_channel_pair();
  REQUIRE(pair.ok());
  auto& [a, b] = pair.value();
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  UniqueFd r(p[0]), w(p[1]);

  SUBCASE("bad magic") {
    std::byte junk[aiops::swap::fd_frame_header_bytes] = {};
    REQUIRE(::send(a.fd(), junk, sizeof junk, 0) == sizeof junk);
    auto got = b.receive();
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code() == Errc::invalid_input);
    CHECK(got.error().message().find("magic") != std::string::npos);
  }
  SUBCASE("more descriptors announced than sent") {
    // A frame announcing two descriptors, carrying one.
    std::byte header[aiops::swap::fd_frame_header_bytes];
    aiops::store_le<uint32_t>(header, aiops::swap::fd_frame_magic);
    aiops::store_le<uint16_t>(header + 4, aiops::swap::fd_frame_version);
    aiops::store_le<uint16_t>(header + 6, 9);
    aiops::store_le<uint32_t>(header + 8, 0);
    aiops::store_le<uint32_t>(header + 12, 2);
    iovec iov{header, sizeof header};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    const int fd = r.get();
    std::memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    REQUIRE(::sendmsg(a.fd(), &msg, 0) == static_cast<ssize_t>(sizeof header));
    const size_t before = open_fds();
    auto got = b.receive();
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code() == Errc::invalid_input);
    CHECK(got.error().message().find("announces 2 descriptors, 1 arrived") != std::string::npos);
    CHECK(open_fds() == before);  // the one that arrived was closed again
  }
  SUBCASE("the peer closes") {
    const int one[] = {w.get()};
    REQUIRE(a.send(1, bytes("last"), one).ok());
    {
      FdChannel gone = std::move(a);
    }
    REQUIRE(b.receive().ok());
    auto got = b.receive();
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code() == Errc::disconnected);
  }
}
