#include <doctest/doctest.h>

#include "nbd/wire_bytes.hpp"

#include <array>
#include <cstdio>
#include <initializer_list>

#include "aiops/nbd/transmission.hpp"

using namespace aiops::nbd;

namespace {

using namespace nbd_test;

constexpr uint16_t op(Command c) { return static_cast<uint16_t>(c); }

const Bytes simple_magic = bytes({0x67, 0x44, 0x66, 0x98});
const Bytes chunk_magic = bytes({0x66, 0x8e, 0x33, 0xef});
const Bytes handle_bytes = bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
constexpr uint64_t handle = 0x0102030405060708;

constexpr uint64_t MiB = 1 << 20;

// A 1 MiB read-write export with structured replies, 64 KiB reads/writes,
// 1 MiB trims/zeroes.
ExportLimits limits() {
  return {.size = MiB, .read_only = false, .structured = true, .max_payload = 64 * 1024, .max_zero = MiB};
}

Request req(Command c, uint64_t offset, uint32_t length, uint16_t flags = 0) {
  return {.flags = flags, .type = op(c), .handle = 77, .offset = offset, .length = length};
}

void check_refused(const Request& r, const ExportLimits& l, uint32_t error, const std::string& message) {
  Verdict v = validate(r, l);
  CHECK_FALSE(v.ok());
  CHECK(error_name(v.error) == error_name(error));
  CHECK(v.message == message);
}

void check_ok(const Request& r, const ExportLimits& l) {
  Verdict v = validate(r, l);
  CHECK(v.message == "");
  CHECK(v.ok());
}

}  // namespace

// ---- requests ----

TEST_CASE("nbd transmission: request encoding, byte by byte") {
  std::array<std::byte, request_bytes> out{};
  encode_request({.flags = cmd_flag_fua, .type = op(Command::write), .handle = handle, .offset = 0x1122334455667788,
                  .length = 0x00010000},
                 out.data());
  CHECK(dump(out) == dump(cat({bytes({0x25, 0x60, 0x95, 0x13, 0x00, 0x01, 0x00, 0x01}), handle_bytes,
                               bytes({0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x01, 0x00, 0x00})})));
}

TEST_CASE("nbd transmission: requests round trip through encode and decode") {
  const Request samples[] = {
      {.flags = cmd_flag_fua, .type = op(Command::write), .handle = handle, .offset = 4096, .length = 512},
      {.flags = 0, .type = op(Command::read), .handle = 0, .offset = 0, .length = 1},
      {.flags = 0, .type = op(Command::disc), .handle = UINT64_MAX, .offset = 0, .length = 0},
      // Unknown type and flags are decoded as sent; validate() judges them.
      {.flags = 0xffff, .type = 0xffff, .handle = UINT64_MAX, .offset = UINT64_MAX, .length = UINT32_MAX},
  };
  for (const Request& r : samples) {
    std::array<std::byte, request_bytes> out{};
    encode_request(r, out.data());
    auto decoded = decode_request(out.data());
    REQUIRE(std::holds_alternative<Request>(decoded));
    CHECK(std::get<Request>(decoded) == r);
  }
}

TEST_CASE("nbd transmission: a bad request magic is refused") {
  std::array<std::byte, request_bytes> out{};
  encode_request(req(Command::read, 0, 512), out.data());

  // The historic magic proto.md reserves.
  Bytes historic = cat({bytes({0x12, 0x56, 0x09, 0x53}), Bytes(out.begin() + 4, out.end())});
  auto d = decode_request(historic.data());
  REQUIRE(std::holds_alternative<std::string>(d));
  CHECK(std::get<std::string>(d) == "request magic 0x12560953 is not NBD_REQUEST_MAGIC (0x25609513)");

  // The right magic in the wrong byte order.
  Bytes swapped = cat({bytes({0x13, 0x95, 0x60, 0x25}), Bytes(out.begin() + 4, out.end())});
  d = decode_request(swapped.data());
  REQUIRE(std::holds_alternative<std::string>(d));
  CHECK(std::get<std::string>(d) == "request magic 0x13956025 is not NBD_REQUEST_MAGIC (0x25609513)");
}

