// The retry delay, checked against its guarantees on seeded random
// configurations (including classes whose base delays run against the
// priority order) and against the formula recomputed here the slow way.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "aiops/sched/retry_policy.hpp"

using aiops::sched::ClientDelay;
using aiops::sched::RetryPolicy;
using aiops::sched::RetryPolicyOptions;

namespace {

constexpr uint32_t unknown_client = 999'999;

// Positions on a coarse grid, so that ties are common; base delays in a
// wide range, independent of the position, so that a less important client
// often has a faster class than a more important one.
std::vector<ClientDelay> random_clients(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<double> base(1, 500);
  std::uniform_int_distribution<int> grid(0, 8);
  std::vector<ClientDelay> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = {static_cast<uint32_t>(i + 1), base(rng), grid(rng) / 8.0};
  return out;
}

// e_i by its definition: the largest raw delay at or ahead of i's position.
double envelope(const std::vector<ClientDelay>& clients, double position) {
  double e = 0;
  for (const ClientDelay& c : clients)
    if (c.position <= position) e = std::max(e, c.base_ms * (1 + 3 * c.position));
  return e;
}

uint32_t expected_delay(double e, double load, double u, const RetryPolicyOptions& o) {
  const double ms = e * (1 + 9 * load) * (u > 0 ? 1 + o.jitter * u : 1.0);
  return static_cast<uint32_t>(std::min(o.max_delay_ms, std::max(1.0, std::round(ms))));
}

}  // namespace

TEST_CASE("retry_policy: delays follow the formula") {
  RetryPolicy policy;
  const std::vector<ClientDelay> clients = {{1, 10, 0}, {2, 10, 1}, {3, 10, 0.5}};
  policy.set_clients(clients);
  CHECK(policy.delay_ms(1, 0, 0) == 10);
  CHECK(policy.delay_ms(2, 0, 0) == 40);
  CHECK(policy.delay_ms(3, 0, 0) == 25);
  CHECK(policy.delay_ms(1, 1, 0) == 100);
  CHECK(policy.delay_ms(1, 0.5, 0) == 55);
  CHECK(policy.delay_ms(2, 0, 0.5) == 45);  // 40 * (1 + 0.25 * 0.5)

  // Client 3's class is slower: raw 20 * 2.5 = 50 ms. Client 2 ranks last,
  // but its class is faster; it waits as long as client 3 does, not less.
  const std::vector<ClientDelay> mixed = {{1, 10, 0}, {2, 10, 1}, {3, 20, 0.5}};
  policy.set_clients(mixed);
  CHECK(policy.delay_ms(3, 0, 0) == 50);
  CHECK(policy.delay_ms(2, 0, 0) == 50);
  CHECK(policy.delay_ms(2, 0.3, 0.7) == policy.delay_ms(3, 0.3, 0.7));
  CHECK(policy.delay_ms(1, 0, 0) == 10);  // ranked ahead of both: unaffected
}

TEST_CASE("retry_policy: higher priority never gets a longer delay than lower priority at the same load") {
  std::mt19937 rng(20240611);
  std::uniform_real_distribution<double> unit(0, 1);
  int inverted_configurations = 0;
  for (int config = 0; config < 400; ++config) {
    CAPTURE(config);
    RetryPolicyOptions options;
    options.jitter = unit(rng);
    options.max_delay_ms = config % 4 == 0 ? 500 : 10000;  // some configurations hit the cap often
    RetryPolicy policy(options);
    const auto clients = random_clients(rng, static_cast<size_t>(1 + config % 24));
    policy.set_clients(clients);

    bool inverted = false;
    for (const ClientDelay& a : clients)
      for (const ClientDelay& b : clients)
        if (a.position < b.position && a.base_ms * (1 + 3 * a.position) > b.base_ms * (1 + 3 * b.position))
          inverted = true;
    inverted_configurations += inverted;

    for (int trial = 0; trial < 20; ++trial) {
      const double load = trial == 0 ? 0.0 : trial == 1 ? 1.0 : unit(rng);
      const double u = unit(rng);
      for (const ClientDelay& a : clients) {
        const uint32_t da = policy.delay_ms(a.client, load, u);
        REQUIRE(da == expected_delay(envelope(clients, a.position), load, u, options));
        // An unknown client ranks with the least important ones.
        REQUIRE(da <= policy.delay_ms(unknown_client, load, u));
        for (const ClientDelay& b : clients) {
          const uint32_t db = policy.delay_ms(b.client, load, u);
          if (a.position < b.position) REQUIRE_MESSAGE(da <= db, a.client << " vs " << b.client);
          if (a.position == b.position) REQUIRE(da == db);
        }
      }
    }
  }
  // The property was exercised where it matters: configurations where the
  // raw delays alone would have put a more important client behind.
  CHECK(inverted_configurations > 100);
}

