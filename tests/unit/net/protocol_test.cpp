#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>

#include "aiops/core/checksum.hpp"
#include "aiops/net/protocol.hpp"

// Only aiops::net: aiops::Status (core/error.hpp) would clash with net::Status.
using namespace aiops::net;
using aiops::Errc;

namespace aiops::net {
std::ostream& operator<<(std::ostream& os, Status s) { return os << status_name(s); }
std::ostream& operator<<(std::ostream& os, Opcode o) { return os << opcode_name(o); }
}  // namespace aiops::net

namespace {

using RequestBytes = std::array<std::byte, request_header_bytes>;
using ReplyBytes = std::array<std::byte, reply_header_bytes>;

RequestBytes encoded(const RequestHeader& h) {
  RequestBytes b{};
  encode_request(h, b.data());
  return b;
}

ReplyBytes encoded(const ReplyHeader& h) {
  ReplyBytes b{};
  encode_reply(h, b.data());
  return b;
}

std::vector<std::byte> bytes_of(std::string_view s) {
  std::vector<std::byte> b;
  for (char c : s) b.push_back(static_cast<std::byte>(c));
  return b;
}

const RequestHeader hello_request{.opcode = Opcode::hello, .handle = 1, .length = 15, .checksum = 0xc2aa02f1b9d2a8ec};
const RequestHeader write_request{.opcode = Opcode::write, .flags = flag_fua, .handle = 0x0102030405060708,
                                  .volume = 7, .length = 4096, .offset = 1ull << 40, .checksum = 0xfeedface};
const RequestHeader read_request{.opcode = Opcode::read, .handle = 9, .volume = 3, .length = 512, .offset = 8192};
const RequestHeader flush_request{.opcode = Opcode::flush, .handle = 10};

const Hello sample_hello{.client = "gold-1", .token = "t0ken"};

HelloReply sample_hello_reply() {
  return {.max_request_bytes = 8 << 20,
          .max_outstanding = 128,
          .server_version = "aiops 0.1.0",
          .volumes = {{.id = 1, .name = "db", .size_bytes = 200ull << 30, .read_only = false},
                      {.id = 2, .name = "archive.v2", .size_bytes = 2ull << 40, .read_only = true}}};
}

// By value: the variant is usually a temporary.
template <class T, class E>
E error_of(const std::variant<T, E>& v) {
  REQUIRE(std::holds_alternative<E>(v));
  return std::get<E>(v);
}

template <class T, class E>
T value_of(const std::variant<T, E>& v) {
  if (auto* e = std::get_if<E>(&v)) FAIL("refused: " << e->problem);
  return std::get<T>(v);
}

}  // namespace

// ---- request headers ----

TEST_CASE("request headers round trip") {
  for (const RequestHeader& h : {hello_request, write_request, read_request, flush_request}) {
    SUBCASE(std::string(opcode_name(h.opcode)).c_str()) {
      CHECK(value_of(decode_request(encoded(h).data())) == h);
    }
  }
}

TEST_CASE("a request header is laid out as documented") {
  RequestBytes b = encoded(write_request);
  const uint8_t expected[40] = {'A',  'I',  'O',  'Q',  1,    2,    1,    0,     // magic version opcode flags
                                0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // handle
                                7,    0,    0,    0,    0x00, 0x10, 0,    0,     // volume length
                                0,    0,    0,    0,    0,    1,    0,    0,     // offset
                                0xce, 0xfa, 0xed, 0xfe, 0,    0,    0,    0};    // checksum
  for (size_t i = 0; i < b.size(); ++i) {
    INFO("byte " << i);
    CHECK(std::to_integer<uint8_t>(b[i]) == expected[i]);
  }
}

