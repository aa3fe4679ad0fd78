#include "aiops/sched/tag_queue.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace aiops::sched {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

}  // namespace

TagQueue::TagQueue(Policy policy) : policy_(policy) {}

Policy TagQueue::policy() const { return policy_; }

TagQueue::Client& TagQueue::client(uint32_t id) {
  auto [it, added] = index_.try_emplace(id, clients_.size());
  if (added) {
    Client& c = clients_.emplace_back();
    c.id = id;
  }
  return clients_[it->second];
}

const TagQueue::Client* TagQueue::find(uint32_t id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &clients_[it->second];
}

void TagQueue::set_qos(uint32_t id, const QosSpec& qos) {
  assert(std::isfinite(qos.weight) && qos.weight > 0);
  assert(std::isfinite(qos.reservation) && qos.reservation >= 0);
  assert(std::isfinite(qos.limit) && qos.limit >= 0);
  client(id).qos = qos;
}

double TagQueue::virtual_time() const {
  if (backlogged_.empty()) return v_last_;
  double v = infinity;
  for (size_t i : backlogged_) v = std::min(v, clients_[i].p);
  // A head held back by its limit may lag behind v_last_ (header); it must
  // not hand its lag to a newcomer.
  return std::max(v, v_last_);
}

void TagQueue::tag_head(Client& c, bool was_idle) {
  const Request& head = c.queue.front();
  const QosSpec& q = c.qos;
  if (q.reservation > 0) {
    const double base = c.advance_r ? c.prev_r + 1 / q.reservation : c.prev_r;
    // +inf is left by a request tagged while there was no reservation: the
    // new reservation starts from the arrival, as for a first request.
    c.r = std::max(base == infinity ? -infinity : base, head.arrival);
  } else {
    c.r = infinity;
  }
  c.l = q.limit > 0 ? std::max(c.prev_l + 1 / q.limit, head.arrival) : -infinity;
  if (!was_idle) {
    c.p = c.prev_p + 1 / q.weight;
  } else {
    // The client is not in backlogged_ yet, so virtual_time() sees only the
    // others.
    const double v = virtual_time();
    c.p = c.has_prev ? std::max(c.prev_p + 1 / q.weight, v) : v;
  }
}

void TagQueue::push(uint32_t id, uint64_t item, double now) {
  Client& c = client(id);
  ++size_;
  if (policy_ == Policy::fifo) {
    fifo_.push_back({item, now, id});
    ++c.fifo_queued;
    return;
  }
  const bool was_idle = c.queue.empty();
  c.queue.push_back({item, now, id});
  if (!was_idle) return;
  tag_head(c, true);
  backlogged_.push_back(static_cast<size_t>(&c - clients_.data()));
}

Pick TagQueue::dispatch(size_t backlog_index, Phase phase) {
  Client& c = clients_[backlogged_[backlog_index]];
  const Request head = c.queue.front();
  c.queue.pop_front();
  --size_;
  c.prev_r = c.r;
  c.prev_l = c.l;
  // dmClock: weight-phase service is not taken out of the reservation.
  c.advance_r = phase == Phase::reservation;
  if (phase == Phase::weight) {
    // A head that lagged behind while its limit held it back is charged
    // from the current virtual time (header).
    c.prev_p = std::max(c.p, v_last_);
    v_last_ = c.prev_p;
  } else {
    c.prev_p = c.p;
  }
  c.has_prev = true;
  if (c.queue.empty()) {
    backlogged_[backlog_index] = backlogged_.back();
    backlogged_.pop_back();
  } else {
    tag_head(c, false);
  }
  return {c.id, head.item, phase};
}

std::optional<Pick> TagQueue::pop(double now, bool respect_limits) {
  if (policy_ == Policy::fifo) {
    if (fifo_.empty()) return std::nullopt;
    const Request head = fifo_.front();
    fifo_.pop_front();
    --size_;
    --client(head.client).fifo_queued;
    return Pick{head.client, head.item, Phase::fifo};
  }
  // Whether a's head goes before b's head when their tags are ta and tb.
  auto before = [&](double ta, const Client& a, double tb, const Client& b) {
    if (ta != tb) return ta < tb;
    const double arrival_a = a.queue.front().arrival;
    const double arrival_b = b.queue.front().arrival;
    if (arrival_a != arrival_b) return arrival_a < arrival_b;
    return a.id < b.id;
  };
  // The position in backlogged_ of the eligible head with the smallest tag.
  auto smallest = [&](auto tag, auto eligible) -> std::optional<size_t> {
    std::optional<size_t> best;
    for (size_t k = 0; k < backlogged_.size(); ++k) {
      const Client& c = clients_[backlogged_[k]];
      if (!eligible(c)) continue;
      if (!best) {
        best = k;
        continue;
      }
      const Client& b = clients_[backlogged_[*best]];
      if (before(tag(c), c, tag(b), b)) best = k;
    }
    return best;
  };
  auto by_r = [](const Client& c) { return c.r; };
  auto by_p = [](const Client& c) { return c.p; };
  if (auto k = smallest(by_r, [&](const Client& c) { return c.r <= now; })) return dispatch(*k, Phase::reservation);
  if (auto k = smallest(by_p, [&](const Client& c) { return !respect_limits || c.l <= now; }))
    return dispatch(*k, Phase::weight);
  return std::nullopt;
}

std::optional<Pick> TagQueue::pop(double now) { return pop(now, true); }

std::optional<Pick> TagQueue::pop_ignoring_limits(double now) { return pop(now, false); }

std::optional<double> TagQueue::next_eligible() const {
  if (size_ == 0) return std::nullopt;
  if (policy_ == Policy::fifo) return fifo_.front().arrival;
  double t = infinity;
  for (size_t i : backlogged_) {
    const Client& c = clients_[i];
    // A head without a limit (L = -inf) can go at any time; its arrival is
    // the earliest time the caller can be asking at.
    t = std::min({t, c.r, std::max(c.l, c.queue.front().arrival)});
  }
  return t;
}

size_t TagQueue::size() const { return size_; }

size_t TagQueue::size(uint32_t id) const {
  const Client* c = find(id);
  if (c == nullptr) return 0;
  return policy_ == Policy::fifo ? c->fifo_queued : c->queue.size();
}

}  // namespace aiops::sched
