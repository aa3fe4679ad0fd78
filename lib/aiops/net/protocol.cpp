#include "aiops/net/protocol.hpp"

#include <cassert>
#include <cstdio>
#include <optional>
#include <unordered_map>

#include "aiops/core/endian.hpp"

namespace aiops::net {
namespace {

// ---- small formatting helpers for problem messages ----

std::string hex(uint64_t value, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

// The four magic bytes in stream order, e.g. "47 45 54 20".
std::string magic_bytes(const std::byte* in) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02x %02x %02x %02x", std::to_integer<unsigned>(in[0]),
                std::to_integer<unsigned>(in[1]), std::to_integer<unsigned>(in[2]), std::to_integer<unsigned>(in[3]));
  return buf;
}

std::string byte_range(size_t first, size_t count) {
  if (count == 1) return "byte " + std::to_string(first);
  return "bytes " + std::to_string(first) + " to " + std::to_string(first + count - 1);
}

// ---- header decoding ----

DecodeError malformed(std::string problem) { return {Status::malformed, std::move(problem)}; }

std::optional<DecodeError> must_be_zero(Opcode opcode, std::string_view field, uint64_t value) {
  if (value == 0) return std::nullopt;
  return malformed(std::string(opcode_name(opcode)) + " with " + std::string(field) + " " + std::to_string(value) +
                   " (must be 0)");
}

std::optional<DecodeError> check_request_flags(const RequestHeader& h) {
  if ((h.flags & ~known_request_flags) != 0)
    return malformed("unknown flag bits " + hex(h.flags & ~known_request_flags, 4) +
                     " (only bit 0, FUA, and bit 1, RETRY, are defined)");
  if (h.fua() && h.opcode != Opcode::write)
    return malformed("FUA flag on a " + std::string(opcode_name(h.opcode)) + " request (only write takes it)");
  if (h.retry() && h.opcode == Opcode::hello) return malformed("RETRY flag on a hello request");
  return std::nullopt;
}

std::optional<DecodeError> check_hello_fields(const RequestHeader& h) {
  if (auto e = must_be_zero(h.opcode, "volume", h.volume)) return e;
  if (auto e = must_be_zero(h.opcode, "offset", h.offset)) return e;
  if (h.length < hello_body_min_bytes || h.length > hello_body_max_bytes)
    return malformed("hello body of " + std::to_string(h.length) + " bytes (must be " +
                     std::to_string(hello_body_min_bytes) + " to " + std::to_string(hello_body_max_bytes) + ")");
  return std::nullopt;
}

// A zero-length WRITE or READ is well framed (nothing follows it), so it is
// refused as out_of_range and the reply can name the request.
std::optional<DecodeError> check_extent_length(const RequestHeader& h) {
  if (h.length != 0) return std::nullopt;
  return DecodeError{Status::out_of_range, std::string(opcode_name(h.opcode)) + " of 0 bytes (length must be at least 1)",
                     h.opcode, h.handle};
}

std::optional<DecodeError> check_opcode_fields(const RequestHeader& h) {
  switch (h.opcode) {
    case Opcode::hello: return check_hello_fields(h);
    case Opcode::write: return check_extent_length(h);
    case Opcode::read:
      if (auto e = check_extent_length(h)) return e;
      return must_be_zero(h.opcode, "checksum", h.checksum);
    case Opcode::flush:
      if (auto e = must_be_zero(h.opcode, "volume", h.volume)) return e;
      if (auto e = must_be_zero(h.opcode, "length", h.length)) return e;
      if (auto e = must_be_zero(h.opcode, "offset", h.offset)) return e;
      return must_be_zero(h.opcode, "checksum", h.checksum);
  }
  return malformed("unknown opcode");  // not reached: the opcode was checked
}

bool known_opcode(uint8_t op) { return op >= 1 && op <= 4; }

// ---- body encoding and decoding ----

class BodyWriter {
 public:
  template <class T>
  void number(T value) {
    size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    store_le<T>(bytes_.data() + at, value);
  }
  void text(std::string_view s) {
    const auto* first = reinterpret_cast<const std::byte*>(s.data());
    bytes_.insert(bytes_.end(), first, first + s.size());
  }
  [[nodiscard]] std::vector<std::byte> take() && { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

// Reads fields front to back and refuses to step past the end; every error
// names the body, the field and the byte positions.
class BodyReader {
 public:
  BodyReader(std::span<const std::byte> body, std::string_view what) : body_(body), what_(what) {}

  template <class T>
  [[nodiscard]] Result<T> number(std::string_view field) {
    AIOPS_TRY(need(sizeof(T), field));
    T value = load_le<T>(body_.data() + pos_);
    pos_ += sizeof(T);
    return value;
  }

  [[nodiscard]] Result<std::string> text(size_t length, std::string_view field) {
    AIOPS_TRY(need(length, field));
    std::string value(reinterpret_cast<const char*>(body_.data() + pos_), length);
    pos_ += length;
    return value;
  }

  /// Checks a length just read against [min, max]; `what` says whose length.
  [[nodiscard]] aiops::Status length_within(size_t length, size_t min, size_t max, std::string_view field) const {
    if (length >= min && length <= max) return {};
    return fail(std::string(field) + " is " + std::to_string(length) + " (must be " + std::to_string(min) + " to " +
                std::to_string(max) + ")");
  }

  /// Checks each byte of `value`, which ends at the current position.
  [[nodiscard]] aiops::Status chars_allowed(std::string_view value, bool (*allowed)(unsigned char),
                                            std::string_view field, std::string_view rule) const {
    for (size_t i = 0; i < value.size(); ++i) {
      auto c = static_cast<unsigned char>(value[i]);
      if (!allowed(c))
        return fail(std::string(field) + " has " + hex(c, 2) + " at byte " + std::to_string(pos_ - value.size() + i) +
                    " (" + std::string(rule) + ")");
    }
    return {};
  }

  /// Nothing may follow `last_field`.
  [[nodiscard]] aiops::Status at_end(std::string_view last_field) const {
    if (pos_ == body_.size()) return {};
    size_t extra = body_.size() - pos_;
    return fail(std::to_string(extra) + (extra == 1 ? " byte follows " : " bytes follow ") +
                std::string(last_field) + " (the body must end there)");
  }

  [[nodiscard]] Error fail(const std::string& problem) const {
    return Error(Errc::invalid_input, std::string(what_) + ": " + problem);
  }

 private:
  [[nodiscard]] aiops::Status need(size_t n, std::string_view field) const {
    if (body_.size() - pos_ >= n) return {};
    return fail("truncated after " + std::to_string(body_.size()) + " bytes, inside " + std::string(field) + " (" +
                byte_range(pos_, n) + ")");
  }

  std::span<const std::byte> body_;
  std::string_view what_;
  size_t pos_ = 0;
};

bool name_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}
bool token_char(unsigned char c) { return c >= 0x21 && c <= 0x7e; }
bool version_char(unsigned char c) { return c >= 0x20 && c <= 0x7e; }

constexpr std::string_view name_rule = "allowed: A-Z, a-z, 0-9, \"_\", \".\" and \"-\"";

// A u8/u16 length, then that many bytes of an allowed name.
template <class LengthT>
Result<std::string> read_name(BodyReader& in, const std::string& field, size_t max_bytes) {
  AIOPS_ASSIGN(LengthT length, in.number<LengthT>(field + "_length"));
  AIOPS_TRY(in.length_within(length, 1, max_bytes, field + "_length"));
  AIOPS_ASSIGN(std::string name, in.text(length, field));
  AIOPS_TRY(in.chars_allowed(name, name_char, field, name_rule));
  return name;
}

Result<VolumeInfo> read_volume(BodyReader& in, size_t index) {
  const std::string field = "volume[" + std::to_string(index) + "].";
  VolumeInfo v;
  AIOPS_ASSIGN(v.id, in.number<uint32_t>(field + "id"));
  if (v.id == 0) return in.fail(field + "id is 0 (volume ids start at 1)");
  AIOPS_ASSIGN(uint8_t flags, in.number<uint8_t>(field + "flags"));
  if ((flags & ~volume_flag_read_only) != 0)
    return in.fail(field + "flags " + hex(flags, 2) + " has unknown bits (only bit 0, read-only, is defined)");
  v.read_only = (flags & volume_flag_read_only) != 0;
  AIOPS_ASSIGN(v.size_bytes, in.number<uint64_t>(field + "size_bytes"));
  AIOPS_ASSIGN(v.name, read_name<uint8_t>(in, field + "name", volume_name_max_bytes));
  return v;
}

// The list may not name a volume twice, by id or by name.
aiops::Status volumes_unique(const BodyReader& in, const std::vector<VolumeInfo>& volumes) {
  std::unordered_map<uint32_t, size_t> by_id;
  std::unordered_map<std::string_view, size_t> by_name;
  for (size_t i = 0; i < volumes.size(); ++i) {
    const std::string field = "volume[" + std::to_string(i) + "].";
    if (auto [it, fresh] = by_id.emplace(volumes[i].id, i); !fresh)
      return in.fail(field + "id " + std::to_string(volumes[i].id) + " repeats volume[" + std::to_string(it->second) +
                     "].id");
    if (auto [it, fresh] = by_name.emplace(volumes[i].name, i); !fresh)
      return in.fail(field + "name \"" + volumes[i].name + "\" repeats volume[" + std::to_string(it->second) +
                     "].name");
  }
  return {};
}

}  // namespace

std::string_view status_name(Status status) noexcept {
  switch (status) {
    case Status::ok: return "ok";
    case Status::malformed: return "malformed";
    case Status::unsupported_version: return "unsupported_version";
    case Status::unknown_client: return "unknown_client";
    case Status::bad_token: return "bad_token";
    case Status::not_authenticated: return "not_authenticated";
    case Status::unknown_volume: return "unknown_volume";
    case Status::access_denied: return "access_denied";
    case Status::out_of_range: return "out_of_range";
    case Status::checksum_mismatch: return "checksum_mismatch";
    case Status::too_large: return "too_large";
    case Status::too_many_outstanding: return "too_many_outstanding";
    case Status::busy: return "busy";
    case Status::io_error: return "io_error";
    case Status::shutting_down: return "shutting_down";
  }
  return "unknown";
}

std::string_view opcode_name(Opcode opcode) noexcept {
  switch (opcode) {
    case Opcode::hello: return "hello";
    case Opcode::write: return "write";
    case Opcode::read: return "read";
    case Opcode::flush: return "flush";
  }
  return opcode == Opcode{0} ? "none" : "unknown";
}

bool status_retryable(Status status) noexcept {
  return status == Status::too_many_outstanding || status == Status::busy || status == Status::io_error ||
         status == Status::shutting_down;
}

bool retry_after_allowed(Status status) noexcept {
  return status_retryable(status) || status == Status::checksum_mismatch;
}

Status status_for_storage_error(Errc code) noexcept {
  switch (code) {
    case Errc::busy:
    case Errc::timeout: return Status::busy;
    default: return Status::io_error;
  }
}

uint32_t RequestHeader::payload_bytes() const noexcept {
  return opcode == Opcode::hello || opcode == Opcode::write ? length : 0;
}

ReplyHeader reply_to(const RequestHeader& request, Status status) noexcept {
  return ReplyHeader{.opcode = request.opcode, .status = status, .handle = request.handle};
}

bool reply_closes_connection(const ReplyHeader& reply) noexcept {
  if (reply.status == Status::malformed || reply.status == Status::unsupported_version) return true;
  return reply.opcode == Opcode::hello && reply.status != Status::ok;
}

bool extent_fits(uint64_t offset, uint32_t length, uint64_t size_bytes) noexcept {
  return length > 0 && offset <= size_bytes && length <= size_bytes - offset;
}

void encode_request(const RequestHeader& h, std::byte* out) noexcept {
  store_le<uint32_t>(out + 0, request_magic);
  store_le<uint8_t>(out + 4, protocol_version);
  store_le<uint8_t>(out + 5, static_cast<uint8_t>(h.opcode));
  store_le<uint16_t>(out + 6, h.flags);
  store_le<uint64_t>(out + 8, h.handle);
  store_le<uint32_t>(out + 16, h.volume);
  store_le<uint32_t>(out + 20, h.length);
  store_le<uint64_t>(out + 24, h.offset);
  store_le<uint64_t>(out + 32, h.checksum);
}

void encode_reply(const ReplyHeader& h, std::byte* out) noexcept {
  store_le<uint32_t>(out + 0, reply_magic);
  store_le<uint8_t>(out + 4, protocol_version);
  store_le<uint8_t>(out + 5, static_cast<uint8_t>(h.opcode));
  store_le<uint16_t>(out + 6, static_cast<uint16_t>(h.status));
  store_le<uint64_t>(out + 8, h.handle);
  store_le<uint32_t>(out + 16, h.retry_after_ms);
  store_le<uint32_t>(out + 20, h.length);
  store_le<uint64_t>(out + 24, h.checksum);
}

std::variant<RequestHeader, DecodeError> decode_request(const std::byte* in) {
  if (load_le<uint32_t>(in) != request_magic)
    return malformed("bad request magic " + magic_bytes(in) + " (expected 41 49 4f 51, \"AIOQ\")");
  if (uint8_t version = load_le<uint8_t>(in + 4); version != protocol_version)
    return DecodeError{Status::unsupported_version,
                       "request version " + std::to_string(version) + " (this server speaks version 1)"};
  uint8_t op = load_le<uint8_t>(in + 5);
  if (!known_opcode(op)) return malformed("unknown opcode " + std::to_string(op) + " (must be 1 to 4)");
  RequestHeader h{
      .opcode = static_cast<Opcode>(op),
      .flags = load_le<uint16_t>(in + 6),
      .handle = load_le<uint64_t>(in + 8),
      .volume = load_le<uint32_t>(in + 16),
      .length = load_le<uint32_t>(in + 20),
      .offset = load_le<uint64_t>(in + 24),
      .checksum = load_le<uint64_t>(in + 32),
  };
  if (auto e = check_request_flags(h)) return *std::move(e);
  if (auto e = check_opcode_fields(h)) return *std::move(e);
  return h;
}

namespace {

std::optional<DecodeError> check_reply_opcode_zero(const ReplyHeader& h) {
  if (h.opcode != Opcode{0}) return std::nullopt;
  if (h.status != Status::malformed && h.status != Status::unsupported_version)
    return malformed("reply without an opcode has status " + std::string(status_name(h.status)) +
                     " (only malformed and unsupported_version may)");
  if (h.handle != 0) return malformed("reply without an opcode has handle " + std::to_string(h.handle) + " (must be 0)");
  return std::nullopt;
}

std::optional<DecodeError> check_reply_payload(const ReplyHeader& h) {
  const std::string what = std::string(opcode_name(h.opcode)) + " reply with status " + std::string(status_name(h.status));
  bool may_carry = h.status == Status::ok && (h.opcode == Opcode::hello || h.opcode == Opcode::read);
  if (h.length != 0 && !may_carry)
    return malformed(what + " has " + std::to_string(h.length) +
                     " payload bytes (only ok replies to hello and read carry any)");
  if (h.status == Status::ok && h.opcode == Opcode::hello &&
      (h.length < hello_reply_min_bytes || h.length > hello_reply_max_bytes))
    return malformed(what + " has a body of " + std::to_string(h.length) + " bytes (must be " +
                     std::to_string(hello_reply_min_bytes) + " to " + std::to_string(hello_reply_max_bytes) + ")");
  if (h.status == Status::ok && h.opcode == Opcode::read && h.length == 0)
    return malformed(what + " has no data (length 0)");
  if (h.length == 0 && h.checksum != 0)
    return malformed(what + " has no payload but checksum " + hex(h.checksum, 16) + " (must be 0)");
  return std::nullopt;
}

}  // namespace

std::variant<ReplyHeader, DecodeError> decode_reply(const std::byte* in) {
  if (load_le<uint32_t>(in) != reply_magic)
    return malformed("bad reply magic " + magic_bytes(in) + " (expected 41 49 4f 52, \"AIOR\")");
  if (uint8_t version = load_le<uint8_t>(in + 4); version != protocol_version)
    return DecodeError{Status::unsupported_version,
                       "reply version " + std::to_string(version) + " (this client speaks version 1)"};
  uint8_t op = load_le<uint8_t>(in + 5);
  if (op != 0 && !known_opcode(op)) return malformed("unknown opcode " + std::to_string(op) + " in reply (must be 0 to 4)");
  uint16_t status = load_le<uint16_t>(in + 6);
  if (status >= status_count)
    return malformed("unknown status " + std::to_string(status) + " (must be 0 to " + std::to_string(status_count - 1) +
                     ")");
  ReplyHeader h{
      .opcode = static_cast<Opcode>(op),
      .status = static_cast<Status>(status),
      .handle = load_le<uint64_t>(in + 8),
      .retry_after_ms = load_le<uint32_t>(in + 16),
      .length = load_le<uint32_t>(in + 20),
      .checksum = load_le<uint64_t>(in + 24),
  };
  if (auto e = check_reply_opcode_zero(h)) return *std::move(e);
  if (h.retry_after_ms != 0 && !retry_after_allowed(h.status))
    return malformed("retry_after_ms " + std::to_string(h.retry_after_ms) + " with status " +
                     std::string(status_name(h.status)) +
                     " (only too_many_outstanding, busy, io_error, shutting_down and checksum_mismatch carry one)");
  if (auto e = check_reply_payload(h)) return *std::move(e);
  return h;
}

std::vector<std::byte> encode_hello(const Hello& hello) {
  assert(hello.client.size() <= UINT16_MAX && hello.token.size() <= UINT16_MAX);
  BodyWriter out;
  out.number(static_cast<uint16_t>(hello.client.size()));
  out.text(hello.client);
  out.number(static_cast<uint16_t>(hello.token.size()));
  out.text(hello.token);
  return std::move(out).take();
}

Result<Hello> decode_hello(std::span<const std::byte> body) {
  BodyReader in(body, "hello body");
  Hello hello;
  AIOPS_ASSIGN(hello.client, read_name<uint16_t>(in, "name", client_name_max_bytes));
  AIOPS_ASSIGN(uint16_t token_length, in.number<uint16_t>("token_length"));
  AIOPS_TRY(in.length_within(token_length, 1, token_max_bytes, "token_length"));
  AIOPS_ASSIGN(hello.token, in.text(token_length, "token"));
  AIOPS_TRY(in.chars_allowed(hello.token, token_char, "token", "allowed: printable ASCII 0x21 to 0x7e"));
  AIOPS_TRY(in.at_end("token"));
  return hello;
}

std::vector<std::byte> encode_hello_reply(const HelloReply& reply) {
  assert(reply.server_version.size() <= UINT16_MAX && reply.volumes.size() <= UINT16_MAX);
  BodyWriter out;
  out.number(reply.max_request_bytes);
  out.number(reply.max_outstanding);
  out.number(static_cast<uint16_t>(reply.server_version.size()));
  out.text(reply.server_version);
  out.number(static_cast<uint16_t>(reply.volumes.size()));
  for (const VolumeInfo& v : reply.volumes) {
    assert(v.name.size() <= UINT8_MAX);
    out.number(v.id);
    out.number(static_cast<uint8_t>(v.read_only ? volume_flag_read_only : 0));
    out.number(v.size_bytes);
    out.number(static_cast<uint8_t>(v.name.size()));
    out.text(v.name);
  }
  return std::move(out).take();
}

Result<HelloReply> decode_hello_reply(std::span<const std::byte> body) {
  BodyReader in(body, "hello reply body");
  HelloReply reply;
  AIOPS_ASSIGN(reply.max_request_bytes, in.number<uint32_t>("max_request_bytes"));
  if (reply.max_request_bytes == 0) return in.fail("max_request_bytes is 0 (must be at least 1)");
  AIOPS_ASSIGN(reply.max_outstanding, in.number<uint32_t>("max_outstanding"));
  if (reply.max_outstanding == 0) return in.fail("max_outstanding is 0 (must be at least 1)");
  AIOPS_ASSIGN(uint16_t version_length, in.number<uint16_t>("server_version_length"));
  AIOPS_TRY(in.length_within(version_length, 0, server_version_max_bytes, "server_version_length"));
  AIOPS_ASSIGN(reply.server_version, in.text(version_length, "server_version"));
  AIOPS_TRY(in.chars_allowed(reply.server_version, version_char, "server_version",
                             "allowed: printable ASCII 0x20 to 0x7e"));
  AIOPS_ASSIGN(uint16_t volume_count, in.number<uint16_t>("volume_count"));
  for (size_t i = 0; i < volume_count; ++i) {
    AIOPS_ASSIGN(VolumeInfo volume, read_volume(in, i));
    reply.volumes.push_back(std::move(volume));
  }
  AIOPS_TRY(volumes_unique(in, reply.volumes));
  AIOPS_TRY(in.at_end(volume_count == 0 ? "volume_count" : "the last volume"));
  return reply;
}

}  // namespace aiops::net