TEST_CASE("a request header accepts its limits") {
  SUBCASE("hello body of 4 bytes") {
    RequestHeader h = hello_request;
    h.length = hello_body_min_bytes;
    CHECK(value_of(decode_request(encoded(h).data())) == h);
  }
  SUBCASE("hello body of 1024 bytes") {
    RequestHeader h = hello_request;
    h.length = hello_body_max_bytes;
    CHECK(value_of(decode_request(encoded(h).data())) == h);
  }
  SUBCASE("read of 4 GiB - 1 at the last offset") {
    RequestHeader h = read_request;
    h.length = UINT32_MAX;
    h.offset = UINT64_MAX;
    CHECK(value_of(decode_request(encoded(h).data())) == h);
  }
  SUBCASE("write without FUA") {
    RequestHeader h = write_request;
    h.flags = 0;
    CHECK(value_of(decode_request(encoded(h).data())) == h);
  }
}

namespace {

struct BadRequest {
  const char* name;
  RequestHeader header;
  void (*poke)(std::byte*);  // changes the encoded bytes; may be null
  Status status;
  const char* problem;  // a distinctive part of DecodeError::problem
};

template <class F>
RequestHeader with(RequestHeader h, F change) {
  change(h);
  return h;
}

const BadRequest bad_requests[] = {
    {"bad magic", write_request, [](std::byte* b) { b[0] = std::byte{'G'}; }, Status::malformed,
     "bad request magic 47 49 4f 51"},
    {"reply magic on a request", write_request, [](std::byte* b) { b[3] = std::byte{'R'}; }, Status::malformed,
     "bad request magic 41 49 4f 52"},
    {"version 0", write_request, [](std::byte* b) { b[4] = std::byte{0}; }, Status::unsupported_version,
     "request version 0"},
    {"version 2", write_request, [](std::byte* b) { b[4] = std::byte{2}; }, Status::unsupported_version,
     "request version 2"},
    {"opcode 0", write_request, [](std::byte* b) { b[5] = std::byte{0}; }, Status::malformed, "unknown opcode 0"},
    {"opcode 5", write_request, [](std::byte* b) { b[5] = std::byte{5}; }, Status::malformed, "unknown opcode 5"},
    {"opcode 255", write_request, [](std::byte* b) { b[5] = std::byte{255}; }, Status::malformed,
     "unknown opcode 255"},
    {"flag bit 2", with(write_request, [](auto& h) { h.flags = 5; }), nullptr, Status::malformed,
     "unknown flag bits 0x0004"},
    {"RETRY on hello", with(hello_request, [](auto& h) { h.flags = flag_retry; }), nullptr, Status::malformed,
     "RETRY flag on a hello request"},
    {"flag bit 15", with(read_request, [](auto& h) { h.flags = 0x8000; }), nullptr, Status::malformed,
     "unknown flag bits 0x8000"},
    {"FUA on read", with(read_request, [](auto& h) { h.flags = flag_fua; }), nullptr, Status::malformed,
     "FUA flag on a read request"},
    {"FUA on flush", with(flush_request, [](auto& h) { h.flags = flag_fua; }), nullptr, Status::malformed,
     "FUA flag on a flush request"},
    {"FUA on hello", with(hello_request, [](auto& h) { h.flags = flag_fua; }), nullptr, Status::malformed,
     "FUA flag on a hello request"},
    {"flush with volume", with(flush_request, [](auto& h) { h.volume = 3; }), nullptr, Status::malformed,
     "flush with volume 3"},
    {"flush with length", with(flush_request, [](auto& h) { h.length = 8; }), nullptr, Status::malformed,
     "flush with length 8"},
    {"flush with offset", with(flush_request, [](auto& h) { h.offset = 4096; }), nullptr, Status::malformed,
     "flush with offset 4096"},
    {"flush with checksum", with(flush_request, [](auto& h) { h.checksum = 7; }), nullptr, Status::malformed,
     "flush with checksum 7"},
    {"read with checksum", with(read_request, [](auto& h) { h.checksum = 99; }), nullptr, Status::malformed,
     "read with checksum 99"},
    {"read of zero bytes", with(read_request, [](auto& h) { h.length = 0; }), nullptr, Status::out_of_range,
     "read of 0 bytes"},
    {"write of zero bytes", with(write_request, [](auto& h) { h.length = 0; }), nullptr, Status::out_of_range,
     "write of 0 bytes"},
    {"hello with volume", with(hello_request, [](auto& h) { h.volume = 1; }), nullptr, Status::malformed,
     "hello with volume 1"},
    {"hello with offset", with(hello_request, [](auto& h) { h.offset = 512; }), nullptr, Status::malformed,
     "hello with offset 512"},
    {"hello body empty", with(hello_request, [](auto& h) { h.length = 0; }), nullptr, Status::malformed,
     "hello body of 0 bytes"},
    {"hello body too short", with(hello_request, [](auto& h) { h.length = 3; }), nullptr, Status::malformed,
     "hello body of 3 bytes (must be 4 to 1024)"},
    {"hello body too long", with(hello_request, [](auto& h) { h.length = 1025; }), nullptr, Status::malformed,
     "hello body of 1025 bytes (must be 4 to 1024)"},
};

}  // namespace

