// Each kind of bad input to a real worker (in this process, on loopback):
// its own status code, the connection closed only when the stream cannot be
// trusted any more, and the worker still serving other clients afterwards.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "aiops/auth/token.hpp"
#include "aiops/client/native_client.hpp"
#include "aiops/config/config_loader.hpp"
#include "aiops/core/checksum.hpp"
#include "aiops/worker/worker.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

using namespace aiops;
using aiops::client::NativeClient;
using aiops::client::Reply;
using aiops::net::Opcode;
namespace net = aiops::net;

namespace {

constexpr uint64_t volume_bytes = 1 << 20;

// A worker with two clients: "writer" may write vol0 and vol1, "reader" may
// only read vol0. Small limits so that each can be hit.
class TestWorker {
 public:
  explicit TestWorker(std::string extra_worker_keys = "", unsigned max_outstanding = 1) {
    std::string text = "[worker]\nname = \"badinput\"\ndata_dir = \"data\"\ncontrol_socket = \"control.sock\"\n"
                       "max_request_size = \"64KiB\"\nmax_outstanding = " + std::to_string(max_outstanding) + "\n" +
                       extra_worker_keys +
                       "[[listener]]\nprotocol = \"native\"\naddress = \"127.0.0.1:0\"\n"
                       "[log]\nsegment_size = \"1MiB\"\n"
                       "[[volume]]\nname = \"vol0\"\nid = 1\nsize = \"1MiB\"\n"
                       "[[volume]]\nname = \"vol1\"\nid = 2\nsize = \"1MiB\"\n"
                       "[[client]]\nname = \"writer\"\nid = 1\nsla = \"gold\"\ntoken_sha256 = \"" +
                       auth::sha256_hex("writer-token") + "\"\naccess = { vol0 = \"rw\", vol1 = \"rw\" }\n"
                       "[[client]]\nname = \"reader\"\nid = 2\nsla = \"bronze\"\ntoken_sha256 = \"" +
                       auth::sha256_hex("reader-token") + "\"\naccess = { vol0 = \"ro\" }\n";
    std::ofstream(dir_ / "aiops.toml") << text;
    config_ = config::load_config(dir_ / "aiops.toml");
    auto w = worker::Worker::start(config_);
    REQUIRE_MESSAGE(w.ok(), w.error().message());
    worker_ = std::move(w.value());
    std::string address = worker_->status()["listeners"][0]["address"];
    endpoint_.host = "127.0.0.1";
    endpoint_.port = static_cast<uint16_t>(std::stoul(address.substr(address.rfind(':') + 1)));
  }
  ~TestWorker() { (void)worker_->shutdown(); }

  std::unique_ptr<NativeClient> connect(const std::string& name = "writer") {
    auto c = NativeClient::connect(endpoint_, name, name + "-token", std::chrono::seconds(5));
    REQUIRE_MESSAGE(c.ok(), c.error().message());
    return std::move(c.value());
  }
  // A fresh client can still write and read back.
  void still_serves() {
    auto c = connect();
    auto data = test::payload_for(4242, 4096);
    REQUIRE(c->write(1, 8192, data).ok());
    auto back = c->read(1, 8192, 4096);
    REQUIRE(back.ok());
    CHECK(back.value() == data);
  }
  const client::Endpoint& endpoint() const { return endpoint_; }

 private:
  test::TempDir dir_;
  config::Config config_;
  std::unique_ptr<worker::Worker> worker_;
  client::Endpoint endpoint_;
};

std::vector<std::byte> header(net::RequestHeader h) {
  std::vector<std::byte> b(net::request_header_bytes);
  net::encode_request(h, b.data());
  return b;
}

// After a refusal that keeps the connection, it still works.
void connection_still_works(NativeClient& c) {
  auto data = test::payload_for(7, 100);
  CHECK(c.write(1, 0, data).ok());
}

void connection_closed(NativeClient& c) {
  auto r = c.receive();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Errc::disconnected);
}

struct Row {
  const char* name;
  std::function<void(TestWorker&, std::unique_ptr<NativeClient>&)> send;  // may replace the client
  net::Status expected;
  bool stays_open;
};

}  // namespace

