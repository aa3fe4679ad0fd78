#include "aiops/nbd/handshake.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "aiops/core/endian.hpp"
#include "aiops/nbd/transmission.hpp"

namespace aiops::nbd {
namespace {

// The layouts in the header, field by field.
static_assert(8 + 8 + 2 == greeting_bytes);
static_assert(8 + 4 + 4 == option_header_bytes);
static_assert(8 + 4 + 4 + 4 == option_reply_header_bytes);
static_assert(init_magic == 0x4e42444d41474943 && option_magic == 0x49484156454f5054);

constexpr size_t export_name_reply_bytes = 8 + 2;
constexpr size_t export_name_reply_zeroes = 124;

std::string hex(uint64_t value, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

// Builds one option reply: the header is written once the data is complete,
// so its length field cannot disagree with what follows.
class ReplyWriter {
 public:
  ReplyWriter(uint32_t option, ReplyType type) : option_(option), type_(type) {
    bytes_.resize(option_reply_header_bytes);
  }
  template <class T>
  ReplyWriter& number(T value) {
    size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    store_be<T>(bytes_.data() + at, value);
    return *this;
  }
  ReplyWriter& raw(std::span<const std::byte> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return *this;
  }
  ReplyWriter& text(std::string_view s) { return raw(std::as_bytes(std::span(s.data(), s.size()))); }
  [[nodiscard]] std::vector<std::byte> take() {
    size_t length = bytes_.size() - option_reply_header_bytes;
    assert(length <= UINT32_MAX);
    store_be<uint64_t>(bytes_.data(), option_reply_magic);
    store_be<uint32_t>(bytes_.data() + 8, option_);
    store_be<uint32_t>(bytes_.data() + 12, static_cast<uint32_t>(type_));
    store_be<uint32_t>(bytes_.data() + 16, static_cast<uint32_t>(length));
    return std::move(bytes_);
  }

 private:
  uint32_t option_;
  ReplyType type_;
  std::vector<std::byte> bytes_;
};

OptionProblem invalid(std::string message) { return {ReplyType::err_invalid, std::move(message)}; }

std::string plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// Length of the UTF-8 sequence starting at text[i] when it is valid and not
// NUL, else 0. Rejects overlong forms, surrogates and code points past
// U+10FFFF, as RFC 3629 does.
size_t utf8_sequence(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
  unsigned char c = byte(0);
  size_t length;
  unsigned char second_min = 0x80, second_max = 0xbf;
  if (c == 0) return 0;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) length = 2;
  else if (c >= 0xe0 && c <= 0xef) length = 3;
  else if (c >= 0xf0 && c <= 0xf4) length = 4;
  else return 0;  // a continuation byte, an overlong 2-byte lead, or past U+10FFFF
  if (c == 0xe0) second_min = 0xa0;  // overlong 3-byte form
  if (c == 0xed) second_max = 0x9f;  // UTF-16 surrogates
  if (c == 0xf0) second_min = 0x90;  // overlong 4-byte form
  if (c == 0xf4) second_max = 0x8f;  // past U+10FFFF
  if (text.size() - i < length) return 0;
  if (byte(1) < second_min || byte(1) > second_max) return 0;
  for (size_t k = 2; k < length; ++k)
    if ((byte(k) & 0xc0) != 0x80) return 0;
  return length;
}

}  // namespace

std::string_view wire_string(std::string_view text, size_t max_bytes) noexcept {
  size_t end = 0;
  while (end < text.size()) {
    size_t n = utf8_sequence(text, end);
    if (n == 0 || n > max_bytes - end) break;
    end += n;
  }
  return text.substr(0, end);
}

void encode_greeting(std::byte* out) noexcept {
  store_be<uint64_t>(out, init_magic);
  store_be<uint64_t>(out + 8, option_magic);
  store_be<uint16_t>(out + 16, handshake_flag_fixed_newstyle | handshake_flag_no_zeroes);
}

std::variant<ClientFlags, std::string> decode_client_flags(const std::byte* in) {
  uint32_t flags = load_be<uint32_t>(in);
  if ((flags & ~known_client_flags) != 0)
    return "client flags " + hex(flags, 8) + " have unknown bits " + hex(flags & ~known_client_flags, 8) +
           " (only bit 0, NBD_FLAG_C_FIXED_NEWSTYLE, and bit 1, NBD_FLAG_C_NO_ZEROES, are defined)";
  if ((flags & client_flag_fixed_newstyle) == 0)
    return "client flags " + hex(flags, 8) +
           " lack NBD_FLAG_C_FIXED_NEWSTYLE (this server speaks only fixed newstyle negotiation)";
  return ClientFlags{.no_zeroes = (flags & client_flag_no_zeroes) != 0};
}

std::variant<OptionHeader, std::string> decode_option_header(const std::byte* in) {
  uint64_t magic = load_be<uint64_t>(in);
  if (magic != option_magic)
    return "option magic " + hex(magic, 16) + " is not IHAVEOPT (" + hex(option_magic, 16) + ")";
  return OptionHeader{.option = load_be<uint32_t>(in + 8), .length = load_be<uint32_t>(in + 12)};
}

void encode_option_header(const OptionHeader& header, std::byte* out) noexcept {
  store_be<uint64_t>(out, option_magic);
  store_be<uint32_t>(out + 8, header.option);
  store_be<uint32_t>(out + 12, header.length);
}

std::variant<ExportRequest, OptionProblem> parse_info_request(std::span<const std::byte> data) {
  constexpr size_t fixed = 4 + 2;  // name length, request count
  if (data.size() < fixed)
    return invalid("info request of " + plural(data.size(), "byte", "bytes") +
                   " is truncated (needs at least 6: a u32 name length and a u16 request count)");

  uint32_t name_length = load_be<uint32_t>(data.data());
  // Compared against size - 6 rather than adding to name_length: no overflow.
  if (name_length > data.size() - fixed)
    return invalid("name length " + std::to_string(name_length) + " runs past the " +
                   plural(data.size(), "byte", "bytes") + " of option data (at most " +
                   std::to_string(data.size() - fixed) + ")");

  size_t count_at = 4 + size_t{name_length};
  uint16_t count = load_be<uint16_t>(data.data() + count_at);
  size_t after_count = data.size() - count_at - 2;
  if (size_t{count} * 2 > after_count)
    return invalid("information request count " + std::to_string(count) + " needs " +
                   plural(size_t{count} * 2, "byte", "bytes") + " but " +
                   plural(after_count, "byte follows", "bytes follow") + " the count");
  if (after_count > size_t{count} * 2) {
    size_t extra = after_count - size_t{count} * 2;
    return invalid(plural(extra, "byte follows", "bytes follow") +
                   " the last information request (the option data must end there)");
  }

  std::string_view name(reinterpret_cast<const char*>(data.data() + 4), name_length);
  if (name.size() > max_string_bytes)
    return invalid("export name of " + std::to_string(name.size()) + " bytes is longer than the " +
                   std::to_string(max_string_bytes) + "-byte string limit");
  if (std::string_view valid = wire_string(name); valid.size() != name.size())
    return invalid("export name has " + hex(static_cast<unsigned char>(name[valid.size()]), 2) + " at byte " +
                   std::to_string(valid.size()) + " (names are UTF-8 without NUL)");

  ExportRequest request{.name = std::string(name), .info_requests = {}};
  request.info_requests.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    uint16_t info = load_be<uint16_t>(data.data() + count_at + 2 + 2 * i);
    // At most 2047 requests fit in max_option_bytes: a linear search is fine.
    if (std::find(request.info_requests.begin(), request.info_requests.end(), info) != request.info_requests.end())
      return invalid("information request " + std::to_string(info) + " is listed twice (each may appear once)");
    request.info_requests.push_back(info);
  }
  return request;
}