TEST_CASE("nbd transmission: only WRITE carries a payload") {
  CHECK(payload_bytes(req(Command::write, 0, 4096)) == 4096);
  CHECK(payload_bytes(req(Command::write, 0, UINT32_MAX)) == UINT32_MAX);
  CHECK(payload_bytes(req(Command::read, 0, 4096)) == 0);
  CHECK(payload_bytes(req(Command::write_zeroes, 0, 4096)) == 0);
  CHECK(payload_bytes(req(Command::trim, 0, 4096)) == 0);
  CHECK(payload_bytes({.type = 42, .length = 4096}) == 0);
  // Refused writes still carry their payload: framing does not depend on the verdict.
  ExportLimits ro = limits();
  ro.read_only = true;
  CHECK_FALSE(validate(req(Command::write, 0, 512), ro).ok());
  CHECK(payload_bytes(req(Command::write, 0, 512)) == 512);
}

TEST_CASE("nbd transmission: advertised flags match what validate() accepts") {
  ExportLimits l = limits();
  l.structured = false;
  // has_flags, flush, fua, trim, write_zeroes, fast_zero.
  CHECK(transmission_flags(l) == 0x086d);
  l.structured = true;
  CHECK(transmission_flags(l) == (0x086d | tflag_send_df));
  l.read_only = true;
  CHECK(transmission_flags(l) == (0x086d | tflag_send_df | tflag_read_only));
}

// ---- validate(), one case per rule ----

TEST_CASE("nbd transmission: validate accepts well-formed requests") {
  const ExportLimits l = limits();
  check_ok(req(Command::read, 0, 512), l);
  check_ok(req(Command::read, MiB - 64 * 1024, 64 * 1024), l);  // ends exactly at the end, at the limit
  check_ok(req(Command::write, 4096, 4096, cmd_flag_fua), l);
  check_ok(req(Command::flush, 0, 0), l);
  check_ok(req(Command::trim, 0, MiB), l);
  check_ok(req(Command::write_zeroes, 0, MiB, cmd_flag_fua | cmd_flag_no_hole | cmd_flag_fast_zero), l);
  check_ok(req(Command::read, 0, 512, cmd_flag_df), l);
  // FUA is accepted on every command once NBD_FLAG_SEND_FUA is advertised.
  check_ok(req(Command::read, 0, 512, cmd_flag_fua), l);
  check_ok(req(Command::flush, 0, 0, cmd_flag_fua), l);
  check_ok(req(Command::trim, 0, 512, cmd_flag_fua), l);
}

TEST_CASE("nbd transmission: validate rule 1, unknown command") {
  check_refused({.type = 9, .length = 512}, limits(), err::einval, "unknown command 9");
  check_refused({.type = 0xffff}, limits(), err::einval, "unknown command 65535");
}

TEST_CASE("nbd transmission: validate rule 2, DISC is always ok") {
  check_ok(req(Command::disc, 0, 0), limits());
  check_ok(req(Command::disc, UINT64_MAX, UINT32_MAX, 0xffff), ExportLimits{.read_only = true});
}

TEST_CASE("nbd transmission: validate rule 3, unknown flag bits") {
  check_refused(req(Command::read, 0, 512, 0x0020), limits(), err::einval,
                "NBD_CMD_READ with unknown flag bits 0x0020");
  check_refused(req(Command::write, 0, 512, 0x8001), limits(), err::einval,
                "NBD_CMD_WRITE with unknown flag bits 0x8000");
}

TEST_CASE("nbd transmission: validate rule 4, commands not negotiated") {
  check_refused(req(Command::cache, 0, 512), limits(), err::einval,
                "NBD_CMD_CACHE was not negotiated (this server does not offer it)");
  check_refused(req(Command::block_status, 0, 512, cmd_flag_req_one), limits(), err::einval,
                "NBD_CMD_BLOCK_STATUS was not negotiated (this server does not offer it)");
  check_refused(req(Command::resize, 2 * MiB, 0), limits(), err::einval,
                "NBD_CMD_RESIZE was not negotiated (this server does not offer it)");
}