TEST_CASE("each bad request gets its own status, and the worker keeps serving") {
  const auto payload = test::payload_for(1, 512);
  const std::vector<Row> rows = {
      {"unknown volume", [&](TestWorker&, auto& c) { REQUIRE(c->send_write(10, 99, 0, payload, false).ok()); },
       net::Status::unknown_volume, true},
      {"extent beyond the volume",
       [&](TestWorker&, auto& c) { REQUIRE(c->send_write(11, 1, volume_bytes - 100, payload, false).ok()); },
       net::Status::out_of_range, true},
      {"read beyond the volume", [&](TestWorker&, auto& c) { REQUIRE(c->send_read(12, 1, volume_bytes, 1).ok()); },
       net::Status::out_of_range, true},
      {"zero-length write",
       [&](TestWorker&, auto& c) { REQUIRE(c->send_raw(header({Opcode::write, 0, 13, 1, 0, 0, 0})).ok()); },
       net::Status::out_of_range, true},
      {"checksum mismatch",
       [&](TestWorker&, auto& c) {
         auto h = header({Opcode::write, 0, 14, 1, static_cast<uint32_t>(payload.size()), 0, checksum64(payload) ^ 1});
         REQUIRE(c->send_raw(h).ok());
         REQUIRE(c->send_raw(payload).ok());
       },
       net::Status::checksum_mismatch, true},
      {"request larger than max_request_size",
       [&](TestWorker&, auto& c) {
         std::vector<std::byte> big(128 << 10);
         REQUIRE(c->send_write(15, 1, 0, big, false).ok());  // the payload is read and dropped
       },
       net::Status::too_large, true},
      {"write to a volume not granted", [&](TestWorker& w, auto& c) {
         c = w.connect("reader");
         REQUIRE(c->send_write(16, 2, 0, payload, false).ok());
       },
       net::Status::access_denied, true},
      {"write to a read-only volume", [&](TestWorker& w, auto& c) {
         c = w.connect("reader");
         REQUIRE(c->send_write(17, 1, 0, payload, false).ok());
       },
       net::Status::access_denied, true},
      {"bad magic",
       [&](TestWorker&, auto& c) {
         auto h = header({Opcode::read, 0, 18, 1, 16, 0, 0});
         h[0] = std::byte{'X'};
         REQUIRE(c->send_raw(h).ok());
       },
       net::Status::malformed, false},
      {"unsupported version",
       [&](TestWorker&, auto& c) {
         auto h = header({Opcode::read, 0, 19, 1, 16, 0, 0});
         h[4] = std::byte{9};
         REQUIRE(c->send_raw(h).ok());
       },
       net::Status::unsupported_version, false},
      {"unknown opcode",
       [&](TestWorker&, auto& c) {
         auto h = header({Opcode::read, 0, 20, 1, 16, 0, 0});
         h[5] = std::byte{77};
         REQUIRE(c->send_raw(h).ok());
       },
       net::Status::malformed, false},
      {"a second HELLO",
       [&](TestWorker&, auto& c) {
         auto body = net::encode_hello({"writer", "writer-token"});
         REQUIRE(c->send_raw(header({Opcode::hello, 0, 21, 0, static_cast<uint32_t>(body.size()), 0, checksum64(body)})).ok());
         REQUIRE(c->send_raw(body).ok());
       },
       net::Status::malformed, false},
  };
  TestWorker w;
  for (const Row& row : rows) {
    SUBCASE(row.name) {
      auto c = w.connect();
      row.send(w, c);
      auto r = c->receive();
      REQUIRE_MESSAGE(r.ok(), r.error().message());
      CHECK(r->header.status == row.expected);
      if (row.stays_open) {
        if (row.expected == net::Status::access_denied) c = w.connect();
        connection_still_works(*c);
      } else {
        connection_closed(*c);
      }
      w.still_serves();
    }
  }
}

namespace {

// Sends `frame` on a fresh connection; returns the one reply, after which
// the worker must close the connection.
Reply hello_reply_of(const client::Endpoint& e, std::vector<std::byte> frame) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::send(fd, frame.data(), frame.size(), 0) == static_cast<ssize_t>(frame.size()));
  std::array<std::byte, net::reply_header_bytes> raw{};
  size_t got = 0;
  while (got < raw.size()) {
    ssize_t n = ::recv(fd, raw.data() + got, raw.size() - got, 0);
    REQUIRE(n > 0);
    got += static_cast<size_t>(n);
  }
  std::byte extra[1];
  CHECK(::recv(fd, extra, 1, 0) == 0);  // then the worker closes the connection
  ::close(fd);
  auto d = net::decode_reply(raw.data());
  REQUIRE(std::holds_alternative<net::ReplyHeader>(d));
  return {std::get<net::ReplyHeader>(d), {}};
}

std::vector<std::byte> hello_frame(const std::string& name, const std::string& token) {
  auto body = net::encode_hello({name, token});
  auto f = header({Opcode::hello, 0, 1, 0, static_cast<uint32_t>(body.size()), 0, checksum64(body)});
  f.insert(f.end(), body.begin(), body.end());
  return f;
}

}  // namespace