TEST_CASE("retry_policy: delays grow with load") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  RetryPolicyOptions options;
  options.max_delay_ms = 2000;
  RetryPolicy policy(options);
  const auto clients = random_clients(rng, 30);
  policy.set_clients(clients);
  int strict = 0;
  for (const ClientDelay& c : clients) {
    for (double u : {0.0, 0.3, 0.999}) {
      uint32_t previous = 0;
      for (int step = 0; step <= 100; ++step) {
        const uint32_t d = policy.delay_ms(c.client, step / 100.0, u);
        REQUIRE(d >= previous);
        previous = d;
      }
      const uint32_t idle = policy.delay_ms(c.client, 0, u);
      const uint32_t full = policy.delay_ms(c.client, 1, u);
      if (idle < options.max_delay_ms) {
        CHECK(full > idle);
        ++strict;
      } else {
        CHECK(full == idle);
      }
    }
  }
  CHECK(strict > 0);
  // Tiny base delays still grow (they count as 1 ms).
  const std::vector<ClientDelay> tiny = {{1, 0.01, 0}};
  policy.set_clients(tiny);
  CHECK(policy.delay_ms(1, 1, 0) > policy.delay_ms(1, 0, 0));
  // Random loads in random order: the order of the delays follows.
  for (int i = 0; i < 1000; ++i) {
    const double a = unit(rng), b = unit(rng), u = unit(rng);
    if (a <= b) CHECK(policy.delay_ms(unknown_client, a, u) <= policy.delay_ms(unknown_client, b, u));
  }
}

TEST_CASE("retry_policy: delays stay within [1, max_delay_ms]") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> unit(0, 1);
  for (double cap : {1.0, 7.0, 300.0, 10000.0}) {
    RetryPolicyOptions options;
    options.max_delay_ms = cap;
    options.jitter = 3;
    RetryPolicy policy(options);
    const auto clients = random_clients(rng, 10);
    policy.set_clients(clients);
    for (int i = 0; i < 2000; ++i) {
      const uint32_t client = static_cast<uint32_t>(rng() % 12);  // 0 and 11 are unknown
      const double load = unit(rng), u = unit(rng);
      const uint32_t d = policy.delay_ms(client, load, u);
      const uint32_t b = policy.budget_delay_ms(client, load, u);
      REQUIRE(d >= 1);
      REQUIRE(d <= cap);
      REQUIRE(b >= d);
      REQUIRE(b <= cap);
    }
  }
  // The largest configured delay, fully loaded, runs into the cap.
  RetryPolicy policy;
  const std::vector<ClientDelay> slow = {{1, 5000, 1}};
  policy.set_clients(slow);
  CHECK(policy.delay_ms(1, 1, 0.9) == 10000);
  CHECK(policy.budget_delay_ms(1, 1, 0.9) == 10000);
}

TEST_CASE("retry_policy: jitter stays within [1, 1 + jitter] of the unjittered delay") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> unit(0, 1);
  for (double jitter : {0.0, 0.25, 1.0}) {
    RetryPolicyOptions options;
    options.jitter = jitter;
    options.max_delay_ms = 1e9;
    RetryPolicy policy(options);
    const auto clients = random_clients(rng, 20);
    policy.set_clients(clients);
    const double almost_one = std::nextafter(1.0, 0.0);
    for (const ClientDelay& c : clients) {
      const double load = unit(rng);
      const double plain = envelope(clients, c.position) * (1 + 9 * load);
      const uint32_t low = policy.delay_ms(c.client, load, 0);
      const uint32_t high = policy.delay_ms(c.client, load, almost_one);
      CHECK(low == static_cast<uint32_t>(std::round(plain)));
      CHECK(std::abs(high - plain * (1 + jitter)) <= 0.5 + 1e-9);
      for (int i = 0; i < 50; ++i) {
        const uint32_t d = policy.delay_ms(c.client, load, unit(rng));
        REQUIRE(d >= low);
        REQUIRE(d <= high);
        REQUIRE(d >= plain - 0.5);
        REQUIRE(d <= plain * (1 + jitter) + 0.5);
      }
    }
  }
}

