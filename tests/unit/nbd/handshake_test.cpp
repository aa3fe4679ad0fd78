#include <doctest/doctest.h>

#include "nbd/wire_bytes.hpp"

#include <array>
#include <cstdio>
#include <initializer_list>

#include "aiops/nbd/handshake.hpp"
#include "aiops/nbd/transmission.hpp"

using namespace aiops::nbd;

namespace {

using namespace nbd_test;

const Bytes reply_magic = bytes({0x00, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9});
const Bytes ihaveopt = bytes({0x49, 0x48, 0x41, 0x56, 0x45, 0x4f, 0x50, 0x54});

template <class T, class E>
E error_of(const std::variant<T, E>& v) {
  REQUIRE(std::holds_alternative<E>(v));
  return std::get<E>(v);
}

template <class T, class E>
T value_of(const std::variant<T, E>& v) {
  REQUIRE(std::holds_alternative<T>(v));
  return std::get<T>(v);
}

// INFO/GO option data: u32 name length, name, u16 count, the requests.
Bytes info_data(std::string_view name, std::initializer_list<uint16_t> requests) {
  Bytes out;
  auto n = static_cast<uint32_t>(name.size());
  for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<std::byte>(n >> shift));
  Bytes t = text(name);
  out.insert(out.end(), t.begin(), t.end());
  auto count = static_cast<uint16_t>(requests.size());
  out.push_back(static_cast<std::byte>(count >> 8));
  out.push_back(static_cast<std::byte>(count & 0xff));
  for (uint16_t r : requests) {
    out.push_back(static_cast<std::byte>(r >> 8));
    out.push_back(static_cast<std::byte>(r & 0xff));
  }
  return out;
}

OptionProblem problem_of(const Bytes& data) {
  OptionProblem p = error_of(parse_info_request(data));
  CHECK(p.reply == ReplyType::err_invalid);
  return p;
}

}  // namespace

TEST_CASE("nbd handshake: greeting is NBDMAGIC, IHAVEOPT and flags fixed_newstyle|no_zeroes") {
  std::array<std::byte, greeting_bytes> out{};
  encode_greeting(out.data());
  CHECK(dump(out) == dump(cat({text("NBDMAGIC"), text("IHAVEOPT"), bytes({0x00, 0x03})})));
  CHECK(dump(out) == dump(bytes({0x4e, 0x42, 0x44, 0x4d, 0x41, 0x47, 0x49, 0x43, 0x49, 0x48, 0x41, 0x56, 0x45, 0x4f,
                                 0x50, 0x54, 0x00, 0x03})));
}

TEST_CASE("nbd handshake: client flags") {
  SUBCASE("fixed newstyle alone") {
    CHECK(value_of(decode_client_flags(bytes({0, 0, 0, 1}).data())) == ClientFlags{.no_zeroes = false});
  }
  SUBCASE("fixed newstyle with no zeroes") {
    CHECK(value_of(decode_client_flags(bytes({0, 0, 0, 3}).data())) == ClientFlags{.no_zeroes = true});
  }
  SUBCASE("unknown bit, even with fixed newstyle set") {
    CHECK(error_of(decode_client_flags(bytes({0, 0, 0, 5}).data())) ==
          "client flags 0x00000005 have unknown bits 0x00000004 (only bit 0, NBD_FLAG_C_FIXED_NEWSTYLE, and bit 1, "
          "NBD_FLAG_C_NO_ZEROES, are defined)");
    CHECK(error_of(decode_client_flags(bytes({0x80, 0, 0, 1}).data())) ==
          "client flags 0x80000001 have unknown bits 0x80000000 (only bit 0, NBD_FLAG_C_FIXED_NEWSTYLE, and bit 1, "
          "NBD_FLAG_C_NO_ZEROES, are defined)");
  }
  SUBCASE("without fixed newstyle") {
    CHECK(error_of(decode_client_flags(bytes({0, 0, 0, 0}).data())) ==
          "client flags 0x00000000 lack NBD_FLAG_C_FIXED_NEWSTYLE (this server speaks only fixed newstyle "
          "negotiation)");
    CHECK(error_of(decode_client_flags(bytes({0, 0, 0, 2}).data())) ==
          "client flags 0x00000002 lack NBD_FLAG_C_FIXED_NEWSTYLE (this server speaks only fixed newstyle "
          "negotiation)");
  }
}