TEST_CASE("a bad request header is refused with its own status and problem") {
  for (const BadRequest& row : bad_requests) {
    SUBCASE(row.name) {
      RequestBytes b = encoded(row.header);
      if (row.poke) row.poke(b.data());
      const DecodeError e = error_of(decode_request(b.data()));
      CHECK(e.status == row.status);
      INFO("problem: " << e.problem);
      CHECK(e.problem.find(row.problem) != std::string::npos);
    }
  }
}

TEST_CASE("a refused request names itself in the reply only when its framing is sound") {
  SUBCASE("out_of_range carries the request's opcode and handle") {
    const DecodeError e = error_of(decode_request(encoded(with(read_request, [](auto& h) { h.length = 0; })).data()));
    CHECK(e.opcode == Opcode::read);
    CHECK(e.handle == read_request.handle);
  }
  SUBCASE("malformed carries opcode 0 and handle 0") {
    const DecodeError e =
        error_of(decode_request(encoded(with(read_request, [](auto& h) { h.flags = flag_fua; })).data()));
    CHECK(e.opcode == Opcode{0});
    CHECK(e.handle == 0);
  }
}

TEST_CASE("only HELLO and WRITE are followed by a payload") {
  CHECK(hello_request.payload_bytes() == 15);
  CHECK(write_request.payload_bytes() == 4096);
  CHECK(read_request.payload_bytes() == 0);
  CHECK(flush_request.payload_bytes() == 0);
}

// ---- reply headers ----

namespace {

const ReplyHeader write_ok = reply_to(write_request, Status::ok);
const ReplyHeader read_ok{.opcode = Opcode::read, .handle = 9, .length = 512, .checksum = 0x1122334455667788};
const ReplyHeader hello_ok{.opcode = Opcode::hello, .handle = 1, .length = 100, .checksum = 5};
const ReplyHeader write_busy{.opcode = Opcode::write, .status = Status::busy, .handle = 4, .retry_after_ms = 250};
const ReplyHeader undecodable{.opcode = Opcode{0}, .status = Status::malformed};

}  // namespace

TEST_CASE("reply headers round trip") {
  for (const ReplyHeader& h : {write_ok, read_ok, hello_ok, write_busy, undecodable}) {
    SUBCASE((std::string(opcode_name(h.opcode)) + " " + std::string(status_name(h.status))).c_str()) {
      CHECK(value_of(decode_reply(encoded(h).data())) == h);
    }
  }
}

