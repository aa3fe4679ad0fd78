#include <doctest/doctest.h>

#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read.hpp>
#include <string>
#include <vector>

#include "aiops/worker/reply_queue.hpp"

using namespace aiops;
namespace asio = boost::asio;

namespace {

std::vector<std::byte> frame(char fill, size_t n) { return std::vector<std::byte>(n, std::byte(fill)); }

}  // namespace

TEST_CASE("replies queued during a write go out together in the next one, in the order queued") {
  asio::io_context io;
  auto busy = asio::make_work_guard(io);  // run_one waits for the next handler instead of stopping
  asio::local::stream_protocol::socket a(io), b(io);
  asio::local::connect_pair(a, b);
  worker::ReplyQueue q;
  std::vector<boost::system::error_code> ends;
  auto done = [&](const boost::system::error_code& ec) { ends.push_back(ec); };

  CHECK(q.idle());
  q.write(a, done);  // nothing queued: no write starts
  CHECK(io.poll() == 0);
  CHECK(ends.empty());

  q.push(frame('a', 3));
  CHECK_FALSE(q.idle());
  q.write(a, done);
  CHECK(q.writing());
  q.push(frame('b', 2));
  q.push(frame('c', 4));
  q.write(a, done);  // a write is in progress: these wait for the next one
  while (ends.empty()) REQUIRE(io.run_one() == 1);
  CHECK(ends.size() == 1);
  CHECK_FALSE(q.writing());
  CHECK_FALSE(q.idle());  // b and c are still queued

  q.write(a, done);
  while (ends.size() < 2) REQUIRE(io.run_one() == 1);
  CHECK(ends.size() == 2);  // one write for both
  CHECK(q.idle());
  for (const auto& ec : ends) CHECK_FALSE(ec);

  std::string got(9, '\0');
  asio::read(b, asio::buffer(got));
  CHECK(got == "aaabbcccc");
}

TEST_CASE("a failed write reports its error and leaves the queue ready") {
  asio::io_context io;
  auto busy = asio::make_work_guard(io);  // run_one waits for the next handler instead of stopping
  asio::local::stream_protocol::socket a(io), b(io);
  asio::local::connect_pair(a, b);
  b.close();
  worker::ReplyQueue q;
  boost::system::error_code got;
  bool ended = false;
  q.push(frame('x', 1 << 20));  // more than the socket buffer holds: the write sees the closed peer
  q.write(a, [&](const boost::system::error_code& ec) {
    got = ec;
    ended = true;
  });
  while (!ended) REQUIRE(io.run_one() == 1);
  CHECK(got);
  CHECK(q.idle());
}
