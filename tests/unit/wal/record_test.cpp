#include <doctest/doctest.h>

#include <random>

#include "aiops/core/checksum.hpp"
#include "aiops/wal/record.hpp"
#include "support/files.hpp"

using namespace aiops;
using namespace aiops::wal;

namespace {

RecordHeaderBytes encoded(const RecordHeader& h, const std::vector<std::byte>& payload) {
  RecordHeaderBytes b{};
  encode_record_header(h, checksum64(payload), b.data());
  return b;
}

const RecordHeader sample{record_flag_fua, 77, 3, 9, 123456789, 4096};

}  // namespace

TEST_CASE("record header round trips through encode and decode") {
  auto payload = test::payload_for(1, 4096);
  auto b = encoded(sample, payload);
  DecodedHeader d = decode_record_header(b.data());
  CHECK(d.verdict == HeaderVerdict::valid);
  CHECK(d.header == sample);
  CHECK(record_checksum_matches(b.data(), checksum64(payload)));
}

TEST_CASE("record checksum covers the payload") {
  auto payload = test::payload_for(1, 4096);
  auto b = encoded(sample, payload);
  payload[100] ^= std::byte{1};
  CHECK_FALSE(record_checksum_matches(b.data(), checksum64(payload)));
}

TEST_CASE("every flipped bit of a record header makes it damaged, never valid or unrecognisable") {
  auto b = encoded(sample, test::payload_for(1, 4096));
  for (size_t bit = 0; bit < 40 * 8; ++bit) {
    auto c = b;
    c[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    DecodedHeader d = decode_record_header(c.data());
    INFO("bit " << bit);
    CHECK(d.verdict == HeaderVerdict::damaged);
  }
}

TEST_CASE("a flipped bit in the stored checksum leaves the header valid and fails the checksum") {
  auto payload = test::payload_for(2, 10);
  auto b = encoded(sample, payload);
  b[44] ^= std::byte{0x10};
  CHECK(decode_record_header(b.data()).verdict == HeaderVerdict::valid);
  CHECK_FALSE(record_checksum_matches(b.data(), checksum64(payload)));
}

TEST_CASE("a flipped byte never leaves a valid header") {
  auto b = encoded(sample, test::payload_for(1, 4096));
  for (size_t i = 0; i < 40; ++i) {
    auto c = b;
    c[i] ^= std::byte{0xff};
    INFO("byte " << i);
    CHECK(decode_record_header(c.data()).verdict != HeaderVerdict::valid);
  }
}

TEST_CASE("a header torn after its first bytes is not taken for damage") {
  auto b = encoded(sample, test::payload_for(1, 4096));
  for (size_t keep = 0; keep < 36; ++keep) {
    auto c = b;
    std::fill(c.begin() + static_cast<long>(keep), c.end(), std::byte{0});
    INFO("first " << keep << " bytes kept");
    CHECK(decode_record_header(c.data()).verdict == HeaderVerdict::not_a_record);
  }
}

TEST_CASE("a flipped bit in the stored checksum is recognised as such") {
  auto payload = test::payload_for(3, 100);
  auto b = encoded(sample, payload);
  b[42] ^= std::byte{0x08};
  CHECK_FALSE(record_checksum_matches(b.data(), checksum64(payload)));
  CHECK(record_checksum_one_bit_off(b.data(), checksum64(payload)));
  payload[7] ^= std::byte{1};
  CHECK_FALSE(record_checksum_one_bit_off(b.data(), checksum64(payload)));
}

TEST_CASE("zeros and random bytes are not records") {
  RecordHeaderBytes zeros{};
  CHECK(decode_record_header(zeros.data()).verdict == HeaderVerdict::not_a_record);
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    RecordHeaderBytes junk;
    for (auto& x : junk) x = static_cast<std::byte>(rng());
    CHECK(decode_record_header(junk.data()).verdict == HeaderVerdict::not_a_record);
  }
}

TEST_CASE("a marker must be empty and flagged FUA") {
  RecordHeader h{record_flag_marker, 5, 0, 0, 0, 0};
  CHECK(decode_record_header(encoded(h, {}).data()).verdict == HeaderVerdict::damaged);
  h.flags |= record_flag_fua;
  CHECK(decode_record_header(encoded(h, {}).data()).verdict == HeaderVerdict::valid);
  h.length = 1;
  CHECK(decode_record_header(encoded(h, {}).data()).verdict == HeaderVerdict::damaged);
}

TEST_CASE("unknown flags are damage") {
  RecordHeader h = sample;
  h.flags = 0x8000;
  auto b = encoded(h, {});
  DecodedHeader d = decode_record_header(b.data());
  CHECK(d.verdict == HeaderVerdict::damaged);
  CHECK(d.problem.find("unknown flags") != std::string::npos);
}