TEST_CASE("retry_policy: unknown clients get the longest delay") {
  RetryPolicy empty;
  CHECK(empty.delay_ms(5, 0, 0) == 40);  // base 10 ms at position 1
  CHECK(empty.delay_ms(5, 1, 0) == 400);

  RetryPolicy policy;
  // The largest envelope belongs to a client ahead of the last one.
  const std::vector<ClientDelay> clients = {{1, 100, 0.2}, {2, 5, 1}, {3, 10, 0.5}};
  policy.set_clients(clients);
  CHECK(policy.delay_ms(4, 0, 0) == 160);
  CHECK(policy.delay_ms(2, 0, 0) == 160);
  CHECK(policy.delay_ms(1, 0, 0) == 160);
}

TEST_CASE("retry_policy: a retry refused by the budget waits budget_penalty times longer") {
  RetryPolicy policy;
  const std::vector<ClientDelay> clients = {{1, 10, 0}, {2, 10, 1}};
  policy.set_clients(clients);
  CHECK(policy.budget_delay_ms(1, 0, 0) == 80);
  CHECK(policy.budget_delay_ms(2, 0.5, 0.5) == 8 * policy.delay_ms(2, 0.5, 0.5));
  CHECK(policy.budget_delay_ms(2, 1, 0) == 3200);
  const std::vector<ClientDelay> slow = {{3, 40, 1}};
  policy.set_clients(slow);
  CHECK(policy.delay_ms(3, 1, 0) == 1600);
  CHECK(policy.budget_delay_ms(3, 1, 0) == 10000);  // 8 * 1600, capped
}

TEST_CASE("retry_policy: set_clients replaces the previous set") {
  RetryPolicy policy;
  const std::vector<ClientDelay> first = {{1, 50, 1}, {2, 10, 0}};
  policy.set_clients(first);
  CHECK(policy.delay_ms(2, 0, 0) == 10);
  const std::vector<ClientDelay> second = {{2, 10, 1}};
  policy.set_clients(second);
  CHECK(policy.delay_ms(2, 0, 0) == 40);
  CHECK(policy.delay_ms(1, 0, 0) == 40);  // unknown now: the largest envelope
  // A client listed twice: the last entry counts, the first is gone.
  const std::vector<ClientDelay> twice = {{3, 1000, 0}, {4, 10, 0.5}, {3, 10, 0}};
  policy.set_clients(twice);
  CHECK(policy.delay_ms(3, 0, 0) == 10);
  CHECK(policy.delay_ms(4, 0, 0) == 25);
  policy.set_clients({});
  CHECK(policy.delay_ms(4, 0, 0) == 40);
}

TEST_CASE("retry_policy: out-of-range inputs are clamped") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  RetryPolicy policy;
  const std::vector<ClientDelay> clients = {{1, 10, -3}, {2, 10, 7}, {3, nan, nan}, {4, -5, 0}};
  policy.set_clients(clients);
  CHECK(policy.delay_ms(1, 0, 0) == 10);  // position 0
  CHECK(policy.delay_ms(2, 0, 0) == 40);  // position 1
  CHECK(policy.delay_ms(3, 0, 0) == 40);  // defaults: base 10, position 1
  CHECK(policy.delay_ms(4, 0, 0) == 10);  // base 1 ms, but behind client 1 at the same position
  CHECK(policy.delay_ms(1, -1, 0) == policy.delay_ms(1, 0, 0));
  CHECK(policy.delay_ms(1, 5, 0) == policy.delay_ms(1, 1, 0));
  CHECK(policy.delay_ms(1, nan, 0) == policy.delay_ms(1, 1, 0));
  CHECK(policy.delay_ms(1, 0, -1) == policy.delay_ms(1, 0, 0));
  CHECK(policy.delay_ms(1, 0, nan) == policy.delay_ms(1, 0, 0));
  CHECK(policy.delay_ms(1, 0, 2) == policy.delay_ms(1, 0, 1));

  const RetryPolicy odd({-1, 0.5, 0.25});
  CHECK(odd.options().jitter == 0);
  CHECK(odd.options().max_delay_ms == 1);
  CHECK(odd.options().budget_penalty == 1);
  CHECK(odd.delay_ms(1, 1, 0.5) == 1);
  CHECK(odd.budget_delay_ms(1, 1, 0.5) == 1);

  const RetryPolicy defaults({nan, nan, nan});
  CHECK(defaults.options().jitter == 0.25);
  CHECK(defaults.options().max_delay_ms == 10000);
  CHECK(defaults.options().budget_penalty == 8);

  const RetryPolicy extreme({inf, inf, inf});
  CHECK(extreme.options().max_delay_ms == 4294967295.0);
  CHECK(extreme.delay_ms(1, 0, 0) == 40);
  CHECK(extreme.delay_ms(1, 0, 0.5) == 4294967295u);
  CHECK(extreme.budget_delay_ms(1, 0, 0) == 4294967295u);
}
