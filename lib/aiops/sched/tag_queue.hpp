#pragma once
// The dispatch queue in front of the storage log: which client's next request
// goes to the log, in the mClock manner (Gulati et al., OSDI 2010; Ceph's
// dmclock). Each client has a QosSpec: a reservation (a rate it gets whatever
// the others want), a weight (its share of what is left) and a limit (a rate
// it never exceeds through its weight). A plain FIFO mode is there to compare
// against.
//
// The queue is pure: it reads no clock and starts no thread; the caller
// passes `now` in seconds, non-decreasing across calls. It is not
// thread-safe.
//
// Tags. Each client keeps its requests in arrival order; only the head
// request carries tags, computed when it becomes the head ("delayed
// tagging"), from the tags of the client's last dispatched request (prev):
//   R = max(R_prev + 1/reservation, arrival)   +inf without a reservation
//   L = max(L_prev + 1/limit, arrival)          -inf without a limit
//   P = P_prev + 1/weight                       while the client stays backlogged
//   P = max(P_prev + 1/weight, V)               when it was idle (see below)
// Tagging only the head makes a spec change apply from the next head on, and
// lets an idle client's tags restart from its arrival instead of from tags
// given to requests that queued behind a long backlog.
//
// Dispatch (pop at `now`):
//   1. reservation phase: among heads with R <= now, the smallest R. Limits
//      do not hold reservations back: a reservation above the limit wins.
//   2. weight phase: among heads with L <= now, the smallest P.
//   3. otherwise nothing: every queued client is held back by its limit.
// Ties go to the earlier arrival, then to the lower client id, so the order
// is a function of the calls alone.
//
// R and L are real times, so the reservation phase gives a backlogged client
// its reservation rate and the limit caps it. R and L are bounded below by
// the arrival, so a client cannot bank reservation or limit headroom while it
// has nothing queued.
//
// P is a virtual time, as in start-time fair queueing: the weight phase keeps
// the P tags of the backlogged clients level, so each gets service in
// proportion to its weight. A client that was idle is the danger: its
// P_prev is wherever it stopped. Left there it would be far below the
// others and win every weight decision until it caught up (credit banked
// while idle); set from real time, as the original mClock does, it would sit
// far above them whenever the server lags behind real time, and wait
// (penalised for being idle). Instead it starts at the queue's virtual time
// V, the smallest P among the heads of the other backlogged clients — level
// with the client that would be served next — or, with none backlogged, the
// P of the last request dispatched in the weight phase. max() keeps the
// client's own history when that is ahead of V: it had been served ahead of
// its share just before going idle, and keeps paying for it. A client seen
// for the first time starts at V.
//
// A client held back by its limit does not take part in the weight phase,
// so for that phase it is idle too, and its head's P falls behind. Two rules
// keep it from banking credit that way: V is never less than the P of the
// last weight-phase dispatch (so a stale head does not drag newcomers back
// with it), and a request dispatched in the weight phase is charged at least
// that P (its P is raised to it). Without a limit neither rule ever changes
// anything: the weight phase always takes the smallest P, so the P of every
// head it could have taken is at least the last one it did take.
//
// A request served in the reservation phase advances the client's P like any
// other, so reservation service counts toward the weight share: a client gets
// about max(reservation, weight share), not their sum. The converse is the
// dmClock adjustment: a request served in the weight phase does not count
// against the reservation — the next R is computed from R_prev - 1/r, i.e. R
// does not advance. Otherwise a client served well by its weight would push
// its R far into the future and, when contention rose, get nothing by
// reservation until real time caught up with it.
//
// Complexity: push and pop scan the backlogged clients (tens, a few hundred),
// never the queued requests; both are O(clients).
//
// FIFO mode: one arrival order across all clients, QoS ignored; every
// request is dispatched with Phase::fifo.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <unordered_map>
#include <vector>

namespace aiops::sched {

enum class Policy : uint8_t { mclock, fifo };

/// A client's quality-of-service spec. reservation and limit in requests per
/// second, 0 = none; both finite and >= 0. weight finite and > 0.
struct QosSpec {
  double reservation = 0;
  double weight = 1;
  double limit = 0;
};

/// Which rule picked a request.
enum class Phase : uint8_t { reservation, weight, fifo };

struct Pick {
  uint32_t client = 0;
  uint64_t item = 0;
  Phase phase = Phase::fifo;
};

class TagQueue {
 public:
  explicit TagQueue(Policy policy);

  [[nodiscard]] Policy policy() const;

  /// Sets (or changes) a client's spec; applies to tags computed from then
  /// on (a head already tagged keeps its tags). Clients never set use
  /// QosSpec{}.
  void set_qos(uint32_t client, const QosSpec& qos);

  /// Queues `item` (an opaque id of the caller) for `client`, arrived at `now`.
  void push(uint32_t client, uint64_t item, double now);

  /// The next request to dispatch at `now`, or nullopt when empty or when
  /// every queued client is held back by its limit.
  [[nodiscard]] std::optional<Pick> pop(double now);

  /// Like pop, but limits do not hold anything back (draining the queue
  /// before the intake switches).
  [[nodiscard]] std::optional<Pick> pop_ignoring_limits(double now);

  /// When the queue is not empty: the earliest time pop() can return a
  /// request (<= now when it can now). nullopt when empty.
  [[nodiscard]] std::optional<double> next_eligible() const;

  [[nodiscard]] size_t size() const;
  [[nodiscard]] size_t size(uint32_t client) const;

 private:
  struct Request {
    uint64_t item = 0;
    double arrival = 0;
    uint32_t client = 0;  // FIFO mode only
  };

  struct Client {
    uint32_t id = 0;
    QosSpec qos;
    std::deque<Request> queue;  // mclock mode
    size_t fifo_queued = 0;     // FIFO mode
    // Tags of queue.front(), while the queue is not empty.
    double r = 0;
    double p = 0;
    double l = 0;
    // Tags of the last dispatched request, the base of the next head's;
    // -inf before the first, so that the first R and L are the arrival.
    double prev_r = -std::numeric_limits<double>::infinity();
    double prev_p = 0;
    double prev_l = -std::numeric_limits<double>::infinity();
    bool advance_r = true;  // false after a weight-phase dispatch (dmClock)
    bool has_prev = false;  // some request of this client was dispatched
  };

  [[nodiscard]] Client& client(uint32_t id);
  [[nodiscard]] const Client* find(uint32_t id) const;
  [[nodiscard]] double virtual_time() const;
  void tag_head(Client& c, bool was_idle);
  [[nodiscard]] std::optional<Pick> pop(double now, bool respect_limits);
  [[nodiscard]] Pick dispatch(size_t backlog_index, Phase phase);

  Policy policy_;
  std::vector<Client> clients_;                 // by first appearance
  std::unordered_map<uint32_t, size_t> index_;  // client id -> clients_ index
  std::vector<size_t> backlogged_;              // clients_ indices with requests queued (mclock)
  std::deque<Request> fifo_;                    // FIFO mode
  double v_last_ = 0;                           // P of the last weight-phase dispatch
  size_t size_ = 0;
};

}  // namespace aiops::sched
