// The dispatch queue against its contract, on a simulated server: a server
// of capacity C requests per second asks the queue for one request at each
// t = k / C, and a slot goes unused when the queue gives nothing. Backlogged
// clients are topped up before every slot, so they never run dry. The queue
// is deterministic, so the bounds are tight: a slot or two of rounding, or a
// share within 1%.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "aiops/sched/tag_queue.hpp"

using aiops::sched::Phase;
using aiops::sched::Pick;
using aiops::sched::Policy;
using aiops::sched::QosSpec;
using aiops::sched::TagQueue;

namespace {

struct Counts {
  std::map<uint32_t, uint64_t> served;
  std::map<uint32_t, uint64_t> by_reservation;
  uint64_t idle_slots = 0;

  [[nodiscard]] uint64_t of(uint32_t client) const {
    auto it = served.find(client);
    return it == served.end() ? 0 : it->second;
  }
  [[nodiscard]] uint64_t reserved(uint32_t client) const {
    auto it = by_reservation.find(client);
    return it == by_reservation.end() ? 0 : it->second;
  }
};

class Server {
 public:
  explicit Server(double capacity, Policy policy = Policy::mclock) : queue(policy), capacity_(capacity) {}

  TagQueue queue;

  [[nodiscard]] double now() const { return static_cast<double>(slot_) / capacity_; }
  [[nodiscard]] uint64_t slot() const { return slot_; }

  /// Keeps `client` with at least `depth` requests queued from now on.
  void backlog(uint32_t client, size_t depth = 4) { depth_[client] = depth; }
  /// Stops topping `client` up; what it has queued still drains.
  void stop(uint32_t client) { depth_.erase(client); }
  /// One request of `client`, arriving now.
  void send(uint32_t client) { queue.push(client, next_item_++, now()); }

  /// Runs `slots` dispatch slots; `observe(slot, pick)` sees each outcome.
  template <typename Observe>
  Counts run(uint64_t slots, Observe observe) {
    Counts counts;
    for (uint64_t end = slot_ + slots; slot_ < end; ++slot_) {
      for (auto [client, depth] : depth_)
        while (queue.size(client) < depth) send(client);
      const std::optional<Pick> pick = queue.pop(now());
      observe(slot_, pick);
      if (!pick) {
        ++counts.idle_slots;
        continue;
      }
      // Items are numbered in push order, so per-client FIFO order means
      // increasing items per client; checked on every run.
      auto [last, first] = last_item_.try_emplace(pick->client, pick->item);
      if (!first) {
        REQUIRE(pick->item > last->second);
        last->second = pick->item;
      }
      ++counts.served[pick->client];
      if (pick->phase == Phase::reservation) ++counts.by_reservation[pick->client];
    }
    return counts;
  }
  Counts run(uint64_t slots) {
    return run(slots, [](uint64_t, const std::optional<Pick>&) {});
  }

 private:
  double capacity_;
  uint64_t slot_ = 0;
  uint64_t next_item_ = 0;
  std::map<uint32_t, size_t> depth_;
  std::map<uint32_t, uint64_t> last_item_;
};

QosSpec weight(double w) { return {.reservation = 0, .weight = w, .limit = 0}; }

double share(const Counts& c, uint32_t client, uint64_t slots) {
  return static_cast<double>(c.of(client)) / static_cast<double>(slots);
}

}  // namespace