TEST_CASE("nbd handshake: option header decode, encode and bad magic") {
  const Bytes wire = cat({ihaveopt, bytes({0, 0, 0, 7, 0, 0, 0x10, 0x01})});
  CHECK(value_of(decode_option_header(wire.data())) == OptionHeader{.option = 7, .length = 4097});

  std::array<std::byte, option_header_bytes> out{};
  encode_option_header({.option = 7, .length = 4097}, out.data());
  CHECK(dump(out) == dump(wire));

  const OptionHeader extremes{.option = UINT32_MAX, .length = UINT32_MAX};
  encode_option_header(extremes, out.data());
  CHECK(value_of(decode_option_header(out.data())) == extremes);

  // A client that skipped the flags and sent the greeting's magic, say.
  const Bytes bad = cat({text("NBDMAGIC"), bytes({0, 0, 0, 1, 0, 0, 0, 0})});
  CHECK(error_of(decode_option_header(bad.data())) ==
        "option magic 0x4e42444d41474943 is not IHAVEOPT (0x49484156454f5054)");
  // Byte-swapped (little-endian) IHAVEOPT is wrong too.
  const Bytes swapped = cat({text("TPOEVAHI"), bytes({0, 0, 0, 1, 0, 0, 0, 0})});
  CHECK(std::holds_alternative<std::string>(decode_option_header(swapped.data())));
}

TEST_CASE("nbd handshake: option reply encoders, byte by byte") {
  SUBCASE("generic reply, without and with data") {
    CHECK(dump(encode_option_reply(8, ReplyType::ack)) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0})})));
    CHECK(dump(encode_option_reply(0x01020304, ReplyType::meta_context, bytes({0xaa, 0xbb}))) ==
          dump(cat({reply_magic, bytes({1, 2, 3, 4, 0, 0, 0, 4, 0, 0, 0, 2, 0xaa, 0xbb})})));
  }
  SUBCASE("error with message") {
    CHECK(dump(encode_option_error(3, ReplyType::err_invalid, "bad")) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 3, 0x80, 0, 0, 3, 0, 0, 0, 3}), text("bad")})));
    CHECK(dump(encode_option_error(42, ReplyType::err_unsup, "")) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 42, 0x80, 0, 0, 1, 0, 0, 0, 0})})));
    CHECK(dump(encode_option_error(7, ReplyType::err_too_big, "x")) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 7, 0x80, 0, 0, 9, 0, 0, 0, 1}), text("x")})));
  }
  SUBCASE("error message cut to a valid string of at most 4096 bytes") {
    std::vector<std::byte> long_reply = encode_option_error(6, ReplyType::err_unknown, std::string(5000, 'x'));
    REQUIRE(long_reply.size() == option_reply_header_bytes + 4096);
    CHECK(dump(std::span(long_reply).first(20)) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 6, 0x80, 0, 0, 6, 0, 0, 0x10, 0x00})})));

    // "é" (c3 a9) straddling the limit is dropped whole.
    std::string straddle = std::string(4095, 'y') + "\xc3\xa9";
    CHECK(encode_option_error(6, ReplyType::err_unknown, straddle).size() == option_reply_header_bytes + 4095);

    // A NUL ends the message.
    CHECK(dump(encode_option_error(6, ReplyType::err_unknown, std::string_view("ab\0cd", 5))) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 6, 0x80, 0, 0, 6, 0, 0, 0, 2}), text("ab")})));
  }
  SUBCASE("NBD_REP_SERVER") {
    CHECK(dump(encode_server_reply(3, "db")) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0, 2}), text("db")})));
    CHECK(dump(encode_server_reply(3, "")) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 0})})));
  }
  SUBCASE("NBD_INFO_EXPORT sets HAS_FLAGS whatever it is given") {
    CHECK(dump(encode_info_export(7, 0x0102030405060708, tflag_send_flush)) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 12,  //
                                        0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x05})})));
    CHECK(dump(encode_info_export(6, 0, 0x0fff)) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 6, 0, 0, 0, 3, 0, 0, 0, 12,  //
                                        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0f, 0xff})})));
  }
  SUBCASE("NBD_INFO_NAME") {
    CHECK(dump(encode_info_name(6, "vol")) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 6, 0, 0, 0, 3, 0, 0, 0, 5, 0, 1}), text("vol")})));
  }
  SUBCASE("NBD_INFO_BLOCK_SIZE") {
    CHECK(dump(encode_info_block_size(7, 1, 4096, 0x02000000)) ==
          dump(cat({reply_magic, bytes({0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 14, 0, 3,  //
                                        0, 0, 0, 1, 0, 0, 0x10, 0, 2, 0, 0, 0})})));
  }
  SUBCASE("export-name reply with and without the 124 zero bytes") {
    CHECK(dump(encode_export_name_reply(0x1122334455667788, tflag_read_only, true)) ==
          dump(bytes({0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0x03})));
    CHECK(dump(encode_export_name_reply(512, tflag_has_flags | tflag_send_flush, false)) ==
          dump(cat({bytes({0, 0, 0, 0, 0, 0, 2, 0, 0x00, 0x05}), Bytes(124)})));
  }
}