TEST_CASE("a reply header is laid out as documented") {
  ReplyBytes b = encoded(ReplyHeader{.opcode = Opcode::read, .status = Status::checksum_mismatch, .handle = 0x0a0b,
                                     .retry_after_ms = 0x01020304, .length = 0x05060708, .checksum = 0xff});
  const uint8_t expected[32] = {'A', 'I', 'O', 'R', 1, 3, 9, 0,  0x0b, 0x0a, 0,    0,    0, 0, 0, 0,
                                4,   3,   2,   1,   8, 7, 6, 5,  0xff, 0,    0,    0,    0, 0, 0, 0};
  for (size_t i = 0; i < b.size(); ++i) {
    INFO("byte " << i);
    CHECK(std::to_integer<uint8_t>(b[i]) == expected[i]);
  }
}

namespace {

template <class F>
ReplyHeader with(ReplyHeader h, F change) {
  change(h);
  return h;
}

struct BadReply {
  const char* name;
  ReplyHeader header;
  void (*poke)(std::byte*);
  Status status;
  const char* problem;
};

const BadReply bad_replies[] = {
    {"bad magic", write_ok, [](std::byte* b) { b[3] = std::byte{'Q'}; }, Status::malformed,
     "bad reply magic 41 49 4f 51"},
    {"version 2", write_ok, [](std::byte* b) { b[4] = std::byte{2}; }, Status::unsupported_version,
     "reply version 2"},
    {"opcode 5", write_ok, [](std::byte* b) { b[5] = std::byte{5}; }, Status::malformed, "unknown opcode 5 in reply"},
    {"status 15", write_ok, [](std::byte* b) { b[6] = std::byte{15}; }, Status::malformed, "unknown status 15"},
    {"opcode 0 with ok", with(undecodable, [](auto& h) { h.status = Status::ok; }), nullptr, Status::malformed,
     "reply without an opcode has status ok"},
    {"opcode 0 with a handle", with(undecodable, [](auto& h) { h.handle = 3; }), nullptr, Status::malformed,
     "reply without an opcode has handle 3"},
    {"retry_after_ms with ok", with(write_ok, [](auto& h) { h.retry_after_ms = 10; }), nullptr, Status::malformed,
     "retry_after_ms 10 with status ok"},
    {"retry_after_ms with out_of_range",
     with(write_ok, [](auto& h) { h.status = Status::out_of_range, h.retry_after_ms = 1; }), nullptr,
     Status::malformed, "retry_after_ms 1 with status out_of_range"},
    {"payload on a write reply", with(write_ok, [](auto& h) { h.length = 4, h.checksum = 1; }), nullptr,
     Status::malformed, "write reply with status ok has 4 payload bytes"},
    {"payload on a failed read", with(read_ok, [](auto& h) { h.status = Status::io_error; }), nullptr,
     Status::malformed, "read reply with status io_error has 512 payload bytes"},
    {"hello reply body too short", with(hello_ok, [](auto& h) { h.length = 11; }), nullptr, Status::malformed,
     "hello reply with status ok has a body of 11 bytes"},
    {"hello reply body too long", with(hello_ok, [](auto& h) { h.length = hello_reply_max_bytes + 1; }), nullptr,
     Status::malformed, "has a body of 5111807 bytes"},
    {"read reply without data", with(read_ok, [](auto& h) { h.length = 0; }), nullptr, Status::malformed,
     "read reply with status ok has no data"},
    {"checksum without payload", with(write_ok, [](auto& h) { h.checksum = 0xab; }), nullptr, Status::malformed,
     "has no payload but checksum 0x00000000000000ab"},
};

}  // namespace

TEST_CASE("a bad reply header is refused with its own status and problem") {
  for (const BadReply& row : bad_replies) {
    SUBCASE(row.name) {
      ReplyBytes b = encoded(row.header);
      if (row.poke) row.poke(b.data());
      const DecodeError e = error_of(decode_reply(b.data()));
      CHECK(e.status == row.status);
      INFO("problem: " << e.problem);
      CHECK(e.problem.find(row.problem) != std::string::npos);
    }
  }
}

