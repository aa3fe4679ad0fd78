// `aiops load` and `aiops verify`: drive a worker with many clients, and
// prove afterwards that nothing acknowledged was lost.

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <iostream>
#include <memory>

#include "aiops/cli/commands.hpp"
#include "aiops/cli/exit_code.hpp"
#include "aiops/cli/instance.hpp"
#include "aiops/load/load_generator.hpp"
#include "aiops/load/verifier.hpp"

namespace aiops::cli {
namespace {

struct LoadCommandOptions {
  std::string config;
  unsigned clients = 4;
  double duration_s = 10;
  std::string write_size = "4096";
  double read_ratio = 0;
  double fua_ratio = 0;
  double rate = 0;
  std::vector<std::string> class_clients;
  std::vector<std::string> class_rate;
  unsigned max_attempts = 8;
  std::string record;
  std::string timeline;
  std::string volume;
  uint64_t seed = 0;
  bool json = false;
};

struct VerifyCommandOptions {
  std::string config;
  std::string record;
  std::string client;
  bool json = false;
};

double us(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

// "CLASS=NUMBER" items of --class-clients and --class-rate.
template <class T>
std::map<std::string, T> class_values(const std::string& option, const std::vector<std::string>& items) {
  std::map<std::string, T> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    double value = -1;
    if (eq != std::string::npos && eq > 0) {
      try {
        size_t used = 0;
        value = std::stod(item.substr(eq + 1), &used);
        if (used != item.size() - eq - 1) value = -1;
      } catch (const std::exception&) {
        value = -1;  // not a number: reported below
      }
    }
    if (value < 0 || !std::isfinite(value))
      throw CommandFailed(Error(Errc::invalid_argument, option + " " + item + ": expected CLASS=NUMBER with a number >= 0"),
                          exit_usage);
    out[item.substr(0, eq)] = static_cast<T>(value);
  }
  return out;
}

nlohmann::json load_json(const load::LoadResult& r) {
  char run[17];
  std::snprintf(run, sizeof run, "%016" PRIx64, r.run);
  nlohmann::json classes = nlohmann::json::object();
  for (const auto& [name, c] : r.classes) {
    classes[name] = {{"writes", c.writes},
                     {"reads", c.reads},
                     {"errors", c.errors},
                     {"clients", c.clients},
                     {"first_attempts", c.first_attempts},
                     {"retries", c.retries},
                     {"refusals", c.refusals},
                     {"gave_up", c.gave_up},
                     {"mean_delay_ms", c.mean_delay_ms()},
                     {"ops_per_s", static_cast<double>(c.writes + c.reads) / r.seconds},
                     {"p50_us", us(c.latency.percentile(50))},
                     {"p99_us", us(c.latency.percentile(99))},
                     {"p999_us", us(c.latency.percentile(99.9))},
                     {"max_us", us(c.latency.max())}};
  }
  return {{"ok", r.read_mismatches == 0},
          {"run", run},
          {"seconds", r.seconds},
          {"acked", r.acked},
          {"writes_per_s", static_cast<double>(r.acked) / r.seconds},
          {"reads", r.reads},
          {"errors", r.errors},
          {"errors_by_status", r.errors_by_status},
          {"disconnects", r.disconnects},
          {"refused", r.refused},
          {"read_mismatches", r.read_mismatches},
          {"classes", classes},
          {"problems", r.problems}};
}

void print_load(const load::LoadResult& r) {
  std::printf("aiops load: %.1f s, %" PRIu64 " writes acknowledged (%.0f/s), %" PRIu64 " reads\n", r.seconds, r.acked,
              static_cast<double>(r.acked) / r.seconds, r.reads);
  std::printf("errors %" PRIu64 ", disconnects %" PRIu64 ", refused connects %" PRIu64 ", read mismatches %" PRIu64 "\n",
              r.errors, r.disconnects, r.refused, r.read_mismatches);
  for (const auto& [status, n] : r.errors_by_status) std::printf("  %s: %" PRIu64 "\n", status.c_str(), n);
  std::printf("%-10s %8s %10s %10s %10s %10s %8s %8s %8s %9s\n", "class", "ops/s", "p50 us", "p99 us", "p999 us",
              "max us", "errors", "refused", "retries", "delay ms");
  for (const auto& [name, c] : r.classes)
    std::printf("%-10s %8.0f %10.0f %10.0f %10.0f %10.0f %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %9.1f\n",
                name.c_str(), static_cast<double>(c.writes + c.reads) / r.seconds, us(c.latency.percentile(50)),
                us(c.latency.percentile(99)), us(c.latency.percentile(99.9)), us(c.latency.max()), c.errors,
                c.refusals, c.retries, c.mean_delay_ms());
  for (const auto& p : r.problems) std::printf("problem: %s\n", p.c_str());
  std::fflush(stdout);
}

// Every request's outcome as CSV, for scripts that cut the run into
// windows: seconds since the load started (Unix time in the header line),
// the client's SLA class, ok or refusal or disconnect or refused_connect,
// and the latency from the first attempt (ok only).
void write_timeline(const std::string& path, const load::LoadResult& r, std::chrono::system_clock::time_point started) {
  std::ofstream out(path);
  if (!out) throw CommandFailed(error_from_errno(errno, "open " + path));
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%.6f", std::chrono::duration<double>(started.time_since_epoch()).count());
  out << "# aiops load timeline; started at Unix time " << stamp << "\nt,class,kind,latency_us\n";
  static constexpr const char* kinds[] = {"ok", "refusal", "disconnect", "refused_connect"};
  for (const auto& e : r.events)
    out << e.t << ',' << r.client_classes.at(e.client) << ',' << kinds[e.kind] << ',' << e.latency_us << '\n';
  out.close();
  if (!out) throw CommandFailed(Error(Errc::io_error, "write " + path));
}

int run_load(const LoadCommandOptions& opt) {
  config::Config config = load_instance_config(opt.config);
  config::Credentials credentials = load_instance_credentials(config);
  load::LoadOptions o;
  o.endpoint = native_endpoint(config);
  o.identities = identities(config, credentials);
  o.volume = opt.volume;
  o.clients = opt.clients;
  o.duration = std::chrono::duration<double>(opt.duration_s);
  o.write_size = static_cast<uint32_t>(size_option("--write-size", opt.write_size, UINT32_MAX));
  o.read_ratio = opt.read_ratio;
  o.fua_ratio = opt.fua_ratio;
  o.rate = opt.rate;
  o.class_clients = class_values<unsigned>("--class-clients", opt.class_clients);
  o.class_rate = class_values<double>("--class-rate", opt.class_rate);
  o.max_attempts = opt.max_attempts;
  if (!opt.record.empty()) o.record = opt.record;
  o.seed = opt.seed;
  if (!opt.json && stderr_is_tty())
    o.progress = [&](double t, uint64_t acked) {
      std::fprintf(stderr, "\r  %.0f/%.0f s  %" PRIu64 " writes acknowledged   ", t, opt.duration_s, acked);
    };
  o.timeline = !opt.timeline.empty();
  const auto started = std::chrono::system_clock::now();
  load::LoadResult r = need(load::run_load(o));
  if (o.progress) std::fprintf(stderr, "\r%60s\r", "");
  if (!opt.timeline.empty()) write_timeline(opt.timeline, r, started);
  if (opt.json) print_json(load_json(r));
  else print_load(r);
  return r.read_mismatches == 0 ? exit_ok : exit_check_failed;
}

int run_verify(const VerifyCommandOptions& opt) {
  config::Config config = load_instance_config(opt.config);
  config::Credentials credentials = load_instance_credentials(config);
  auto ids = identities(config, credentials);
  load::VerifyOptions o;
  o.endpoint = native_endpoint(config);
  o.record = opt.record;
  const load::Identity* who = &ids.front();
  if (!opt.client.empty()) {
    auto it = std::find_if(ids.begin(), ids.end(), [&](const load::Identity& i) { return i.name == opt.client; });
    if (it == ids.end())
      throw CommandFailed(Error(Errc::invalid_input, "--client " + opt.client + ": no such client with a token"),
                          exit_invalid_input);
    who = &*it;
  }
  o.client = who->name;
  o.token = who->token;
  if (!opt.json && stderr_is_tty())
    o.progress = [](uint64_t done, uint64_t total) {
      std::fprintf(stderr, "\r  %" PRIu64 "/%" PRIu64 " blocks checked   ", done, total);
    };
  load::VerifyResult r = need(load::run_verify(o));
  if (o.progress) std::fprintf(stderr, "\r%60s\r", "");
  bool clean = r.lost == 0 && r.unexpected == 0;
  if (opt.json) {
    print_json({{"ok", clean}, {"writes", r.writes}, {"acked", r.acked}, {"checked", r.checked}, {"ok_blocks", r.ok},
                {"lost", r.lost}, {"unexpected", r.unexpected}, {"problems", r.problems}});
  } else {
    std::printf("aiops verify: %" PRIu64 " blocks checked (%" PRIu64 " writes issued, %" PRIu64
                " acknowledged): %" PRIu64 " lost, %" PRIu64 " unexpected\n",
                r.checked, r.writes, r.acked, r.lost, r.unexpected);
    for (const auto& p : r.problems) std::printf("problem: %s\n", p.c_str());
    std::printf("%s\n", clean ? "no acknowledged write is lost" : "FAILED");
  }
  return clean ? exit_ok : exit_check_failed;
}

}  // namespace

void add_load_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<LoadCommandOptions>();
  CLI::App* load = app.add_subcommand(
      "load", "Drive a worker with N closed-loop clients; report throughput, latency per SLA class, errors, "
              "disconnects and refused connects; optionally record every write for aiops verify");
  load->add_option("--config", o->config, "The worker's configuration file (with a credentials file)")->required();
  load->add_option("--clients", o->clients, "Concurrent clients (spread over the configured clients)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  load->add_option("--duration", o->duration_s, "Seconds to run")->capture_default_str();
  load->add_option("--write-size", o->write_size, "Bytes per write and read (e.g. 4096 or 4KiB; at least 64)")
      ->capture_default_str();
  load->add_option("--read-ratio", o->read_ratio, "Share of requests that are reads")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  load->add_option("--fua-ratio", o->fua_ratio, "Share of writes sent with FUA (acknowledged once durable)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  load->add_option("--rate", o->rate, "Requests per second over all clients (default 0: as fast as the worker answers)")
      ->check(CLI::Range(0.0, 1e9));
  load->add_option("--class-clients", o->class_clients,
                   "CLASS=N,...: N clients of each SLA class instead of --clients spread over all (e.g. "
                   "gold=2,bronze=16)")
      ->delimiter(',');
  load->add_option("--class-rate", o->class_rate,
                   "CLASS=R,...: requests per second over the clients of a class instead of their share of --rate; "
                   "0 = as fast as the worker answers")
      ->delimiter(',');
  load->add_option("--max-attempts", o->max_attempts,
                   "Attempts per request when the worker says retry (busy): it waits retry_after_ms plus jitter, "
                   "then sends again marked RETRY; 1 = never retry")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  load->add_option("--record", o->record, "Append every write issued and every acknowledgement to FILE");
  load->add_option("--timeline", o->timeline,
                   "Write every request's outcome to FILE as CSV: t,class,kind,latency_us");
  load->add_option("--volume", o->volume, "Volume to use (default: the first one the clients may write)");
  load->add_option("--seed", o->seed, "Run id and random seed (default: random)");
  load->add_flag("--json", o->json, "Print the result as JSON");
  load->callback([&action, o] { action = [o] { return run_load(*o); }; });
}

void add_verify_commands(CLI::App& app, Action& action) {
  auto o = std::make_shared<VerifyCommandOptions>();
  CLI::App* verify = app.add_subcommand(
      "verify", "Read back every block a recorded load wrote; exit 1 if one holds neither its last acknowledged "
                "write nor a write issued after it");
  verify->add_option("--config", o->config, "The worker's configuration file (with a credentials file)")->required();
  verify->add_option("--record", o->record, "The record file of aiops load --record")->required();
  verify->add_option("--client", o->client, "Client to read as (default: the first with a token)");
  verify->add_flag("--json", o->json, "Print the result as JSON");
  verify->callback([&action, o] { action = [o] { return run_verify(*o); }; });
}

}  // namespace aiops::cli