TEST_CASE("tag_queue: reservations are honoured against a much heavier client") {
  Server s(1000);
  s.queue.set_qos(1, {.reservation = 100, .weight = 1, .limit = 0});
  s.queue.set_qos(2, weight(100));
  s.backlog(1);
  s.backlog(2);
  const Counts c = s.run(10'000);  // 10 s
  INFO("reserved client " << c.of(1) << " (" << c.reserved(1) << " by reservation), other " << c.of(2));
  // Its weight alone would give it about 10/s.
  CHECK(c.of(1) >= 100 * 10 - 1);
  CHECK(c.of(1) <= 100 * 10 + 1);
  CHECK(c.idle_slots == 0);

  // Several reservations at once, 50% of the capacity together.
  Server m(1000);
  m.queue.set_qos(1, {.reservation = 200, .weight = 1, .limit = 0});
  m.queue.set_qos(2, {.reservation = 250, .weight = 1, .limit = 0});
  m.queue.set_qos(3, {.reservation = 50, .weight = 1, .limit = 0});
  m.queue.set_qos(4, weight(1000));
  for (uint32_t client = 1; client <= 4; ++client) m.backlog(client);
  const Counts d = m.run(10'000);
  INFO("200/s: " << d.of(1) << ", 250/s: " << d.of(2) << ", 50/s: " << d.of(3) << ", heavy: " << d.of(4));
  CHECK(d.of(1) >= 200 * 10 - 1);
  CHECK(d.of(2) >= 250 * 10 - 1);
  CHECK(d.of(3) >= 50 * 10 - 1);
  CHECK(d.idle_slots == 0);
}

TEST_CASE("tag_queue: shares under contention follow the weights") {
  Server s(1000);
  const std::map<uint32_t, double> weights = {{1, 1}, {2, 2}, {3, 5}};
  for (auto [client, w] : weights) {
    s.queue.set_qos(client, weight(w));
    s.backlog(client);
  }
  const uint64_t slots = 10'000;
  const Counts c = s.run(slots);
  CHECK(c.idle_slots == 0);
  for (const auto& entry : weights) {
    const uint32_t client = entry.first;
    const double expected = entry.second / 8;
    INFO("weight " << entry.second << ": share " << share(c, client, slots) << ", expected " << expected);
    CHECK(std::abs(share(c, client, slots) - expected) <= 0.01 * expected);
  }
}

TEST_CASE("tag_queue: limits cap a client and the spare capacity goes to the others") {
  Server s(1000);
  s.queue.set_qos(1, {.reservation = 0, .weight = 100, .limit = 50});
  s.queue.set_qos(2, weight(1));
  s.backlog(1);
  s.backlog(2);
  const Counts c = s.run(10'000);  // 10 s
  INFO("limited client " << c.of(1) << ", other " << c.of(2) << ", idle slots " << c.idle_slots);
  CHECK(c.of(1) <= 50 * 10 + 1);
  CHECK(c.of(1) >= 50 * 10 - 1);  // its weight alone would give it almost all
  CHECK(c.idle_slots == 0);
  CHECK(c.of(2) == 10'000 - c.of(1));

  // Alone, the limited client leaves the server idle rather than exceed it.
  Server alone(1000);
  alone.queue.set_qos(1, {.reservation = 0, .weight = 100, .limit = 50});
  alone.backlog(1);
  const Counts a = alone.run(10'000);
  CHECK(a.of(1) <= 50 * 10 + 1);
  CHECK(a.idle_slots >= 10'000 - (50 * 10 + 1));

  // A reservation above the limit is not held back by it.
  Server r(1000);
  r.queue.set_qos(1, {.reservation = 100, .weight = 1, .limit = 10});
  r.queue.set_qos(2, weight(1));
  r.backlog(1);
  r.backlog(2);
  const Counts b = r.run(10'000);
  INFO("reservation 100/s, limit 10/s: " << b.of(1));
  CHECK(b.of(1) >= 100 * 10 - 1);
  CHECK(b.of(1) <= 100 * 10 + 1);

  // Once the limit no longer binds, the limited client does not collect the
  // weight decisions it sat out while held back: it gets its weight share
  // at once, not a burst.
  Server lifted(1000);
  lifted.queue.set_qos(1, {.reservation = 0, .weight = 1, .limit = 10});
  lifted.queue.set_qos(2, weight(1));
  lifted.backlog(1);
  lifted.backlog(2);
  (void)lifted.run(10'000);
  lifted.queue.set_qos(1, weight(1));
  const Counts after = lifted.run(200);
  INFO("first 200 slots after the limit was lifted: " << after.of(1));
  CHECK(after.of(1) <= 102);
  CHECK(after.of(1) >= 98);

  // Nor does a newcomer start level with the stale tags of a client held
  // back by its limit: it shares with the other unlimited client from the
  // start.
  Server joined(1000);
  joined.queue.set_qos(1, {.reservation = 0, .weight = 1, .limit = 10});
  joined.queue.set_qos(2, weight(1));
  joined.queue.set_qos(3, weight(1));
  joined.backlog(1);
  joined.backlog(2);
  (void)joined.run(10'000);
  joined.backlog(3);
  const Counts newcomer = joined.run(200);
  INFO("first 200 slots of a newcomer: " << newcomer.of(3) << ", limited " << newcomer.of(1));
  CHECK(newcomer.of(3) <= 101);
  CHECK(newcomer.of(3) >= 97);
}

TEST_CASE("tag_queue: an idle client neither banks credit nor is penalised") {
  for (double wa : {1.0, 1.0 / 3}) {
    // A (1) and B (2) backlogged for 1 s, B alone for 10 s, both for 1 s.
    Server s(1000);
    s.queue.set_qos(1, weight(wa));
    s.queue.set_qos(2, weight(1));
    s.backlog(1);
    s.backlog(2);
    (void)s.run(1000);
    s.stop(1);
    (void)s.run(10'000);
    s.backlog(1);
    const Counts first = s.run(100);
    const Counts rest = s.run(900);
    const double expected = wa / (wa + 1);
    const double second = static_cast<double>(first.of(1) + rest.of(1)) / 1000;
    INFO("weight share " << expected << ": first 100 slots " << share(first, 1, 100) << ", first second " << second);
    // No burst from the 10 s of idleness, and no wait for B to catch up.
    CHECK(std::abs(second - expected) <= 0.05 * expected);
    CHECK(std::abs(share(first, 1, 100) - expected) <= 0.02 + 0.05 * expected);
  }

  // The other way round: A alone for 10 s (its P far ahead of real time),
  // then B alone for 1 s, then both. Neither is made to wait for the other's
  // history.
  Server s(1000);
  s.queue.set_qos(1, weight(1));
  s.queue.set_qos(2, weight(1));
  s.backlog(1);
  (void)s.run(10'000);
  s.stop(1);
  (void)s.run(10);  // drains A
  s.backlog(2);
  (void)s.run(1000);
  s.backlog(1);
  const Counts both = s.run(100);
  INFO("A after its idle spell: " << both.of(1) << " of 100");
  CHECK(both.of(1) >= 48);
  CHECK(both.of(1) <= 52);
}

TEST_CASE("tag_queue: a lone request after idleness is served promptly, even with a low weight") {
  Server s(1000);
  s.queue.set_qos(1, weight(1));
  s.queue.set_qos(2, weight(1000));
  s.queue.set_qos(3, weight(1000));
  s.backlog(2);
  s.backlog(3);
  (void)s.run(2000);
  // A request every 5 s: at weight 1 of 2001, A's share is 0.5/s, so each
  // finds A idle for longer than its share needs.
  uint64_t worst = 0;
  for (int round = 0; round < 4; ++round) {
    s.send(1);
    const uint64_t sent = s.slot();
    std::optional<uint64_t> served;
    (void)s.run(5000, [&](uint64_t slot, const std::optional<Pick>& pick) {
      if (pick && pick->client == 1 && !served) served = slot;
    });
    REQUIRE(served);
    worst = std::max(worst, *served - sent);
  }
  INFO("slots until served, worst of 4: " << worst);
  CHECK(worst <= 3);
}

TEST_CASE("tag_queue: the lowest class is not starved") {
  Server s(1000);
  s.queue.set_qos(1, weight(1));
  s.queue.set_qos(2, weight(1000));
  s.backlog(1);
  s.backlog(2);
  std::optional<uint64_t> last;
  uint64_t max_gap = 0;
  const Counts c = s.run(20'000, [&](uint64_t slot, const std::optional<Pick>& pick) {
    if (!pick || pick->client != 1) return;
    max_gap = std::max(max_gap, slot - last.value_or(0));
    last = slot;
  });
  INFO("weight 1 vs 1000: " << c.of(1) << " of 20000, longest gap " << max_gap << " slots");
  CHECK(max_gap <= 1002);
  CHECK(c.of(1) >= 19);
  CHECK(s.slot() - *last <= 1002);

  // With a reservation of 10/s it gets that instead.
  Server r(1000);
  r.queue.set_qos(1, {.reservation = 10, .weight = 1, .limit = 0});
  r.queue.set_qos(2, weight(1000));
  r.backlog(1);
  r.backlog(2);
  const Counts d = r.run(10'000);
  INFO("reservation 10/s: " << d.of(1) << " in 10 s");
  CHECK(d.of(1) >= 10 * 10 - 1);
}

TEST_CASE("tag_queue: reservation service counts toward the weight share, not on top of it") {
  // Weight share 80% (800/s) is well above the reservation of 100/s: the
  // client gets its weight share, of which some is served by reservation;
  // counting both would give 100 + 0.8 * 900 = 820/s.
  Server s(1000);
  s.queue.set_qos(1, {.reservation = 100, .weight = 4, .limit = 0});
  s.queue.set_qos(2, weight(1));
  s.backlog(1);
  s.backlog(2);
  const uint64_t slots = 10'000;
  const Counts c = s.run(slots);
  INFO("share " << share(c, 1, slots) << " (" << c.reserved(1) << " by reservation)");
  CHECK(std::abs(share(c, 1, slots) - 0.8) <= 0.005);
  CHECK(c.reserved(1) >= 100 * 10 - 10);  // the reservation phase did take part
}

TEST_CASE("tag_queue: weight-phase service does not use up the reservation") {
  // 10 s in which A's weight gives it 800/s, far more than its reservation;
  // then a heavy client arrives and A's weight share drops to about 4/s. A's
  // reservation must hold from the first second on, not once real time has
  // caught up with 8000 requests' worth of reservation tags.
  Server s(1000);
  s.queue.set_qos(1, {.reservation = 100, .weight = 4, .limit = 0});
  s.queue.set_qos(2, weight(1));
  s.queue.set_qos(3, weight(1000));
  s.backlog(1);
  s.backlog(2);
  (void)s.run(10'000);
  s.backlog(3);
  const Counts c = s.run(1000);
  INFO("A in the second after the heavy client came: " << c.of(1) << " (" << c.reserved(1) << " by reservation)");
  CHECK(c.of(1) >= 100 - 1);
  CHECK(c.of(1) <= 100 + 5);
}

TEST_CASE("tag_queue: next_eligible with limits") {
  TagQueue q(Policy::mclock);
  CHECK(!q.next_eligible());
  CHECK(!q.pop(0));
  q.set_qos(7, {.reservation = 0, .weight = 1, .limit = 10});
  q.push(7, 100, 0);
  q.push(7, 101, 0);
  q.push(7, 102, 0);
  REQUIRE(q.next_eligible());
  CHECK(*q.next_eligible() <= 0);
  auto first = q.pop(0);
  REQUIRE(first);
  CHECK(first->item == 100);
  CHECK(first->phase == Phase::weight);

  // Held back until L = 0 + 1/10.
  CHECK(!q.pop(0.05));
  REQUIRE(q.next_eligible());
  CHECK(*q.next_eligible() == doctest::Approx(0.1));
  CHECK(!q.pop(std::nextafter(*q.next_eligible(), 0.0)));
  auto second = q.pop(*q.next_eligible());
  REQUIRE(second);
  CHECK(second->item == 101);

  // Draining ignores the limit.
  CHECK(!q.pop(0.1));
  auto third = q.pop_ignoring_limits(0.1);
  REQUIRE(third);
  CHECK(third->item == 102);
  CHECK(third->client == 7);
  CHECK(q.size() == 0);
  CHECK(!q.next_eligible());

  // A reservation makes a limited client eligible earlier than its limit.
  q.set_qos(8, {.reservation = 20, .weight = 1, .limit = 5});
  q.push(8, 200, 1);
  q.push(8, 201, 1);
  auto r1 = q.pop(1);
  REQUIRE(r1);
  CHECK(r1->phase == Phase::reservation);
  REQUIRE(q.next_eligible());
  CHECK(*q.next_eligible() == doctest::Approx(1.05));  // R = 1 + 1/20, before L = 1 + 1/5
  CHECK(!q.pop(1.04));
  auto r2 = q.pop(1.05);
  REQUIRE(r2);
  CHECK(r2->phase == Phase::reservation);

  // Any client without a limit makes the queue eligible at once.
  q.push(7, 103, 2);  // L = 0.1 + 1/10, long past
  q.push(7, 104, 2);
  CHECK(q.pop(2));
  q.push(9, 300, 2);
  REQUIRE(q.next_eligible());
  CHECK(*q.next_eligible() <= 2);
}

TEST_CASE("tag_queue: fifo mode keeps the global arrival order") {
  TagQueue q(Policy::fifo);
  CHECK(q.policy() == Policy::fifo);
  q.set_qos(1, {.reservation = 0, .weight = 1000, .limit = 1});
  q.set_qos(2, {.reservation = 500, .weight = 1, .limit = 0});
  const std::vector<std::pair<uint32_t, uint64_t>> pushes = {{3, 1}, {1, 2}, {2, 3}, {1, 4}, {1, 5}, {3, 6}, {2, 7}};
  double t = 0;
  for (auto [client, item] : pushes) q.push(client, item, t += 0.001);
  CHECK(q.size() == pushes.size());
  CHECK(q.size(1) == 3);
  CHECK(q.size(2) == 2);
  CHECK(q.size(3) == 2);
  CHECK(q.size(4) == 0);
  REQUIRE(q.next_eligible());
  CHECK(*q.next_eligible() == doctest::Approx(0.001));
  for (auto [client, item] : pushes) {
    auto pick = q.pop(t);
    REQUIRE(pick);
    CHECK(pick->client == client);
    CHECK(pick->item == item);
    CHECK(pick->phase == Phase::fifo);
  }
  CHECK(!q.pop(t));
  CHECK(!q.next_eligible());
  CHECK(q.size(1) == 0);

  // Backlogged clients in the simulator share by arrival, whatever their
  // weights: the server takes requests in the order they were topped up.
  Server s(1000, Policy::fifo);
  s.queue.set_qos(1, weight(1));
  s.queue.set_qos(2, weight(100));
  s.backlog(1);
  s.backlog(2);
  const Counts c = s.run(1000);
  CHECK(c.idle_slots == 0);
  CHECK(c.of(1) >= 499);
  CHECK(c.of(1) <= 501);
}

TEST_CASE("tag_queue: each client's requests leave in push order, and next_eligible tells when pop can") {
  std::mt19937_64 rng(20240611);
  for (int workload = 0; workload < 20; ++workload) {
    TagQueue q(Policy::mclock);
    const uint32_t clients = 1 + static_cast<uint32_t>(rng() % 8);
    auto random_qos = [&] {
      QosSpec qos;
      if (rng() % 3 == 0) qos.reservation = static_cast<double>(1 + rng() % 200);
      qos.weight = static_cast<double>(1 + rng() % 50) / 10;
      if (rng() % 3 == 0) qos.limit = static_cast<double>(1 + rng() % 300);
      return qos;
    };
    for (uint32_t client = 0; client < clients; ++client)
      if (rng() % 4 != 0) q.set_qos(client, random_qos());
    std::map<uint32_t, uint64_t> last_out;
    std::map<uint32_t, size_t> queued;
    uint64_t item = 0;
    uint64_t out = 0;
    double now = 0;
    auto take = [&](const std::optional<Pick>& pick) {
      REQUIRE(pick);
      auto [last, first] = last_out.try_emplace(pick->client, pick->item);
      if (!first) {
        REQUIRE(pick->item > last->second);  // items are numbered in push order
        last->second = pick->item;
      }
      REQUIRE(queued[pick->client] > 0);
      --queued[pick->client];
      ++out;
    };
    for (int step = 0; step < 3000; ++step) {
      now += static_cast<double>(rng() % 1000) / 100'000;  // up to 10 ms, sometimes 0
      const uint64_t action = rng() % 10;
      if (action < 5) {
        const auto client = static_cast<uint32_t>(rng() % clients);
        q.push(client, item++, now);
        ++queued[client];
      } else if (action < 9) {
        const std::optional<double> eligible = q.next_eligible();
        CHECK(eligible.has_value() == (q.size() > 0));
        const std::optional<Pick> pick = q.pop(now);
        CHECK(pick.has_value() == (eligible && *eligible <= now));
        if (pick) take(pick);
      } else {
        const auto client = static_cast<uint32_t>(rng() % clients);
        q.set_qos(client, random_qos());
      }
      for (auto [client, n] : queued) REQUIRE(q.size(client) == n);
    }
    while (q.size() > 0) take(q.pop_ignoring_limits(now));
    CHECK(out == item);
  }
}
