// The scheduler in front of the log, with jobs that only record that they
// started: the window, the order, the limit timer and drain.

#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "aiops/sched/dispatcher.hpp"

using aiops::sched::Dispatcher;
using aiops::sched::QosSpec;

namespace {

struct Started {
  std::mutex mu;
  std::vector<int> order;

  Dispatcher::Job job(int id) {
    return [this, id] {
      std::lock_guard lock(mu);
      order.push_back(id);
    };
  }
  size_t size() {
    std::lock_guard lock(mu);
    return order.size();
  }
};

aiops::config::SchedulerConfig config(uint32_t depth, bool fifo = false) {
  aiops::config::SchedulerConfig c;
  c.queue_depth = depth;
  c.queue_limit = 64;
  if (fifo) c.policy = aiops::config::SchedulerConfig::Policy::fifo;
  return c;
}

}  // namespace

TEST_CASE("dispatcher: at most queue_depth jobs run; each done lets the next in") {
  Dispatcher d(config(2));
  Started s;
  for (int i = 0; i < 5; ++i) REQUIRE(d.submit(1, s.job(i)));
  CHECK(s.size() == 2);
  CHECK(d.stats().queued == 3);
  CHECK(d.stats().in_flight == 2);
  d.done();
  CHECK(s.size() == 3);
  d.done();
  d.done();
  CHECK(s.size() == 5);
  CHECK(s.order == std::vector<int>{0, 1, 2, 3, 4});  // one client: its order
  CHECK(d.stats().clients.at(1).dispatched == 5);
}

TEST_CASE("dispatcher: a reserved client overtakes a flood; fifo does not") {
  for (bool fifo : {false, true}) {
    Dispatcher d(config(1, fifo));
    d.set_qos(1, QosSpec{0, 1, 0});     // bronze-like flood
    d.set_qos(2, QosSpec{500, 8, 0});   // gold-like
    Started s;
    REQUIRE(d.submit(1, s.job(100)));   // runs at once and holds the window
    for (int i = 0; i < 20; ++i) REQUIRE(d.submit(1, s.job(i)));
    REQUIRE(d.submit(2, s.job(-1)));
    d.done();  // the window opens for one job
    REQUIRE(s.size() == 2);
    if (fifo) CHECK(s.order[1] == 0);
    else CHECK(s.order[1] == -1);
    CAPTURE(fifo);
  }
}

TEST_CASE("dispatcher: the queue limit refuses") {
  Dispatcher d(config(1));
  Started s;
  REQUIRE(d.submit(1, s.job(0)));  // in flight
  for (int i = 0; i < 64; ++i) REQUIRE(d.submit(1, s.job(i)));
  CHECK(d.fill() == doctest::Approx(1.0));
  CHECK_FALSE(d.submit(2, s.job(-1)));
}

TEST_CASE("dispatcher: a client held back by its limit is started later by the timer") {
  Dispatcher d(config(8));
  d.set_qos(1, QosSpec{0, 1, 20});  // 20 per second: one every 50 ms
  Started s;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(d.submit(1, s.job(i)));
    d.done();
  }
  CHECK(s.size() < 4);  // not all at once
  while (s.size() < 4 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(s.size() == 4);
  // Three gaps of 50 ms at least (the first starts at once).
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(140));
}

TEST_CASE("dispatcher: drain starts everything queued, past the window and the limits") {
  Dispatcher d(config(1));
  d.set_qos(1, QosSpec{0, 1, 1});  // one per second
  Started s;
  for (int i = 0; i < 10; ++i) REQUIRE(d.submit(1, s.job(i)));
  CHECK(s.size() == 1);
  d.drain();
  CHECK(s.size() == 10);
  CHECK(d.stats().queued == 0);
  CHECK(s.order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}