TEST_CASE("nbd transmission: validate rule 5, a flag the command does not take") {
  const ExportLimits l = limits();
  check_refused(req(Command::write, 0, 512, cmd_flag_no_hole), l, err::einval,
                "NBD_CMD_FLAG_NO_HOLE is not valid on NBD_CMD_WRITE");
  check_refused(req(Command::trim, 0, 512, cmd_flag_fast_zero), l, err::einval,
                "NBD_CMD_FLAG_FAST_ZERO is not valid on NBD_CMD_TRIM");
  check_refused(req(Command::write, 0, 512, cmd_flag_df), l, err::einval,
                "NBD_CMD_FLAG_DF is not valid on NBD_CMD_WRITE");
  check_refused(req(Command::read, 0, 512, cmd_flag_req_one), l, err::einval,
                "NBD_CMD_FLAG_REQ_ONE is not valid on NBD_CMD_READ");
  check_refused(req(Command::flush, 0, 0, cmd_flag_df), l, err::einval,
                "NBD_CMD_FLAG_DF is not valid on NBD_CMD_FLUSH");
  // Several stray flags: the lowest is named.
  check_refused(req(Command::read, 0, 512, cmd_flag_fast_zero | cmd_flag_no_hole), l, err::einval,
                "NBD_CMD_FLAG_NO_HOLE is not valid on NBD_CMD_READ");
}

TEST_CASE("nbd transmission: validate rule 6, DF without structured replies") {
  ExportLimits l = limits();
  l.structured = false;
  check_refused(req(Command::read, 0, 512, cmd_flag_df), l, err::einval,
                "NBD_CMD_FLAG_DF without structured replies (NBD_FLAG_SEND_DF was not advertised)");
  check_ok(req(Command::read, 0, 512), l);
}

TEST_CASE("nbd transmission: validate rule 7, FLUSH offset and length must be 0") {
  check_refused(req(Command::flush, 1, 0), limits(), err::einval,
                "NBD_CMD_FLUSH with offset 1 and length 0 (both must be 0)");
  check_refused(req(Command::flush, 0, 512), limits(), err::einval,
                "NBD_CMD_FLUSH with offset 0 and length 512 (both must be 0)");
}

TEST_CASE("nbd transmission: validate rule 8, writes on a read-only export") {
  ExportLimits l = limits();
  l.read_only = true;
  check_refused(req(Command::write, 0, 512), l, err::eperm, "NBD_CMD_WRITE on a read-only export");
  check_refused(req(Command::trim, 0, 512), l, err::eperm, "NBD_CMD_TRIM on a read-only export");
  check_refused(req(Command::write_zeroes, 0, 512), l, err::eperm, "NBD_CMD_WRITE_ZEROES on a read-only export");
  // Before the extent rules: a zero-length or out-of-range write still gets EPERM.
  check_refused(req(Command::write, 0, 0), l, err::eperm, "NBD_CMD_WRITE on a read-only export");
  check_refused(req(Command::write, 2 * MiB, 512), l, err::eperm, "NBD_CMD_WRITE on a read-only export");
  check_ok(req(Command::read, 0, 512), l);
  check_ok(req(Command::flush, 0, 0), l);
}

TEST_CASE("nbd transmission: validate rule 9, zero length") {
  for (Command c : {Command::read, Command::write, Command::trim, Command::write_zeroes}) {
    CAPTURE(command_name(op(c)));
    check_refused(req(c, 0, 0), limits(), err::einval, command_name(op(c)) + " of 0 bytes (length must be at least 1)");
  }
}