TEST_CASE("every retryable status may carry retry_after_ms") {
  for (Status s : {Status::too_many_outstanding, Status::busy, Status::io_error, Status::shutting_down}) {
    SUBCASE(std::string(status_name(s)).c_str()) {
      ReplyHeader h{.opcode = Opcode::write, .status = s, .handle = 1, .retry_after_ms = 1000};
      CHECK(value_of(decode_reply(encoded(h).data())) == h);
    }
  }
}

// ---- status codes and helpers ----

TEST_CASE("status names are distinct, lower-case and stable") {
  std::set<std::string_view> seen;
  for (uint16_t i = 0; i < status_count; ++i) {
    std::string_view name = status_name(static_cast<Status>(i));
    INFO("status " << i);
    CHECK(name != "unknown");
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos);
    CHECK(seen.insert(name).second);
  }
  CHECK(status_name(Status::checksum_mismatch) == "checksum_mismatch");
  CHECK(status_name(static_cast<Status>(status_count)) == "unknown");
}

TEST_CASE("opcode names") {
  CHECK(opcode_name(Opcode::hello) == "hello");
  CHECK(opcode_name(Opcode::write) == "write");
  CHECK(opcode_name(Opcode::read) == "read");
  CHECK(opcode_name(Opcode::flush) == "flush");
  CHECK(opcode_name(Opcode{0}) == "none");
  CHECK(opcode_name(Opcode{5}) == "unknown");
}

TEST_CASE("the server closes the connection after malformed, unsupported_version and a failed HELLO") {
  CHECK(reply_closes_connection(undecodable));
  CHECK(reply_closes_connection(reply_to(write_request, Status::malformed)));
  CHECK(reply_closes_connection(ReplyHeader{.opcode = Opcode{0}, .status = Status::unsupported_version}));
  CHECK(reply_closes_connection(reply_to(hello_request, Status::bad_token)));
  CHECK(reply_closes_connection(reply_to(hello_request, Status::checksum_mismatch)));
  CHECK_FALSE(reply_closes_connection(reply_to(hello_request, Status::ok)));
  CHECK_FALSE(reply_closes_connection(reply_to(write_request, Status::checksum_mismatch)));
  CHECK_FALSE(reply_closes_connection(reply_to(write_request, Status::too_large)));
  CHECK_FALSE(reply_closes_connection(reply_to(read_request, Status::not_authenticated)));
}

TEST_CASE("storage errors map to busy or io_error") {
  CHECK(status_for_storage_error(Errc::busy) == Status::busy);
  CHECK(status_for_storage_error(Errc::timeout) == Status::busy);
  CHECK(status_for_storage_error(Errc::io_error) == Status::io_error);
  CHECK(status_for_storage_error(Errc::no_space) == Status::io_error);
  CHECK(status_for_storage_error(Errc::log_failed) == Status::io_error);
}

TEST_CASE("an extent fits a volume only when nonempty and inside it, without overflow") {
  CHECK(extent_fits(0, 4096, 4096));
  CHECK(extent_fits(4095, 1, 4096));
  CHECK_FALSE(extent_fits(4096, 1, 4096));
  CHECK_FALSE(extent_fits(4095, 2, 4096));
  CHECK_FALSE(extent_fits(0, 0, 4096));
  CHECK_FALSE(extent_fits(UINT64_MAX, 2, UINT64_MAX));
  CHECK_FALSE(extent_fits(UINT64_MAX - 1, UINT32_MAX, 1ull << 46));
}

// ---- HELLO body ----

TEST_CASE("a hello body round trips") {
  Hello h{.client = std::string(64, 'a'), .token = std::string(256, '~')};
  SUBCASE("longest fields") { CHECK(decode_hello(encode_hello(h)).value() == h); }
  SUBCASE("shortest fields") {
    Hello s{.client = "x", .token = "!"};
    CHECK(decode_hello(encode_hello(s)).value() == s);
  }
  SUBCASE("sample") { CHECK(decode_hello(encode_hello(sample_hello)).value() == sample_hello); }
}