std::optional<OptionProblem> check_empty(uint32_t option, std::span<const std::byte> data) {
  switch (static_cast<Option>(option)) {
    case Option::list:
    case Option::starttls:
    case Option::structured_reply:
      if (data.empty()) return std::nullopt;
      return invalid(option_name(option) + " carries " + plural(data.size(), "byte", "bytes") +
                     " of data (it takes none)");
    default: return std::nullopt;
  }
}

std::vector<std::byte> encode_option_reply(uint32_t option, ReplyType type, std::span<const std::byte> data) {
  return ReplyWriter(option, type).raw(data).take();
}

std::vector<std::byte> encode_option_error(uint32_t option, ReplyType type, std::string_view message) {
  assert(is_error(type));
  return ReplyWriter(option, type).text(wire_string(message)).take();
}

std::vector<std::byte> encode_server_reply(uint32_t option, std::string_view export_name) {
  assert(wire_string(export_name) == export_name);
  return ReplyWriter(option, ReplyType::server)
      .number<uint32_t>(static_cast<uint32_t>(export_name.size()))
      .text(export_name)
      .take();
}

std::vector<std::byte> encode_info_export(uint32_t option, uint64_t size, uint16_t transmission_flags) {
  return ReplyWriter(option, ReplyType::info)
      .number<uint16_t>(static_cast<uint16_t>(InfoType::export_info))
      .number<uint64_t>(size)
      .number<uint16_t>(static_cast<uint16_t>(transmission_flags | tflag_has_flags))
      .take();
}

