// The speculative buffer's validator: a PENDING entry is acknowledged only
// when its payload still matches its checksum, its client exists and may
// write its volume, and its extent lies inside the volume. Each refusal
// has its own wire status and a problem text that names the entry.

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aiops/config/config_loader.hpp"
#include "aiops/core/checksum.hpp"
#include "aiops/net/protocol.hpp"
#include "aiops/specbuf/segment.hpp"
#include "aiops/specbuf/validator.hpp"
#include "support/files.hpp"

using aiops::net::Status;
using aiops::specbuf::EntryRecord;
using aiops::specbuf::EntryState;
using aiops::specbuf::Validator;
using aiops::specbuf::Verdict;

namespace {

constexpr uint32_t kClient = 7;
constexpr uint32_t kVolA = 1;  // rw for the client, 1MiB
constexpr uint32_t kVolB = 2;  // ro for the client
constexpr uint32_t kVolC = 3;  // not granted to the client
constexpr uint64_t kVolASize = 1024 * 1024;

const std::string kConfig = R"([[volume]]
name = "vol-a"
id = 1
size = "1MiB"

[[volume]]
name = "vol-b"
id = 2
size = "64KiB"

[[volume]]
name = "vol-c"
id = 3
size = "64KiB"

[sla.gold]
weight = 4

[[client]]
name = "pg-1"
id = 7
sla = "gold"
token_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
access = { "vol-a" = "rw", "vol-b" = "ro" }
)";

aiops::config::Config test_config() {
  try {
    return aiops::config::parse_config(kConfig, "/etc/aiops/aiops.toml");
  } catch (const aiops::config::ConfigError& e) {
    FAIL("unexpected ConfigError: " << e.what());
    throw;
  }
}

// A PENDING entry as the writer leaves it: checksum of `payload` as sent.
void fill(EntryRecord& e, uint64_t seq, uint32_t client, uint32_t volume, uint64_t offset,
          const std::vector<std::byte>& payload) {
  e.state.store(static_cast<uint32_t>(EntryState::pending));
  e.seq = seq;
  e.pos = seq * 4096;
  e.length = static_cast<uint32_t>(payload.size());
  e.client = client;
  e.volume = volume;
  e.offset = offset;
  e.writer_pid = 1;
  e.checksum = aiops::checksum64(payload.data(), payload.size());
}

bool names(const Verdict& v, const std::string& text) { return v.problem.find(text) != std::string::npos; }

}  // namespace

TEST_CASE("validator: a sound entry passes") {
  const auto config = test_config();
  const Validator validator(config);
  const auto payload = aiops::test::payload_for(1, 4096);
  EntryRecord e{};
  fill(e, 11, kClient, kVolA, 8192, payload);
  const Verdict v = validator.check(e, payload.data());
  CHECK(v.valid());
  CHECK(v.status == Status::ok);
  CHECK(v.problem.empty());

  // The last bytes of the volume are inside it.
  const auto tail = aiops::test::payload_for(2, 512);
  EntryRecord end{};
  fill(end, 12, kClient, kVolA, kVolASize - 512, tail);
  CHECK(validator.check(end, tail.data()).status == Status::ok);
}

TEST_CASE("validator: a payload changed after its checksum is checksum_mismatch") {
  const auto config = test_config();
  const Validator validator(config);
  auto payload = aiops::test::payload_for(3, 1000);
  for (size_t at : {size_t{0}, size_t{499}, size_t{999}}) {
    CAPTURE(at);
    EntryRecord e{};
    fill(e, 4242, kClient, kVolA, 0, payload);
    REQUIRE(validator.check(e, payload.data()).valid());
    payload[at] ^= std::byte{0x01};
    const Verdict v = validator.check(e, payload.data());
    INFO(v.problem);
    CHECK(v.status == Status::checksum_mismatch);
    CHECK(names(v, "entry 4242"));
    CHECK(names(v, "checksum"));
    payload[at] ^= std::byte{0x01};
  }
  // The checksum is checked first: a corrupt payload of an unknown client
  // is reported as corrupt.
  EntryRecord e{};
  fill(e, 5, 999, kVolA, 0, payload);
  payload[10] ^= std::byte{0x80};
  CHECK(validator.check(e, payload.data()).status == Status::checksum_mismatch);
}

