#include "aiops/sched/dispatcher.hpp"

#include <pthread.h>

#include <algorithm>
#include <string>

#include "aiops/core/logger.hpp"

namespace aiops::sched {

using Clock = std::chrono::steady_clock;

Dispatcher::Dispatcher(const config::SchedulerConfig& config)
    : config_(config),
      queue_(config.policy == config::SchedulerConfig::Policy::fifo ? Policy::fifo : Policy::mclock),
      timer_([this] { timer_loop(); }) {}

Dispatcher::~Dispatcher() {
  size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped = waiting_.size();
    waiting_.clear();
  }
  timer_cv_.notify_all();
  timer_.join();
  if (dropped > 0)
    log_warning("scheduler: " + std::to_string(dropped) +
                " queued writes were never handed to the log; they were not acknowledged");
}

double Dispatcher::now() const { return std::chrono::duration<double>(Clock::now() - epoch_).count(); }

void Dispatcher::set_qos(uint32_t client, const QosSpec& qos) {
  std::lock_guard lock(mu_);
  queue_.set_qos(client, qos);
}

bool Dispatcher::submit(uint32_t client, Job job) {
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= config_.queue_limit) return false;
    const uint64_t item = next_item_++;
    waiting_.emplace(item, Waiting{client, std::move(job), Clock::now()});
    queue_.push(client, item, now());
    ++clients_[client].queued;
    jobs = take(false);
  }
  run(std::move(jobs));
  return true;
}

void Dispatcher::done() {
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    if (in_flight_ > 0) --in_flight_;
    jobs = take(false);
  }
  run(std::move(jobs));
}

void Dispatcher::drain() {
  std::vector<Job> jobs;
  {
    std::lock_guard lock(mu_);
    jobs = take(true);
  }
  run(std::move(jobs));
  // Jobs another thread took before this call must have started too.
  Lock lock(mu_);
  ++draining_;
  started_cv_.wait(lock, [&] { return starting_ == 0; });
  --draining_;
}

std::vector<Dispatcher::Job> Dispatcher::take(bool everything) {
  std::vector<Job> jobs;
  const double t = now();
  const auto at = Clock::now();
  while (everything || in_flight_ < config_.queue_depth) {
    auto pick = everything ? queue_.pop_ignoring_limits(t) : queue_.pop(t);
    if (!pick) break;
    auto it = waiting_.find(pick->item);
    Waiting w = std::move(it->second);
    waiting_.erase(it);
    ClientDispatch& c = clients_[w.client];
    --c.queued;
    ++c.dispatched;
    if (pick->phase == Phase::reservation) ++c.by_reservation;
    if (pick->phase == Phase::weight) ++c.by_weight;
    const double waited = std::chrono::duration<double, std::milli>(at - w.since).count();
    c.wait_ms_sum += waited;
    c.wait_ms_max = std::max(c.wait_ms_max, waited);
    ++in_flight_;
    ++starting_;
    jobs.push_back(std::move(w.job));
  }
  // Room in the window but nothing may start: every waiting client is held
  // back by its limit until the earliest of their tags.
  if (!everything && queue_.size() > 0 && in_flight_ < config_.queue_depth) {
    if (auto next = queue_.next_eligible(); next && (!wake_at_ || *next < *wake_at_)) {
      wake_at_ = *next;
      timer_cv_.notify_all();
    }
  }
  return jobs;
}

void Dispatcher::run(std::vector<Job> jobs) {
  if (jobs.empty()) return;
  for (auto& job : jobs) job();
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    starting_ -= jobs.size();
    wake = starting_ == 0 && draining_ > 0;
  }
  if (wake) started_cv_.notify_all();
}

void Dispatcher::timer_loop() {
  pthread_setname_np(pthread_self(), "aiops-sched");
  Lock lock(mu_);
  while (!stopping_) {
    if (!wake_at_) {
      timer_cv_.wait(lock);
      continue;
    }
    const auto when = epoch_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*wake_at_));
    if (Clock::now() < when) {
      timer_cv_.wait_until(lock, when);
      continue;
    }
    wake_at_.reset();
    std::vector<Job> jobs = take(false);
    lock.unlock();
    run(std::move(jobs));
    lock.lock();
  }
}

double Dispatcher::fill() const {
  std::lock_guard lock(mu_);
  return static_cast<double>(queue_.size()) / static_cast<double>(config_.queue_limit);
}

DispatchStats Dispatcher::stats() const {
  std::lock_guard lock(mu_);
  DispatchStats s;
  s.policy = std::string(config::to_string(config_.policy));
  s.queue_depth = config_.queue_depth;
  s.queue_limit = config_.queue_limit;
  s.queued = queue_.size();
  s.in_flight = in_flight_;
  s.clients = clients_;
  return s;
}

}  // namespace aiops::sched
