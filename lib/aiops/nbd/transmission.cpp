#include "aiops/nbd/transmission.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdio>

#include "aiops/core/endian.hpp"
#include "aiops/nbd/handshake.hpp"

namespace aiops::nbd {
namespace {

// The layouts in the header, field by field.
static_assert(4 + 2 + 2 + 8 + 8 + 4 == request_bytes);
static_assert(4 + 4 + 8 == simple_reply_bytes);
static_assert(4 + 2 + 2 + 8 + 4 == chunk_header_bytes);
// An ERROR chunk's message is a string; the string limit is what bounds it,
// and it always fits the u16 message length.
static_assert(max_string_bytes <= UINT16_MAX);

// OFFSET_DATA's u32 length counts its u64 offset too: the data limit.
static_assert(8 + uint64_t{max_structured_read} == UINT32_MAX);

std::string hex(uint64_t value, int digits) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%0*llx", digits, static_cast<unsigned long long>(value));
  return buf;
}

bool known_command(uint16_t type) { return type <= static_cast<uint16_t>(Command::resize); }

// Flags each offered command takes (proto.md, Command flags). FUA on all:
// with NBD_FLAG_SEND_FUA advertised, every command must accept it.
uint16_t flags_taken_by(Command c) {
  switch (c) {
    case Command::read: return cmd_flag_fua | cmd_flag_df;
    case Command::write_zeroes: return cmd_flag_fua | cmd_flag_no_hole | cmd_flag_fast_zero;
    case Command::block_status: return cmd_flag_fua | cmd_flag_req_one;
    default: return cmd_flag_fua;
  }
}

std::string_view flag_name(uint16_t bit) {
  switch (bit) {
    case cmd_flag_fua: return "NBD_CMD_FLAG_FUA";
    case cmd_flag_no_hole: return "NBD_CMD_FLAG_NO_HOLE";
    case cmd_flag_df: return "NBD_CMD_FLAG_DF";
    case cmd_flag_req_one: return "NBD_CMD_FLAG_REQ_ONE";
    case cmd_flag_fast_zero: return "NBD_CMD_FLAG_FAST_ZERO";
  }
  return "unknown flag";
}

bool writes(Command c) { return c == Command::write || c == Command::trim || c == Command::write_zeroes; }
bool has_extent(Command c) { return writes(c) || c == Command::read; }

Verdict refuse(uint32_t error, std::string message) { return {error, std::move(message)}; }

std::string bytes_of(uint64_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

// Builds one structured chunk; the header is written last so that its length
// field cannot disagree with the payload.
class ChunkWriter {
 public:
  ChunkWriter(uint64_t handle, ChunkType type) : handle_(handle), type_(type) { bytes_.resize(chunk_header_bytes); }
  template <class T>
  ChunkWriter& number(T value) {
    size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    store_be<T>(bytes_.data() + at, value);
    return *this;
  }
  ChunkWriter& raw(std::span<const std::byte> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return *this;
  }
  // Every chunk aiops sends is the request's only one, hence always DONE.
  [[nodiscard]] std::vector<std::byte> take() {
    size_t length = bytes_.size() - chunk_header_bytes;
    assert(length <= UINT32_MAX);
    store_be<uint32_t>(bytes_.data(), structured_reply_magic);
    store_be<uint16_t>(bytes_.data() + 4, reply_flag_done);
    store_be<uint16_t>(bytes_.data() + 6, static_cast<uint16_t>(type_));
    store_be<uint64_t>(bytes_.data() + 8, handle_);
    store_be<uint32_t>(bytes_.data() + 16, static_cast<uint32_t>(length));
    return std::move(bytes_);
  }

 private:
  uint64_t handle_;
  ChunkType type_;
  std::vector<std::byte> bytes_;
};

std::vector<std::byte> simple_reply(uint64_t handle, uint32_t error, size_t data_bytes) {
  std::vector<std::byte> out(simple_reply_bytes);
  out.reserve(simple_reply_bytes + data_bytes);
  store_be<uint32_t>(out.data(), simple_reply_magic);
  store_be<uint32_t>(out.data() + 4, error);
  store_be<uint64_t>(out.data() + 8, handle);
  return out;
}

}  // namespace

std::variant<Request, std::string> decode_request(const std::byte* in) {
  uint32_t magic = load_be<uint32_t>(in);
  if (magic != request_magic)
    return "request magic " + hex(magic, 8) + " is not NBD_REQUEST_MAGIC (" + hex(request_magic, 8) + ")";
  return Request{.flags = load_be<uint16_t>(in + 4),
                 .type = load_be<uint16_t>(in + 6),
                 .handle = load_be<uint64_t>(in + 8),
                 .offset = load_be<uint64_t>(in + 16),
                 .length = load_be<uint32_t>(in + 24)};
}

void encode_request(const Request& r, std::byte* out) noexcept {
  store_be<uint32_t>(out, request_magic);
  store_be<uint16_t>(out + 4, r.flags);
  store_be<uint16_t>(out + 6, r.type);
  store_be<uint64_t>(out + 8, r.handle);
  store_be<uint64_t>(out + 16, r.offset);
  store_be<uint32_t>(out + 24, r.length);
}

uint64_t payload_bytes(const Request& r) noexcept {
  return r.type == static_cast<uint16_t>(Command::write) ? r.length : 0;
}

uint16_t transmission_flags(const ExportLimits& limits) noexcept {
  uint16_t flags = tflag_has_flags | tflag_send_flush | tflag_send_fua | tflag_send_trim | tflag_send_write_zeroes |
                   tflag_send_fast_zero;
  if (limits.read_only) flags |= tflag_read_only;
  if (limits.structured) flags |= tflag_send_df;
  return flags;
}

Verdict validate(const Request& r, const ExportLimits& limits) {
  // Rule numbers as in the header, which gives the proto.md basis of each.
  if (!known_command(r.type)) return refuse(err::einval, "unknown command " + std::to_string(r.type));  // 1
  const auto cmd = static_cast<Command>(r.type);
  const std::string name = command_name(r.type);

  if (cmd == Command::disc) return {};  // 2

  if (uint16_t unknown = r.flags & ~known_cmd_flags; unknown != 0)  // 3
    return refuse(err::einval, name + " with unknown flag bits " + hex(unknown, 4));

  if (cmd == Command::cache || cmd == Command::block_status || cmd == Command::resize)  // 4
    return refuse(err::einval, name + " was not negotiated (this server does not offer it)");

  if (uint16_t stray = r.flags & ~flags_taken_by(cmd); stray != 0) {  // 5
    // Name the lowest offending bit; one is enough to refuse.
    auto bit = static_cast<uint16_t>(1u << std::countr_zero(stray));
    return refuse(err::einval, std::string(flag_name(bit)) + " is not valid on " + name);
  }

  if ((r.flags & cmd_flag_df) != 0 && !limits.structured)  // 6
    return refuse(err::einval,
                  "NBD_CMD_FLAG_DF without structured replies (NBD_FLAG_SEND_DF was not advertised)");

  if (cmd == Command::flush) {  // 7
    if (r.offset != 0 || r.length != 0)
      return refuse(err::einval, name + " with offset " + std::to_string(r.offset) + " and length " +
                                     std::to_string(r.length) + " (both must be 0)");
    return {};
  }
  assert(has_extent(cmd));

  if (writes(cmd) && limits.read_only) return refuse(err::eperm, name + " on a read-only export");  // 8

  if (r.length == 0) return refuse(err::einval, name + " of 0 bytes (length must be at least 1)");  // 9

  if (cmd == Command::read || cmd == Command::write) {  // 10
    uint32_t limit = limits.max_payload;
    if (cmd == Command::read && limits.structured) limit = std::min(limit, max_structured_read);
    if (r.length > limit)
      return refuse(err::einval, name + " of " + bytes_of(r.length) + " is above the limit of " +
                                     bytes_of(limit) + " for reads and writes");
  } else if (r.length > limits.max_zero) {  // 11
    return refuse(err::einval, name + " of " + bytes_of(r.length) + " is above the limit of " +
                                   bytes_of(limits.max_zero) + " for trims and write-zeroes");
  }

  // 12. Written as two comparisons so offset + length is never computed.
  if (r.offset > limits.size || r.length > limits.size - r.offset) {
    uint32_t error = (cmd == Command::write || cmd == Command::write_zeroes) ? err::enospc : err::einval;
    return refuse(error, name + " of " + bytes_of(r.length) + " at offset " + std::to_string(r.offset) +
                             " ends past the end of the export (" + bytes_of(limits.size) + ")");
  }
  return {};
}

std::vector<std::byte> encode_read_reply(uint64_t handle, uint64_t offset, std::span<const std::byte> data,
                                         bool structured) {
  if (!structured) {
    std::vector<std::byte> out = simple_reply(handle, err::ok, data.size());
    out.insert(out.end(), data.begin(), data.end());
    return out;
  }
  if (data.empty()) return ChunkWriter(handle, ChunkType::none).take();
  assert(data.size() <= max_structured_read);
  return ChunkWriter(handle, ChunkType::offset_data).number<uint64_t>(offset).raw(data).take();
}

std::vector<std::byte> encode_done_reply(uint64_t handle, bool structured) {
  if (!structured) return simple_reply(handle, err::ok, 0);
  return ChunkWriter(handle, ChunkType::none).take();
}

std::vector<std::byte> encode_error_reply(uint64_t handle, uint32_t error, std::string_view message,
                                          bool structured) {
  if (error == err::ok) error = err::eio;
  if (!structured) return simple_reply(handle, error, 0);
  std::string_view text = wire_string(message);
  return ChunkWriter(handle, ChunkType::error)
      .number<uint32_t>(error)
      .number<uint16_t>(static_cast<uint16_t>(text.size()))
      .raw(std::as_bytes(std::span(text.data(), text.size())))
      .take();
}

std::string command_name(uint16_t type) {
  if (!known_command(type)) return "command " + std::to_string(type);
  switch (static_cast<Command>(type)) {
    case Command::read: return "NBD_CMD_READ";
    case Command::write: return "NBD_CMD_WRITE";
    case Command::disc: return "NBD_CMD_DISC";
    case Command::flush: return "NBD_CMD_FLUSH";
    case Command::trim: return "NBD_CMD_TRIM";
    case Command::cache: return "NBD_CMD_CACHE";
    case Command::write_zeroes: return "NBD_CMD_WRITE_ZEROES";
    case Command::block_status: return "NBD_CMD_BLOCK_STATUS";
    case Command::resize: return "NBD_CMD_RESIZE";
  }
  return "command " + std::to_string(type);
}

std::string_view error_name(uint32_t error) noexcept {
  switch (error) {
    case err::ok: return "OK";
    case err::eperm: return "EPERM";
    case err::eio: return "EIO";
    case err::enomem: return "ENOMEM";
    case err::einval: return "EINVAL";
    case err::enospc: return "ENOSPC";
    case err::eoverflow: return "EOVERFLOW";
    case err::enotsup: return "ENOTSUP";
    case err::eshutdown: return "ESHUTDOWN";
  }
  return "unknown error";
}

}  // namespace aiops::nbd