TEST_CASE("validator: a write to a read-only or ungranted volume is access_denied") {
  const auto config = test_config();
  const Validator validator(config);
  const auto payload = aiops::test::payload_for(4, 512);

  EntryRecord ro{};
  fill(ro, 77, kClient, kVolB, 0, payload);
  const Verdict v = validator.check(ro, payload.data());
  INFO(v.problem);
  CHECK(v.status == Status::access_denied);
  CHECK(names(v, "entry 77"));
  CHECK(names(v, "read-only"));

  EntryRecord ungranted{};
  fill(ungranted, 78, kClient, kVolC, 0, payload);
  const Verdict u = validator.check(ungranted, payload.data());
  INFO(u.problem);
  CHECK(u.status == Status::access_denied);
  CHECK(names(u, "entry 78"));
  CHECK(names(u, "not granted"));
}

TEST_CASE("validator: an unknown client is access_denied") {
  const auto config = test_config();
  const Validator validator(config);
  const auto payload = aiops::test::payload_for(5, 512);
  EntryRecord e{};
  fill(e, 90, kClient + 1, kVolA, 0, payload);
  const Verdict v = validator.check(e, payload.data());
  INFO(v.problem);
  CHECK(v.status == Status::access_denied);
  CHECK(names(v, "entry 90"));
  CHECK(names(v, "client " + std::to_string(kClient + 1)));
  CHECK(names(v, "no client"));
}

TEST_CASE("validator: an unknown volume is unknown_volume") {
  const auto config = test_config();
  const Validator validator(config);
  const auto payload = aiops::test::payload_for(6, 512);
  EntryRecord e{};
  fill(e, 91, kClient, 42, 0, payload);
  const Verdict v = validator.check(e, payload.data());
  INFO(v.problem);
  CHECK(v.status == Status::unknown_volume);
  CHECK(names(v, "entry 91"));
  CHECK(names(v, "volume 42"));
}

TEST_CASE("validator: an extent past the end of the volume, or empty, is out_of_range") {
  const auto config = test_config();
  const Validator validator(config);
  const auto payload = aiops::test::payload_for(7, 512);
  struct Case {
    const char* what;
    uint64_t offset;
    const std::vector<std::byte>* data;
  };
  const std::vector<std::byte> empty;
  const Case cases[] = {
      {"one byte past the end", kVolASize - 511, &payload},
      {"starting at the end", kVolASize, &payload},
      {"far beyond", kVolASize * 4, &payload},
      {"offset near 2^64", UINT64_MAX - 100, &payload},
      {"empty", 0, &empty},
  };
  uint64_t seq = 100;
  for (const Case& c : cases) {
    CAPTURE(c.what);
    EntryRecord e{};
    fill(e, ++seq, kClient, kVolA, c.offset, *c.data);
    const Verdict v = validator.check(e, c.data->data());
    INFO(v.problem);
    CHECK(v.status == Status::out_of_range);
    CHECK(names(v, "entry " + std::to_string(seq)));
  }
}

TEST_CASE("validator: each kind of refusal has its own status") {
  const auto config = test_config();
  const Validator validator(config);
  auto payload = aiops::test::payload_for(8, 256);
  EntryRecord ok{}, corrupt{}, read_only{}, stranger{}, nowhere{}, beyond{};
  fill(ok, 1, kClient, kVolA, 0, payload);
  fill(corrupt, 2, kClient, kVolA, 0, payload);
  corrupt.checksum ^= 1;
  fill(read_only, 3, kClient, kVolB, 0, payload);
  fill(stranger, 4, 1000, kVolA, 0, payload);
  fill(nowhere, 5, kClient, 9, 0, payload);
  fill(beyond, 6, kClient, kVolA, kVolASize, payload);
  CHECK(validator.check(ok, payload.data()).status == Status::ok);
  CHECK(validator.check(corrupt, payload.data()).status == Status::checksum_mismatch);
  CHECK(validator.check(read_only, payload.data()).status == Status::access_denied);
  CHECK(validator.check(stranger, payload.data()).status == Status::access_denied);
  CHECK(validator.check(nowhere, payload.data()).status == Status::unknown_volume);
  CHECK(validator.check(beyond, payload.data()).status == Status::out_of_range);
  // Judging changes nothing in the entry.
  CHECK(beyond.load_state() == EntryState::pending);
  CHECK(beyond.status == 0);
}