std::vector<std::byte> encode_info_name(uint32_t option, std::string_view name) {
  assert(wire_string(name) == name);
  return ReplyWriter(option, ReplyType::info).number<uint16_t>(static_cast<uint16_t>(InfoType::name)).text(name).take();
}

std::vector<std::byte> encode_info_block_size(uint32_t option, uint32_t minimum, uint32_t preferred,
                                              uint32_t maximum) {
  return ReplyWriter(option, ReplyType::info)
      .number<uint16_t>(static_cast<uint16_t>(InfoType::block_size))
      .number<uint32_t>(minimum)
      .number<uint32_t>(preferred)
      .number<uint32_t>(maximum)
      .take();
}

std::vector<std::byte> encode_export_name_reply(uint64_t size, uint16_t transmission_flags, bool no_zeroes) {
  // The zero padding is value-initialised by resize().
  std::vector<std::byte> out(export_name_reply_bytes + (no_zeroes ? 0 : export_name_reply_zeroes));
  store_be<uint64_t>(out.data(), size);
  store_be<uint16_t>(out.data() + 8, static_cast<uint16_t>(transmission_flags | tflag_has_flags));
  return out;
}

std::string option_name(uint32_t option) {
  switch (static_cast<Option>(option)) {
    case Option::export_name: return "NBD_OPT_EXPORT_NAME";
    case Option::abort: return "NBD_OPT_ABORT";
    case Option::list: return "NBD_OPT_LIST";
    case Option::starttls: return "NBD_OPT_STARTTLS";
    case Option::info: return "NBD_OPT_INFO";
    case Option::go: return "NBD_OPT_GO";
    case Option::structured_reply: return "NBD_OPT_STRUCTURED_REPLY";
    case Option::list_meta_context: return "NBD_OPT_LIST_META_CONTEXT";
    case Option::set_meta_context: return "NBD_OPT_SET_META_CONTEXT";
  }
  return "option " + std::to_string(option);
}

std::string reply_type_name(ReplyType type) {
  switch (type) {
    case ReplyType::ack: return "NBD_REP_ACK";
    case ReplyType::server: return "NBD_REP_SERVER";
    case ReplyType::info: return "NBD_REP_INFO";
    case ReplyType::meta_context: return "NBD_REP_META_CONTEXT";
    case ReplyType::err_unsup: return "NBD_REP_ERR_UNSUP";
    case ReplyType::err_policy: return "NBD_REP_ERR_POLICY";
    case ReplyType::err_invalid: return "NBD_REP_ERR_INVALID";
    case ReplyType::err_platform: return "NBD_REP_ERR_PLATFORM";
    case ReplyType::err_tls_reqd: return "NBD_REP_ERR_TLS_REQD";
    case ReplyType::err_unknown: return "NBD_REP_ERR_UNKNOWN";
    case ReplyType::err_shutdown: return "NBD_REP_ERR_SHUTDOWN";
    case ReplyType::err_block_size_reqd: return "NBD_REP_ERR_BLOCK_SIZE_REQD";
    case ReplyType::err_too_big: return "NBD_REP_ERR_TOO_BIG";
  }
  return "reply type " + hex(static_cast<uint32_t>(type), 8);
}

}  // namespace aiops::nbd
