#include "aiops/phase/update.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "aiops/io/file_system.hpp"
#include "aiops/phase/engine.hpp"
#include "aiops/phase/step.hpp"
#include "aiops/swap/fd_channel.hpp"
#include "aiops/swap/new_binary.hpp"
#include "aiops/worker/control_client.hpp"

namespace aiops::phase {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::array<Step, 8> sequence = {Step::prepare,  Step::activate, Step::flush, Step::validate,
                                          Step::reorder,  Step::swap,     Step::apply, Step::deactivate};
// A step applies a full buffer at most; the worker answers when it is done.
constexpr auto step_timeout = std::chrono::minutes(30);

Errc errc_from_name(const std::string& name) {
  for (int i = 0; i <= static_cast<int>(Errc::disconnected); ++i)
    if (errc_name(Errc(i)) == name) return Errc(i);
  return Errc::io_error;
}

// The lock that makes updates one at a time: held while the process lives.
Result<swap::UniqueFd> lock_updates(const config::Config& config) {
  AIOPS_TRY(io::create_directories(io::posix_file_system(), state_dir(config)));
  const auto path = state_dir(config) / "update.lock";
  swap::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return error_from_errno(errno, "open " + path.string());
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return error_from_errno(errno, "lock " + path.string());
    char holder[32] = {};
    (void)::pread(fd.get(), holder, sizeof holder - 1, 0);
    std::string pid(holder);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    return Error(Errc::busy, "another aiops update is running" + (pid.empty() ? "" : " (pid " + pid + ")") +
                                 "; one update at a time");
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), me.data(), me.size(), 0) < 0)
    return error_from_errno(errno, "write " + path.string());
  return fd;
}

// A reply; `answered` tells a refusal by the worker from a worker that did
// not answer at all.
struct Answer {
  Result<nlohmann::json> reply;
  bool answered = false;
};

Answer ask(const config::Config& config, const nlohmann::json& request, std::chrono::milliseconds timeout) {
  auto reply = worker::control_request(config.worker.control_socket, request, timeout);
  if (!reply.ok()) return {reply.error(), false};
  if (!reply->value("ok", false))
    return {Error(errc_from_name(reply->value("code", std::string())), reply->value("error", std::string("?"))), true};
  return {std::move(reply), true};
}

}  // namespace

UpdateResult run_update(const config::Config& config, const UpdateOptions& o) {
  UpdateResult r;
  nlohmann::json phases = nlohmann::json::array();
  auto finish = [&](std::optional<Error> error) {
    r.ok = !error;
    r.error = std::move(error);
    r.doc["ok"] = r.ok;
    r.doc["mode"] = swap::mode_name(o.mode);
    r.doc["resumed_from"] = r.resumed_from;
    r.doc["phases"] = phases;
    if (r.error) {
      r.doc["error"] = r.error->message();
      r.doc["rolled_back"] = r.rolled_back;
    }
    return r;
  };

  auto lock = lock_updates(config);
  if (!lock.ok()) return finish(lock.error());
  auto asked = ask(config, {{"command", "status"}}, std::chrono::seconds(10));
  if (!asked.reply.ok()) return finish(asked.reply.error());
  auto& status = asked.reply;
  r.doc["old_pid"] = status->value("pid", 0);
  r.doc["new_pid"] = status->value("pid", 0);

  // Where a previous run stopped: the last completed step's phase.
  const std::string phase = (*status)["buffer"].value("phase", std::string("idle"));
  size_t next = 0;
  for (size_t i = 0; i < sequence.size(); ++i)
    if (phase_name(sequence[i]) == phase && sequence[i] != Step::deactivate) next = i + 1;
  r.resumed_from = phase;
  // The checks the worker makes before it starts the binary, made first
  // here too, so a wrong path or checksum changes nothing at all.
  const auto swap_at = static_cast<size_t>(std::find(sequence.begin(), sequence.end(), Step::swap) - sequence.begin());
  if (next <= swap_at) {
    if (Status s = swap::check_binary(o.binary, o.sha256); !s.ok()) {
      r.rolled_back = true;
      return finish(Error(s.error().code(), "swap refused: " + s.error().message()));
    }
  }

  auto run = [&](Step step, nlohmann::json request) -> Answer {
    request["command"] = "phase";
    request["step"] = step_name(step);
    const auto t0 = Clock::now();
    auto answer = ask(config, request,
                      step == Step::swap ? std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000) + 60000)
                                         : std::chrono::duration_cast<std::chrono::milliseconds>(step_timeout));
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    phases.push_back({{"name", step_name(step)}, {"ms", ms}, {"ok", answer.reply.ok()}});
    if (o.on_step) o.on_step(std::string(step_name(step)), ms);
    return answer;
  };

  for (size_t i = next; i < sequence.size(); ++i) {
    const Step step = sequence[i];
    nlohmann::json request = nlohmann::json::object();
    if (step == Step::swap) {
      request = {{"binary", std::filesystem::absolute(o.binary).string()},
                 {"mode", swap::mode_name(o.mode)},
                 {"timeout_s", o.timeout_s}};
      if (o.sha256) request["sha256"] = *o.sha256;
    }
    auto [reply, answered] = run(step, request);
    if (reply.ok() && step == Step::swap) {
      r.doc["new_pid"] = reply->value("new_pid", 0);
      r.doc["connections"] = reply->value("connections", 0);
      r.doc["listeners"] = reply->value("listeners", 0);
      r.doc["pause_ms"] = reply->value("pause_ms", 0.0);
    }
    if (reply.ok()) continue;
    if (step != Step::swap || !answered || reply.error().code() == Errc::busy) {
      const bool gone = step == Step::swap && !answered;
      return finish(Error(reply.error().code(), std::string(step_name(step)) + ": " + reply.error().message() +
                                                    (gone ? " (the worker went away during the swap)" : "") +
                                                    "; run aiops update again to resume "
                                                    "(aiops buffer inspect shows the phase)"));
    }
    // The swap failed and the old worker serves on: drain the buffer there,
    // so writes go to the log again.
    r.rolled_back = true;
    Error why = reply.error();
    for (Step back : {Step::apply, Step::deactivate}) {
      auto undone = run(back, nlohmann::json::object()).reply;
      if (!undone.ok())
        return finish(Error(undone.error().code(), why.message() + "; then " + std::string(step_name(back)) +
                                                       " on the old worker failed: " + undone.error().message()));
    }
    return finish(why);
  }
  return finish(std::nullopt);
}

}  // namespace aiops::phase