TEST_CASE("nbd handshake: parse_info_request accepts well-formed data") {
  SUBCASE("name and requests, unknown info types kept for the server to ignore") {
    ExportRequest r = value_of(parse_info_request(info_data("db", {3, 0, 99})));
    CHECK(r == ExportRequest{.name = "db", .info_requests = {3, 0, 99}});
  }
  SUBCASE("the default export with no requests: exactly 6 bytes") {
    Bytes data = bytes({0, 0, 0, 0, 0, 0});
    CHECK(value_of(parse_info_request(data)) == ExportRequest{});
  }
  SUBCASE("a UTF-8 name") {
    CHECK(value_of(parse_info_request(info_data("v\xc3\xa9l", {}))).name == "v\xc3\xa9l");
  }
}

TEST_CASE("nbd handshake: parse_info_request refuses every malformed shape") {
  SUBCASE("truncated") {
    CHECK(problem_of({}).message ==
          "info request of 0 bytes is truncated (needs at least 6: a u32 name length and a u16 request count)");
    CHECK(problem_of(bytes({0, 0, 0, 0, 0})).message ==
          "info request of 5 bytes is truncated (needs at least 6: a u32 name length and a u16 request count)");
    CHECK(problem_of(bytes({0})).message ==
          "info request of 1 byte is truncated (needs at least 6: a u32 name length and a u16 request count)");
  }
  SUBCASE("name length past the data") {
    CHECK(problem_of(bytes({0, 0, 0, 5, 'a', 'b', 0, 0})).message ==
          "name length 5 runs past the 8 bytes of option data (at most 2)");
    // The largest length must not wrap around when the count's offset is computed.
    CHECK(problem_of(bytes({0xff, 0xff, 0xff, 0xff, 0, 0})).message ==
          "name length 4294967295 runs past the 6 bytes of option data (at most 0)");
  }
  SUBCASE("count past the data") {
    Bytes one_missing = info_data("a", {3, 0});
    one_missing.erase(one_missing.end() - 2, one_missing.end());
    CHECK(problem_of(one_missing).message == "information request count 2 needs 4 bytes but 2 bytes follow the count");
    Bytes nothing_after = info_data("a", {});
    nothing_after.back() = std::byte{1};  // count 1, no request
    CHECK(problem_of(nothing_after).message ==
          "information request count 1 needs 2 bytes but 0 bytes follow the count");
    Bytes odd = info_data("a", {3});
    odd.pop_back();
    CHECK(problem_of(odd).message == "information request count 1 needs 2 bytes but 1 byte follows the count");
  }
  SUBCASE("trailing bytes") {
    Bytes one = cat({info_data("a", {3}), bytes({0})});
    CHECK(problem_of(one).message == "1 byte follows the last information request (the option data must end there)");
    Bytes three = cat({info_data("", {}), bytes({1, 2, 3})});
    CHECK(problem_of(three).message ==
          "3 bytes follow the last information request (the option data must end there)");
  }
  SUBCASE("name longer than the string limit") {
    CHECK(problem_of(info_data(std::string(4097, 'n'), {})).message ==
          "export name of 4097 bytes is longer than the 4096-byte string limit");
    CHECK(value_of(parse_info_request(info_data(std::string(4096, 'n'), {}))).name.size() == 4096);
  }
  SUBCASE("name not a valid string") {
    CHECK(problem_of(info_data(std::string_view("a\0b", 3), {})).message ==
          "export name has 0x00 at byte 1 (names are UTF-8 without NUL)");
    CHECK(problem_of(info_data("ok\xff", {})).message ==
          "export name has 0xff at byte 2 (names are UTF-8 without NUL)");
    CHECK(problem_of(info_data("\xc3", {})).message == "export name has 0xc3 at byte 0 (names are UTF-8 without NUL)");
  }
  SUBCASE("a request listed twice") {
    CHECK(problem_of(info_data("db", {3, 0, 3})).message ==
          "information request 3 is listed twice (each may appear once)");
  }
  SUBCASE("framing problems are reported before content problems") {
    // NUL in the name and a trailing byte: the trailing byte wins.
    Bytes both = cat({info_data(std::string_view("\0", 1), {}), bytes({7})});
    CHECK(problem_of(both).message ==
          "1 byte follows the last information request (the option data must end there)");
  }
}