TEST_CASE("nbd transmission: validate rule 10, READ/WRITE above max_payload is EINVAL, not EOVERFLOW") {
  const ExportLimits l = limits();
  check_refused(req(Command::read, 0, 64 * 1024 + 1), l, err::einval,
                "NBD_CMD_READ of 65537 bytes is above the limit of 65536 bytes for reads and writes");
  check_refused(req(Command::write, 0, 64 * 1024 + 1), l, err::einval,
                "NBD_CMD_WRITE of 65537 bytes is above the limit of 65536 bytes for reads and writes");
  check_ok(req(Command::write, 0, 64 * 1024), l);

  // A default ExportLimits allows no data at all (fails closed).
  check_refused(req(Command::read, 0, 1), ExportLimits{.size = MiB}, err::einval,
                "NBD_CMD_READ of 1 byte is above the limit of 0 bytes for reads and writes");

  // With "no limit", a structured READ is still bounded by one chunk's capacity.
  ExportLimits huge{.size = UINT64_MAX, .structured = true, .max_payload = UINT32_MAX, .max_zero = UINT64_MAX};
  check_refused(req(Command::read, 0, UINT32_MAX), huge, err::einval,
                "NBD_CMD_READ of 4294967295 bytes is above the limit of 4294967287 bytes for reads and writes");
  check_ok(req(Command::read, 0, max_structured_read), huge);
  check_ok(req(Command::write, 0, UINT32_MAX), huge);
  huge.structured = false;
  check_ok(req(Command::read, 0, UINT32_MAX), huge);
}

TEST_CASE("nbd transmission: validate rule 11, TRIM/WRITE_ZEROES above max_zero") {
  ExportLimits l = limits();
  l.size = 8 * MiB;
  check_refused(req(Command::trim, 0, MiB + 1), l, err::einval,
                "NBD_CMD_TRIM of 1048577 bytes is above the limit of 1048576 bytes for trims and write-zeroes");
  check_refused(req(Command::write_zeroes, 0, MiB + 1), l, err::einval,
                "NBD_CMD_WRITE_ZEROES of 1048577 bytes is above the limit of 1048576 bytes for trims and "
                "write-zeroes");
  // max_payload does not apply to them.
  check_ok(req(Command::trim, 0, MiB), l);
}

TEST_CASE("nbd transmission: validate rule 12, past the end: ENOSPC for writes, EINVAL for reads and trims") {
  const ExportLimits l = limits();
  check_refused(req(Command::read, MiB - 511, 512), l, err::einval,
                "NBD_CMD_READ of 512 bytes at offset 1048065 ends past the end of the export (1048576 bytes)");
  check_refused(req(Command::trim, MiB, 1), l, err::einval,
                "NBD_CMD_TRIM of 1 byte at offset 1048576 ends past the end of the export (1048576 bytes)");
  check_refused(req(Command::write, MiB, 512), l, err::enospc,
                "NBD_CMD_WRITE of 512 bytes at offset 1048576 ends past the end of the export (1048576 bytes)");
  check_refused(req(Command::write_zeroes, 2 * MiB, 512), l, err::enospc,
                "NBD_CMD_WRITE_ZEROES of 512 bytes at offset 2097152 ends past the end of the export (1048576 "
                "bytes)");
  check_ok(req(Command::write, MiB - 512, 512), l);
}

TEST_CASE("nbd transmission: validate on a zero-size export") {
  ExportLimits empty = limits();
  empty.size = 0;
  check_refused(req(Command::read, 0, 1), empty, err::einval,
                "NBD_CMD_READ of 1 byte at offset 0 ends past the end of the export (0 bytes)");
  check_refused(req(Command::write, 0, 1), empty, err::enospc,
                "NBD_CMD_WRITE of 1 byte at offset 0 ends past the end of the export (0 bytes)");
  check_ok(req(Command::flush, 0, 0), empty);
  check_ok(req(Command::disc, 0, 0), empty);
}