TEST_CASE("a hello body is laid out as documented") {
  CHECK(encode_hello(sample_hello) == bytes_of(std::string_view("\x06\x00gold-1\x05\x00t0ken", 15)));
}

TEST_CASE("every truncation of a hello body is refused") {
  std::vector<std::byte> body = encode_hello(sample_hello);
  for (size_t keep = 0; keep < body.size(); ++keep) {
    INFO("first " << keep << " bytes");
    auto r = decode_hello(std::span(body).first(keep));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Errc::invalid_input);
    CHECK(r.error().message().find("truncated after " + std::to_string(keep) + " bytes") != std::string::npos);
  }
}

namespace {

struct BadBody {
  const char* name;
  std::vector<std::byte> body;
  const char* problem;
};

std::vector<std::byte> operator+(std::vector<std::byte> a, const std::vector<std::byte>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<std::byte> u16(uint16_t v) { return {std::byte(v & 0xff), std::byte(v >> 8)}; }

const std::vector<std::byte> good_token = u16(5) + bytes_of("t0ken");

std::vector<BadBody> bad_hello_bodies() {
  return {
      {"empty name", u16(0) + good_token, "name_length is 0 (must be 1 to 64)"},
      {"name of 65 bytes", u16(65) + bytes_of(std::string(65, 'a')) + good_token, "name_length is 65"},
      {"space in name", u16(4) + bytes_of("ab d") + good_token, "name has 0x20 at byte 4"},
      {"slash in name", u16(3) + bytes_of("a/b") + good_token, "name has 0x2f at byte 3"},
      {"non-ASCII in name", u16(2) + bytes_of("a\xc3") + good_token, "name has 0xc3 at byte 3"},
      {"empty token", u16(1) + bytes_of("a") + u16(0), "token_length is 0 (must be 1 to 256)"},
      {"token of 257 bytes", u16(1) + bytes_of("a") + u16(257) + bytes_of(std::string(257, 'x')),
       "token_length is 257"},
      {"space in token", u16(1) + bytes_of("a") + u16(3) + bytes_of("t k"), "token has 0x20 at byte 6"},
      {"tab in token", u16(1) + bytes_of("a") + u16(3) + bytes_of("t\tk"), "token has 0x09 at byte 6"},
      {"DEL in token", u16(1) + bytes_of("a") + u16(1) + bytes_of("\x7f"), "token has 0x7f at byte 5"},
      {"name length past the end", u16(60) + bytes_of("gold-1"), "truncated after 8 bytes, inside name (bytes 2 to 61)"},
      {"token length past the end", u16(1) + bytes_of("a") + u16(9) + bytes_of("t0ken"),
       "truncated after 10 bytes, inside token (bytes 5 to 13)"},
      {"trailing bytes", encode_hello(sample_hello) + bytes_of("xyz"), "3 bytes follow token"},
  };
}

}  // namespace

TEST_CASE("a bad hello body is refused with a precise problem") {
  for (const BadBody& row : bad_hello_bodies()) {
    SUBCASE(row.name) {
      auto r = decode_hello(row.body);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code() == Errc::invalid_input);
      INFO("problem: " << r.error().message());
      CHECK(r.error().message().find(row.problem) != std::string::npos);
      CHECK(r.error().message().rfind("hello body: ", 0) == 0);
    }
  }
}