TEST_CASE("nbd handshake: check_empty") {
  const Bytes one = bytes({0});
  const Bytes four = bytes({1, 2, 3, 4});
  for (Option o : {Option::list, Option::starttls, Option::structured_reply}) {
    CAPTURE(option_name(static_cast<uint32_t>(o)));
    CHECK_FALSE(check_empty(static_cast<uint32_t>(o), {}).has_value());
    auto p = check_empty(static_cast<uint32_t>(o), four);
    REQUIRE(p.has_value());
    CHECK(p->reply == ReplyType::err_invalid);
    CHECK(p->message == option_name(static_cast<uint32_t>(o)) + " carries 4 bytes of data (it takes none)");
  }
  CHECK(check_empty(static_cast<uint32_t>(Option::list), one)->message ==
        "NBD_OPT_LIST carries 1 byte of data (it takes none)");
  // proto.md: data sent with NBD_OPT_ABORT is ignored, not refused.
  CHECK_FALSE(check_empty(static_cast<uint32_t>(Option::abort), four).has_value());
  // Options with data, and unknown ones, are not judged here.
  CHECK_FALSE(check_empty(static_cast<uint32_t>(Option::go), four).has_value());
  CHECK_FALSE(check_empty(42, four).has_value());
}

TEST_CASE("nbd handshake: wire_string keeps the longest valid prefix") {
  CHECK(wire_string("plain ascii") == "plain ascii");
  CHECK(wire_string("") == "");
  CHECK(wire_string(std::string_view("ab\0c", 4)) == "ab");
  CHECK(wire_string("abcdef", 4) == "abcd");
  CHECK(wire_string("abcdef", 0) == "");
  // Valid 2-, 3- and 4-byte sequences are kept; a cut never splits one.
  CHECK(wire_string("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  CHECK(wire_string("a\xe2\x82\xac", 3) == "a");
  CHECK(wire_string("a\xe2\x82\xac", 4) == "a\xe2\x82\xac");
  // Invalid UTF-8 ends the string: lone continuation, overlong forms,
  // surrogates, past U+10FFFF, a sequence cut short.
  CHECK(wire_string("a\x80") == "a");
  CHECK(wire_string("a\xc0\x80") == "a");
  CHECK(wire_string("a\xe0\x80\x80") == "a");
  CHECK(wire_string("a\xed\xa0\x80") == "a");
  CHECK(wire_string("a\xf0\x80\x80\x80") == "a");
  CHECK(wire_string("a\xf4\x90\x80\x80") == "a");
  CHECK(wire_string("a\xf5\x80\x80\x80") == "a");
  CHECK(wire_string("a\xe2\x82") == "a");
  CHECK(wire_string("a\xe2\x28\xa1") == "a");
}

TEST_CASE("nbd handshake: names for logs") {
  CHECK(option_name(1) == "NBD_OPT_EXPORT_NAME");
  CHECK(option_name(7) == "NBD_OPT_GO");
  CHECK(option_name(10) == "NBD_OPT_SET_META_CONTEXT");
  CHECK(option_name(4) == "option 4");
  CHECK(option_name(42) == "option 42");
  CHECK(reply_type_name(ReplyType::ack) == "NBD_REP_ACK");
  CHECK(reply_type_name(ReplyType::err_too_big) == "NBD_REP_ERR_TOO_BIG");
  CHECK(reply_type_name(static_cast<ReplyType>(0x8000000a)) == "reply type 0x8000000a");
  CHECK(is_error(ReplyType::err_unsup));
  CHECK_FALSE(is_error(ReplyType::info));
}