TEST_CASE("nbd transmission: validate never overflows offset + length near UINT64_MAX") {
  ExportLimits l{.size = UINT64_MAX, .max_payload = 1 << 20, .max_zero = UINT64_MAX};
  // Wraps to a small number if added naively.
  check_refused(req(Command::read, UINT64_MAX - 10, 100), l, err::einval,
                "NBD_CMD_READ of 100 bytes at offset 18446744073709551605 ends past the end of the export "
                "(18446744073709551615 bytes)");
  check_refused(req(Command::write, UINT64_MAX, 1), l, err::enospc,
                "NBD_CMD_WRITE of 1 byte at offset 18446744073709551615 ends past the end of the export "
                "(18446744073709551615 bytes)");
  check_ok(req(Command::read, UINT64_MAX - 100, 100), l);
  // Smaller export, offset alone beyond it.
  l.size = MiB;
  check_refused(req(Command::trim, UINT64_MAX, UINT32_MAX), l, err::einval,
                "NBD_CMD_TRIM of 4294967295 bytes at offset 18446744073709551615 ends past the end of the export "
                "(1048576 bytes)");
}

TEST_CASE("nbd transmission: validate reports the first failing rule") {
  ExportLimits l = limits();
  l.read_only = true;
  l.structured = false;
  // Unknown flags (3) beat not-negotiated (4).
  check_refused(req(Command::cache, 0, 0, 0x0100), l, err::einval, "NBD_CMD_CACHE with unknown flag bits 0x0100");
  // A stray flag (5) beats read-only (8) and past-the-end (12).
  check_refused(req(Command::write, 4 * MiB, 512, cmd_flag_no_hole), l, err::einval,
                "NBD_CMD_FLAG_NO_HOLE is not valid on NBD_CMD_WRITE");
  // DF without structured (6) beats zero length (9).
  check_refused(req(Command::read, 0, 0, cmd_flag_df), l, err::einval,
                "NBD_CMD_FLAG_DF without structured replies (NBD_FLAG_SEND_DF was not advertised)");
  // Size limit (10) beats past-the-end (12).
  check_refused(req(Command::read, 4 * MiB, 1 << 20), l, err::einval,
                "NBD_CMD_READ of 1048576 bytes is above the limit of 65536 bytes for reads and writes");
}

// ---- replies ----

TEST_CASE("nbd transmission: simple replies, byte by byte") {
  CHECK(dump(encode_read_reply(handle, 4096, text("abc"), false)) ==
        dump(cat({simple_magic, bytes({0, 0, 0, 0}), handle_bytes, text("abc")})));
  CHECK(dump(encode_done_reply(handle, false)) == dump(cat({simple_magic, bytes({0, 0, 0, 0}), handle_bytes})));
  // The message is not sent: a simple reply has no room for it.
  CHECK(dump(encode_error_reply(handle, err::einval, "bad flags", false)) ==
        dump(cat({simple_magic, bytes({0, 0, 0, 0x16}), handle_bytes})));
  CHECK(dump(encode_error_reply(handle, err::eshutdown, "", false)) ==
        dump(cat({simple_magic, bytes({0, 0, 0, 0x6c}), handle_bytes})));
}

TEST_CASE("nbd transmission: structured replies, byte by byte") {
  SUBCASE("READ: one OFFSET_DATA chunk with DONE") {
    CHECK(dump(encode_read_reply(handle, 0x0000000100000200, text("abc"), true)) ==
          dump(cat({chunk_magic, bytes({0x00, 0x01, 0x00, 0x01}), handle_bytes, bytes({0, 0, 0, 11}),
                    bytes({0, 0, 0, 1, 0, 0, 2, 0}), text("abc")})));
  }
  SUBCASE("an empty READ gives a NONE chunk, since OFFSET_DATA needs a byte") {
    CHECK(dump(encode_read_reply(handle, 0, {}, true)) ==
          dump(cat({chunk_magic, bytes({0x00, 0x01, 0x00, 0x00}), handle_bytes, bytes({0, 0, 0, 0})})));
  }
  SUBCASE("success: a NONE chunk with DONE") {
    CHECK(dump(encode_done_reply(handle, true)) ==
          dump(cat({chunk_magic, bytes({0x00, 0x01, 0x00, 0x00}), handle_bytes, bytes({0, 0, 0, 0})})));
  }
  SUBCASE("error: an ERROR chunk with DONE and the message") {
    CHECK(dump(encode_error_reply(handle, err::enospc, "full", true)) ==
          dump(cat({chunk_magic, bytes({0x00, 0x01, 0x80, 0x01}), handle_bytes, bytes({0, 0, 0, 10}),
                    bytes({0, 0, 0, 0x1c, 0, 4}), text("full")})));
    CHECK(dump(encode_error_reply(handle, err::eio, "", true)) ==
          dump(cat({chunk_magic, bytes({0x00, 0x01, 0x80, 0x01}), handle_bytes, bytes({0, 0, 0, 6}),
                    bytes({0, 0, 0, 5, 0, 0})})));
  }
}