TEST_CASE("a refused token is never quoted in the problem") {
  auto r = decode_hello(u16(1) + bytes_of("a") + u16(10) + bytes_of("secret pw!"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message().find("secret") == std::string::npos);
}

// ---- HELLO reply body ----

TEST_CASE("a hello reply body round trips") {
  SUBCASE("two volumes") {
    HelloReply r = sample_hello_reply();
    CHECK(decode_hello_reply(encode_hello_reply(r)).value() == r);
  }
  SUBCASE("no volumes and no version") {
    HelloReply r{.max_request_bytes = 1, .max_outstanding = 1, .server_version = {}, .volumes = {}};
    CHECK(encode_hello_reply(r).size() == hello_reply_min_bytes);
    CHECK(decode_hello_reply(encode_hello_reply(r)).value() == r);
  }
  SUBCASE("longest version and names") {
    HelloReply r{.max_request_bytes = UINT32_MAX, .max_outstanding = UINT32_MAX,
                 .server_version = std::string(64, ' '),
                 .volumes = {{.id = UINT32_MAX, .name = std::string(64, 'v'), .size_bytes = UINT64_MAX}}};
    CHECK(decode_hello_reply(encode_hello_reply(r)).value() == r);
  }
}

TEST_CASE("a hello reply body is laid out as documented") {
  HelloReply r{.max_request_bytes = 0x01020304, .max_outstanding = 5, .server_version = "v1",
               .volumes = {{.id = 7, .name = "db", .size_bytes = 0x1000, .read_only = true}}};
  std::vector<std::byte> expected = bytes_of(std::string_view("\x04\x03\x02\x01\x05\0\0\0\x02\0v1\x01\0"
                                                              "\x07\0\0\0\x01\0\x10\0\0\0\0\0\0\x02" "db",
                                                              30));
  CHECK(encode_hello_reply(r) == expected);
}

TEST_CASE("every truncation of a hello reply body is refused") {
  std::vector<std::byte> body = encode_hello_reply(sample_hello_reply());
  for (size_t keep = 0; keep < body.size(); ++keep) {
    INFO("first " << keep << " bytes");
    auto r = decode_hello_reply(std::span(body).first(keep));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message().find("truncated after " + std::to_string(keep) + " bytes") != std::string::npos);
  }
}

namespace {

std::vector<std::byte> u32(uint32_t v) { return u16(static_cast<uint16_t>(v)) + u16(static_cast<uint16_t>(v >> 16)); }
std::vector<std::byte> u64(uint64_t v) { return u32(static_cast<uint32_t>(v)) + u32(static_cast<uint32_t>(v >> 32)); }
std::vector<std::byte> u8(uint8_t v) { return {std::byte{v}}; }

// The fixed part with no version string, then `count` volumes.
std::vector<std::byte> reply_head(uint16_t count) { return u32(4096) + u32(8) + u16(0) + u16(count); }
std::vector<std::byte> volume(uint32_t id, uint8_t flags, std::string_view name) {
  return u32(id) + u8(flags) + u64(1 << 20) + u8(static_cast<uint8_t>(name.size())) + bytes_of(name);
}

std::vector<BadBody> bad_hello_reply_bodies() {
  return {
      {"max_request_bytes 0", u32(0) + u32(8) + u16(0) + u16(0), "max_request_bytes is 0"},
      {"max_outstanding 0", u32(4096) + u32(0) + u16(0) + u16(0), "max_outstanding is 0"},
      {"version of 65 bytes", u32(1) + u32(1) + u16(65) + bytes_of(std::string(65, 'v')) + u16(0),
       "server_version_length is 65 (must be 0 to 64)"},
      {"newline in version", u32(1) + u32(1) + u16(2) + bytes_of("v\n") + u16(0), "server_version has 0x0a at byte 11"},
      {"volume id 0", reply_head(1) + volume(0, 0, "db"), "volume[0].id is 0"},
      {"unknown volume flag", reply_head(1) + volume(1, 2, "db"), "volume[0].flags 0x02 has unknown bits"},
      {"empty volume name", reply_head(1) + volume(1, 0, ""), "volume[0].name_length is 0 (must be 1 to 64)"},
      {"volume name of 65 bytes", reply_head(1) + volume(1, 0, std::string(65, 'n')), "volume[0].name_length is 65"},
      {"bad volume name character", reply_head(2) + volume(1, 0, "db") + volume(2, 0, "d b"),
       "volume[1].name has 0x20 at byte"},
      {"repeated volume id", reply_head(2) + volume(1, 0, "a") + volume(1, 0, "b"), "volume[1].id 1 repeats volume[0].id"},
      {"repeated volume name", reply_head(2) + volume(1, 0, "a") + volume(2, 0, "a"),
       "volume[1].name \"a\" repeats volume[0].name"},
      {"fewer volumes than counted", reply_head(2) + volume(1, 0, "a"), "truncated after 27 bytes, inside volume[1].id"},
      {"trailing bytes after no volumes", reply_head(0) + u8(0), "1 byte follows volume_count"},
      {"trailing bytes after the last volume", reply_head(1) + volume(1, 0, "a") + u16(0),
       "2 bytes follow the last volume"},
  };
}

}  // namespace

