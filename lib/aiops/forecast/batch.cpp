#include "aiops/forecast/batch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "aiops/forecast/accuracy.hpp"

namespace aiops::forecast {
namespace {

std::vector<double> as_doubles(const std::vector<float>& v) { return {v.begin(), v.end()}; }

void run_backtest(const ClientSeries& c, const BatchOptions& options, Backtest& out) {
  const std::size_t n = c.ops.size(), hold = options.backtest;
  if (n < hold + options.plan.min_points) {
    out.skipped = "history of " + std::to_string(n) + " intervals is too short to hold out " + std::to_string(hold);
    return;
  }
  const std::vector<double> all = as_doubles(c.ops);
  const std::span<const double> train(all.data(), n - hold);
  out.actual.assign(all.end() - static_cast<std::ptrdiff_t>(hold), all.end());
  ForecastPlan plan = options.plan;
  plan.horizon = hold;
  plan.window_start = 0;
  out.forecast = forecast_series(train, plan);
  out.period = scaling_period(train.size(), plan);
  out.mase = mase(train, out.actual, out.forecast.mean, out.period);
  out.smape = smape(out.actual, out.forecast.mean);
  out.mase_snaive = mase_snaive(train, out.actual, out.period);
  const std::vector<double> naive = snaive(train, out.period, hold);
  out.smape_snaive = smape(out.actual, naive);
  out.done = true;
}

void run_forecast(const ClientSeries& c, bool has_bytes, const BatchOptions& options, ClientResult& out) {
  const std::vector<double> ops = as_doubles(c.ops);
  out.ops = forecast_series(ops, options.plan);
  out.summary.client = c.name;
  out.summary.model = out.ops.model;
  out.summary.fallback = out.ops.fallback;
  out.summary.fallback_reason = out.ops.reason;
  out.summary.ops = out.ops.total;
  out.summary.mix = c.mix;
  if (has_bytes && !c.bytes.empty()) {
    out.bytes = forecast_series(as_doubles(c.bytes), options.plan);
    out.summary.bytes = out.bytes->total;
  }
}

// Runs task(i) for i in [0, n) on `jobs` threads. An exception (a bug, or
// memory running out) stops the remaining tasks and is rethrown here once
// every thread has ended, so the caller reports it instead of the process
// aborting.
template <class Task>
void parallel(std::size_t n, unsigned jobs, const Task& task) {
  if (n == 0) return;
  std::atomic<std::size_t> next{0};
  std::mutex failure_mu;
  std::exception_ptr failure;
  auto loop = [&] {
    try {
      for (std::size_t i = next++; i < n; i = next++) task(i);
    } catch (const std::exception&) {
      std::lock_guard lock(failure_mu);
      if (!failure) failure = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> threads;
  const std::size_t extra = std::min<std::size_t>(jobs, n) - 1;
  try {
    for (std::size_t t = 0; t < extra; ++t) threads.emplace_back(loop);
  } catch (const std::system_error&) {
    // Fewer threads than asked for: those that started do the work.
  }
  loop();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

std::vector<ClientResult> forecast_all(const SeriesSet& set, const BatchOptions& options, BatchTiming* timing) {
  const std::size_t n = set.clients.size();
  std::vector<ClientResult> results(n);
  const unsigned jobs = std::max(1u, options.jobs ? options.jobs : std::thread::hardware_concurrency());
  const std::size_t total = n * (options.backtest > 0 ? 2 : 1);
  std::mutex progress_mu;
  std::size_t done = 0, reported = 0;
  auto tick = [&] {
    if (!options.progress) return;
    std::lock_guard lock(progress_mu);
    ++done;
    if (done == total || done - reported >= std::max<std::size_t>(1, total / 100)) {
      reported = done;
      options.progress(done, total);
    }
  };
  using clock = std::chrono::steady_clock;
  if (options.backtest > 0) {
    const auto t0 = clock::now();
    parallel(n, jobs, [&](std::size_t i) {
      results[i].client = set.clients[i].name;
      run_backtest(set.clients[i], options, results[i].backtest);
      tick();
    });
    if (timing) timing->backtest_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  }
  const auto t1 = clock::now();
  parallel(n, jobs, [&](std::size_t i) {
    results[i].client = set.clients[i].name;
    run_forecast(set.clients[i], set.has_bytes, options, results[i]);
    tick();
  });
  if (timing) timing->forecast_seconds = std::chrono::duration<double>(clock::now() - t1).count();
  return results;
}

}  // namespace aiops::forecast