TEST_CASE("a failed HELLO or a request before HELLO is answered and the connection closed") {
  TestWorker w;
  SUBCASE("unknown client") { CHECK(hello_reply_of(w.endpoint(), hello_frame("nobody", "x")).header.status == net::Status::unknown_client); }
  SUBCASE("bad token") { CHECK(hello_reply_of(w.endpoint(), hello_frame("writer", "wrong")).header.status == net::Status::bad_token); }
  SUBCASE("request before HELLO") {
    CHECK(hello_reply_of(w.endpoint(), header({Opcode::read, 0, 5, 1, 16, 0, 0})).header.status ==
          net::Status::not_authenticated);
  }
  SUBCASE("HELLO body that is not one") {
    std::vector<std::byte> body(8, std::byte{0xff});
    auto f = header({Opcode::hello, 0, 1, 0, 8, 0, checksum64(body)});
    f.insert(f.end(), body.begin(), body.end());
    CHECK(hello_reply_of(w.endpoint(), f).header.status == net::Status::malformed);
  }
  w.still_serves();
}

TEST_CASE("more outstanding requests than max_outstanding are refused, not queued") {
  TestWorker w;
  auto c = w.connect();
  auto data = test::payload_for(3, 4096);
  // Twenty durable writes in one go: the first is still in the log when the
  // next ones arrive, with max_outstanding = 1.
  for (uint64_t h = 1; h <= 20; ++h) REQUIRE(c->send_write(h, 1, h * 4096, data, true).ok());
  int ok = 0, refused = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = c->receive();
    REQUIRE(r.ok());
    if (r->header.status == net::Status::ok) ++ok;
    else if (r->header.status == net::Status::too_many_outstanding) {
      ++refused;
      CHECK(r->header.retry_after_ms > 0);
    } else FAIL("unexpected status " << net::status_name(r->header.status));
  }
  CHECK(ok >= 1);
  CHECK(refused >= 1);
  connection_still_works(*c);
  w.still_serves();
}

TEST_CASE("an idle connection is closed after idle_timeout") {
  TestWorker w("idle_timeout = \"1s\"\n");
  auto c = w.connect();
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  connection_closed(*c);
  w.still_serves();
}

TEST_CASE("connections beyond max_connections are refused with busy") {
  TestWorker w("max_connections = 2\n");
  auto a = w.connect(), b = w.connect();
  auto third = NativeClient::connect(w.endpoint(), "writer", "writer-token", std::chrono::seconds(5));
  REQUIRE_FALSE(third.ok());
  CHECK(third.error().code() == Errc::busy);
  a.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto again = NativeClient::connect(w.endpoint(), "writer", "writer-token", std::chrono::seconds(5));
  CHECK(again.ok());
}

// The worker reads whatever the socket holds and parses every frame in it:
// many requests in one segment, frames cut at any byte, and a payload
// larger than its input buffer all come out right.
TEST_CASE("pipelined requests in one stream, cut anywhere, are all answered") {
  TestWorker w("", 512);
  auto c = w.connect();
  std::vector<std::byte> stream;
  std::vector<std::vector<std::byte>> written;
  auto append_write = [&](uint64_t handle, uint64_t offset, std::vector<std::byte> data) {
    auto h = header({Opcode::write, 0, handle, 1, static_cast<uint32_t>(data.size()), offset, checksum64(data)});
    stream.insert(stream.end(), h.begin(), h.end());
    stream.insert(stream.end(), data.begin(), data.end());
    written.push_back(std::move(data));
  };
  for (uint64_t i = 0; i < 150; ++i) append_write(1000 + i, i * 512, test::payload_for(i, 512));
  append_write(2000, 512 * 1024, test::payload_for(99, 60 * 1024));  // more than the 64 KiB buffer holds with the rest
  // Cut the stream into pieces of 1 to 97 bytes, each sent on its own.
  size_t at = 0;
  for (size_t cut = 1; at < stream.size(); cut = cut % 97 + 13) {
    size_t n = std::min(cut, stream.size() - at);
    REQUIRE(c->send_raw(std::span(stream).subspan(at, n)).ok());
    at += n;
  }
  std::set<uint64_t> answered;
  for (size_t i = 0; i < written.size(); ++i) {
    auto r = c->receive();
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    CHECK(r->header.status == net::Status::ok);
    answered.insert(r->header.handle);
  }
  CHECK(answered.size() == written.size());
  // Reads, all in one send: each returns its block.
  std::vector<std::byte> reads;
  for (uint64_t i = 0; i < 150; ++i) {
    auto h = header({Opcode::read, 0, 3000 + i, 1, 512, i * 512, 0});
    reads.insert(reads.end(), h.begin(), h.end());
  }
  REQUIRE(c->send_raw(reads).ok());
  for (size_t i = 0; i < 150; ++i) {
    auto r = c->receive();
    REQUIRE_MESSAGE(r.ok(), r.error().message());
    REQUIRE(r->header.status == net::Status::ok);
    CHECK(r->payload == written.at(r->header.handle - 3000));
  }
  auto big = c->read(1, 512 * 1024, 60 * 1024);
  REQUIRE(big.ok());
  CHECK(big.value() == written.back());
}