TEST_CASE("a bad hello reply body is refused with a precise problem") {
  for (const BadBody& row : bad_hello_reply_bodies()) {
    SUBCASE(row.name) {
      auto r = decode_hello_reply(row.body);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code() == Errc::invalid_input);
      INFO("problem: " << r.error().message());
      CHECK(r.error().message().find(row.problem) != std::string::npos);
      CHECK(r.error().message().rfind("hello reply body: ", 0) == 0);
    }
  }
}

// ---- the man page agrees with the code ----

namespace {

// `hexdump -C` output, as the man page's examples show it.
std::string hexdump_c(const std::vector<std::byte>& b) {
  std::string out;
  char buf[24];
  for (size_t i = 0; i < b.size(); i += 16) {
    std::snprintf(buf, sizeof buf, "%08zx ", i);
    out += buf;
    std::string ascii;
    for (size_t j = i; j < i + 16; ++j) {
      if (j % 16 == 8) out += ' ';
      if (j >= b.size()) {
        out += "   ";
        continue;
      }
      auto c = std::to_integer<unsigned>(b[j]);
      std::snprintf(buf, sizeof buf, " %02x", c);
      out += buf;
      ascii += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
    }
    out += "  |" + ascii + "|\n";
  }
  std::snprintf(buf, sizeof buf, "%08zx\n", b.size());
  return out + buf;
}

std::string man_page() {
  std::ifstream in(std::filesystem::path(AIOPS_SOURCE_DIR) / "man/aiops-protocol.7");
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("the man page lists every status with its number and name") {
  std::string page = man_page();
  for (uint16_t i = 0; i < status_count; ++i) {
    std::string row = ".It " + std::to_string(i) + " Ta Li " + std::string(status_name(static_cast<Status>(i))) + " Ta ";
    INFO(row);
    CHECK(page.find(row) != std::string::npos);
  }
}

TEST_CASE("the man page's example dumps are what the encoder writes") {
  std::string page = man_page();
  SUBCASE("HELLO") {
    std::vector<std::byte> body = encode_hello(sample_hello);
    std::vector<std::byte> wire(request_header_bytes);
    encode_request({.opcode = Opcode::hello, .handle = 1, .length = 15, .checksum = aiops::checksum64(body)}, wire.data());
    std::string dump = hexdump_c(wire + body);
    INFO(dump);
    CHECK(page.find(dump) != std::string::npos);
  }
  SUBCASE("WRITE") {
    std::vector<std::byte> payload{std::byte{0xde}, std::byte{0xad}, std::byte{0xbe}, std::byte{0xef}};
    std::vector<std::byte> wire(request_header_bytes);
    encode_request({.opcode = Opcode::write, .flags = flag_fua, .handle = 2, .volume = 1, .length = 4, .offset = 4096,
                    .checksum = aiops::checksum64(payload)},
                   wire.data());
    std::string dump = hexdump_c(wire + payload);
    INFO(dump);
    CHECK(page.find(dump) != std::string::npos);
  }
  SUBCASE("the reply to the WRITE") {
    std::vector<std::byte> wire(reply_header_bytes);
    encode_reply({.opcode = Opcode::write, .handle = 2}, wire.data());
    std::string dump = hexdump_c(wire);
    INFO(dump);
    CHECK(page.find(dump) != std::string::npos);
  }
}