TEST_CASE("nbd transmission: structured error messages are cut to a valid string") {
  SUBCASE("longer than 4096 bytes: cut to 4096, well below the u16 limit") {
    std::vector<std::byte> r = encode_error_reply(handle, err::einval, std::string(70000, 'm'), true);
    REQUIRE(r.size() == chunk_header_bytes + 6 + 4096);
    CHECK(dump(std::span(r).first(chunk_header_bytes + 6)) ==
          dump(cat({chunk_magic, bytes({0x00, 0x01, 0x80, 0x01}), handle_bytes, bytes({0, 0, 0x10, 0x06}),
                    bytes({0, 0, 0, 0x16, 0x10, 0x00})})));
  }
  SUBCASE("a multi-byte character straddling the limit is dropped whole") {
    std::vector<std::byte> r =
        encode_error_reply(handle, err::einval, std::string(4094, 'm') + "\xe2\x82\xac", true);
    CHECK(r.size() == chunk_header_bytes + 6 + 4094);
    CHECK(dump(std::span(r).subspan(chunk_header_bytes + 4, 2)) == "0f fe");
  }
  SUBCASE("a NUL or invalid UTF-8 ends the message") {
    CHECK(dump(encode_error_reply(handle, err::einval, std::string_view("ab\0cd", 5), true)) ==
          dump(cat({chunk_magic, bytes({0x00, 0x01, 0x80, 0x01}), handle_bytes, bytes({0, 0, 0, 8}),
                    bytes({0, 0, 0, 0x16, 0, 2}), text("ab")})));
    CHECK(dump(encode_error_reply(handle, err::einval, "ab\xff", true)) ==
          dump(cat({chunk_magic, bytes({0x00, 0x01, 0x80, 0x01}), handle_bytes, bytes({0, 0, 0, 8}),
                    bytes({0, 0, 0, 0x16, 0, 2}), text("ab")})));
  }
}

TEST_CASE("nbd transmission: an error reply never carries error 0") {
  CHECK(dump(encode_error_reply(handle, err::ok, "oops", false)) ==
        dump(cat({simple_magic, bytes({0, 0, 0, 5}), handle_bytes})));
  CHECK(dump(encode_error_reply(handle, err::ok, "", true)) ==
        dump(cat({chunk_magic, bytes({0x00, 0x01, 0x80, 0x01}), handle_bytes, bytes({0, 0, 0, 6}),
                  bytes({0, 0, 0, 5, 0, 0})})));
}

TEST_CASE("nbd transmission: names for logs") {
  CHECK(command_name(op(Command::read)) == "NBD_CMD_READ");
  CHECK(command_name(op(Command::write)) == "NBD_CMD_WRITE");
  CHECK(command_name(op(Command::write_zeroes)) == "NBD_CMD_WRITE_ZEROES");
  CHECK(command_name(op(Command::resize)) == "NBD_CMD_RESIZE");
  CHECK(command_name(42) == "command 42");
  CHECK(error_name(err::ok) == "OK");
  CHECK(error_name(err::eperm) == "EPERM");
  CHECK(error_name(err::einval) == "EINVAL");
  CHECK(error_name(err::enospc) == "ENOSPC");
  CHECK(error_name(err::eoverflow) == "EOVERFLOW");
  CHECK(error_name(err::enotsup) == "ENOTSUP");
  CHECK(error_name(err::eshutdown) == "ESHUTDOWN");
  CHECK(error_name(13) == "unknown error");
}
