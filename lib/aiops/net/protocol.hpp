#pragma once
// Native protocol, version 1: the wire format between clients and
// aiops-worker. This file is the codec only (no sockets, no I/O); the prose
// spec for both sides is man/aiops-protocol.7. Every integer is little-endian.
//
// Transport is a byte stream (TCP or a Unix socket). The client sends
// requests, the server sends replies. A client may have many requests
// outstanding (pipelining); replies come in any order and are matched to
// requests by `handle`. A connection starts with one HELLO; until it
// succeeds, every other request is answered not_authenticated.
//
// Request header, 40 bytes, followed by `length` payload bytes only for
// HELLO and WRITE:
//
//   offset width field     meaning
//   ------ ----- --------- -----------------------------------------------------
//        0     4 magic     the bytes "AIOQ" (0x514f4941 as a u32)
//        4     1 version   1
//        5     1 opcode    1 HELLO, 2 WRITE, 3 READ, 4 FLUSH
//        6     2 flags     bit 0: FUA, WRITE only: acknowledge once durable.
//                          bit 1: RETRY, not on HELLO: this request repeats
//                          one the server refused (counted against the
//                          client's retry budget). Other bits are 0.
//        8     8 handle    chosen by the client, echoed in the reply
//       16     4 volume    volume id for WRITE and READ; 0 otherwise
//       20     4 length    HELLO: body bytes, 4 to 1024; WRITE: payload bytes;
//                          READ: bytes to read; FLUSH: 0. Not 0 for WRITE/READ.
//       24     8 offset    byte offset in the volume for WRITE and READ;
//                          0 otherwise
//       32     8 checksum  XXH3-64 of the payload that follows (HELLO body,
//                          WRITE payload); 0 for READ and FLUSH
//       40   len payload   HELLO and WRITE only
//
// Reply header, 32 bytes, followed by `length` payload bytes:
//
//   offset width field           meaning
//   ------ ----- --------------- -----------------------------------------------
//        0     4 magic           the bytes "AIOR" (0x524f4941 as a u32)
//        4     1 version         1
//        5     1 opcode          the request's opcode; 0 when the request could
//                                not be decoded (status malformed or
//                                unsupported_version)
//        6     2 status          Status below
//        8     8 handle          the request's handle; 0 when opcode is 0
//       16     4 retry_after_ms  for a status retry_after_allowed() names:
//                                wait this long before retrying; else 0
//       20     4 length          payload bytes that follow: the HELLO reply
//                                body or the READ data, only with status ok;
//                                else 0
//       24     8 checksum        XXH3-64 of the payload; 0 when length is 0
//       32   len payload
//
// HELLO request body (the request's `length` covers all of it; nothing may
// follow the token):
//
//   width field         meaning
//   ----- ------------- -------------------------------------------------
//       2 name_length   1 to 64
//     len name          client name ([[client]] name), [A-Za-z0-9_.-]
//       2 token_length  1 to 256
//     len token         the client's secret, printable ASCII 0x21 to 0x7e
//
// HELLO reply body (status ok only; nothing may follow the last volume):
//
//   width field                  meaning
//   ----- ---------------------- ----------------------------------------
//       4 max_request_bytes      largest WRITE payload or READ length; >= 1
//       4 max_outstanding        most requests in flight; >= 1
//       2 server_version_length  0 to 64
//     len server_version         printable ASCII 0x20 to 0x7e
//       2 volume_count           volumes granted to this client
//   then volume_count times:
//       4 id                     volume id, >= 1, unique in the list
//       1 flags                  bit 0: read-only for this client; other
//                                bits 0
//       8 size_bytes             capacity of the volume
//       1 name_length            1 to 64
//     len name                   [A-Za-z0-9_.-], unique in the list
//
// Why this shape. Fixed headers with a length let a reader frame the stream
// without parsing bodies, and 8-byte fields sit at 8-byte offsets. Only the
// payload is checksummed: the header is checked field by field by the rules
// below, and the payload's XXH3-64 is the very hash the log record stores
// (wal/record.hpp), so a write is hashed once between the client and the
// disk. Replies may overtake each other because a FUA write waits for an
// fdatasync while a READ does not. `retry_after_ms` lets the server spread
// retries by client priority and load instead of having clients guess.
//
// Validity. decode_request() checks, in this order, one rule per check:
// magic, version (unsupported_version), opcode, unknown flag bits, FUA only
// on WRITE, RETRY not on HELLO, then the fields of the opcode (HELLO: volume 0, offset 0, length
// 4..1024; WRITE/READ: length > 0; READ: checksum 0; FLUSH: volume, length,
// offset and checksum 0). All failures are malformed except the version
// (unsupported_version) and a zero length for WRITE/READ (out_of_range). A
// malformed or unsupported_version request cannot be trusted to frame the
// stream, so the server replies with opcode 0 and handle 0 and closes the
// connection; after out_of_range the framing is sound (no payload follows)
// and the connection stays open. What the header alone cannot tell
// (authentication, volume, access, extent, size limits, the checksum of the
// payload) is the server's to check; man/aiops-protocol.7 gives the order.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "aiops/core/error.hpp"

namespace aiops::net {

inline constexpr uint32_t request_magic = 0x514f4941;  // "AIOQ"
inline constexpr uint32_t reply_magic = 0x524f4941;    // "AIOR"
inline constexpr uint8_t protocol_version = 1;
inline constexpr size_t request_header_bytes = 40, reply_header_bytes = 32;

inline constexpr uint16_t flag_fua = 1;
inline constexpr uint16_t flag_retry = 2;
inline constexpr uint16_t known_request_flags = flag_fua | flag_retry;

inline constexpr uint32_t hello_body_min_bytes = 4, hello_body_max_bytes = 1024;
inline constexpr size_t client_name_max_bytes = 64, token_max_bytes = 256;
inline constexpr size_t server_version_max_bytes = 64, volume_name_max_bytes = 64;
inline constexpr uint8_t volume_flag_read_only = 1;

// Smallest and largest HELLO reply body: the fixed fields, then 0 or 65535
// volumes with the longest version string and names.
inline constexpr size_t hello_reply_min_bytes = 4 + 4 + 2 + 2;
inline constexpr size_t hello_reply_max_bytes =
    hello_reply_min_bytes + server_version_max_bytes + 65535 * (4 + 1 + 8 + 1 + volume_name_max_bytes);

// The layout above, field by field: offsets and widths add up to the header.
static_assert(4 + 1 + 1 + 2 + 8 + 4 + 4 + 8 + 8 == request_header_bytes);
static_assert(4 + 1 + 1 + 2 + 8 + 4 + 4 + 8 == reply_header_bytes);
static_assert(request_magic == (uint32_t{'A'} | uint32_t{'I'} << 8 | uint32_t{'O'} << 16 | uint32_t{'Q'} << 24));
static_assert(reply_magic == (uint32_t{'A'} | uint32_t{'I'} << 8 | uint32_t{'O'} << 16 | uint32_t{'R'} << 24));
// The largest valid HELLO body fits the request header's limit for it.
static_assert(2 + client_name_max_bytes + 2 + token_max_bytes <= hello_body_max_bytes);
static_assert(2 + 1 + 2 + 1 >= hello_body_min_bytes);
static_assert(hello_reply_max_bytes <= UINT32_MAX);

enum class Opcode : uint8_t { hello = 1, write = 2, read = 3, flush = 4 };

// Reply status. Names and numbers are part of the protocol; never renumber.
enum class Status : uint16_t {
  ok = 0,
  malformed = 1,             // bad header or HELLO body; connection closed
  unsupported_version = 2,   // header version is not 1; connection closed
  unknown_client = 3,        // HELLO: no such client; connection closed
  bad_token = 4,             // HELLO: wrong token; connection closed
  not_authenticated = 5,     // a request before a successful HELLO
  unknown_volume = 6,        // no volume with that id
  access_denied = 7,         // volume not granted, or WRITE to a read-only grant
  out_of_range = 8,          // extent beyond the volume, or zero length
  checksum_mismatch = 9,     // payload does not match the header's checksum
  too_large = 10,            // length > max_request_bytes
  too_many_outstanding = 11, // more than max_outstanding requests in flight
  busy = 12,                 // try again after retry_after_ms
  io_error = 13,             // the storage below failed
  shutting_down = 14,        // the server is stopping
};
inline constexpr uint16_t status_count = 15;

/// Stable lower-case names for logs and JSON: "checksum_mismatch", "write".
/// Values outside the enumeration give "unknown"; Opcode{0} gives "none".
[[nodiscard]] std::string_view status_name(Status status) noexcept;
[[nodiscard]] std::string_view opcode_name(Opcode opcode) noexcept;

/// True for the statuses that say "the request was fine, the server could
/// not serve it now" (too_many_outstanding, busy, io_error, shutting_down):
/// these, and checksum_mismatch, may carry a nonzero retry_after_ms.
[[nodiscard]] bool status_retryable(Status status) noexcept;
/// The statuses a nonzero retry_after_ms may come with: the retryable ones,
/// and checksum_mismatch (the payload was damaged on its way; sending it
/// again may succeed).
[[nodiscard]] bool retry_after_allowed(Status status) noexcept;

/// The status for a request that passed every protocol check and then
/// failed in the storage below (log, buffer, volume): busy for Errc::busy
/// and Errc::timeout, io_error for everything else. The one place that maps
/// our errors to wire codes; the precise Error goes to the server's log.
[[nodiscard]] Status status_for_storage_error(Errc code) noexcept;

struct RequestHeader {
  Opcode opcode{};
  uint16_t flags = 0;
  uint64_t handle = 0;
  uint32_t volume = 0;
  uint32_t length = 0;
  uint64_t offset = 0;
  uint64_t checksum = 0;

  [[nodiscard]] bool fua() const noexcept { return (flags & flag_fua) != 0; }
  [[nodiscard]] bool retry() const noexcept { return (flags & flag_retry) != 0; }
  /// Bytes that follow this header on the wire: `length` for HELLO and
  /// WRITE, 0 otherwise.
  [[nodiscard]] uint32_t payload_bytes() const noexcept;
  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};

struct ReplyHeader {
  Opcode opcode{};
  Status status = Status::ok;
  uint64_t handle = 0;
  uint32_t retry_after_ms = 0;
  uint32_t length = 0;
  uint64_t checksum = 0;

  friend bool operator==(const ReplyHeader&, const ReplyHeader&) = default;
};

/// A reply to `request` with `status` and no payload.
[[nodiscard]] ReplyHeader reply_to(const RequestHeader& request, Status status) noexcept;

/// True when the server closes the connection after sending `reply`:
/// malformed, unsupported_version, and every HELLO that did not succeed.
/// (shutting_down closes too, but only once the outstanding replies are out.)
[[nodiscard]] bool reply_closes_connection(const ReplyHeader& reply) noexcept;

/// True when [offset, offset + length) lies inside a volume of `size_bytes`
/// and length > 0; never overflows.
[[nodiscard]] bool extent_fits(uint64_t offset, uint32_t length, uint64_t size_bytes) noexcept;

/// Write the header as it goes on the wire: 40 and 32 bytes at `out`. The
/// fields are written as given, without validation, so tests can build bad
/// headers; a sender keeps the rules above.
void encode_request(const RequestHeader& header, std::byte* out /*40 bytes*/) noexcept;
void encode_reply(const ReplyHeader& header, std::byte* out /*32 bytes*/) noexcept;

/// Why a header was refused. `problem` names the field and its value, for
/// the log (it never contains payload or token bytes).
struct DecodeError {
  Status status;        // malformed, unsupported_version, or (requests) out_of_range
  std::string problem;  // e.g. "unknown opcode 5"
  // For out_of_range the header framed soundly: the opcode and handle to put
  // in the reply. Opcode{0} and 0 otherwise, as the reply must carry then.
  Opcode opcode{};
  uint64_t handle = 0;
};

/// Decode and validate the 40 bytes at `in` (the rules above). Pure; safe
/// to call from any thread.
[[nodiscard]] std::variant<RequestHeader, DecodeError> decode_request(const std::byte* in /*40 bytes*/);

/// Decode and validate the 32 bytes at `in`: magic, version
/// (unsupported_version), opcode 0..4, a known status, opcode 0 only with
/// malformed or unsupported_version and then handle 0, retry_after_ms only
/// with a retryable status, a payload only with ok on HELLO and READ (HELLO:
/// hello_reply_min_bytes..hello_reply_max_bytes, READ: at least 1), and
/// checksum 0 without a payload. Every failure is malformed except the version.
/// Whether a READ reply's length matches the request is the caller's check.
[[nodiscard]] std::variant<ReplyHeader, DecodeError> decode_reply(const std::byte* in /*32 bytes*/);

struct Hello {
  std::string client;
  std::string token;
  friend bool operator==(const Hello&, const Hello&) = default;
};

/// The HELLO request body. Precondition: client and token each shorter than
/// 65536 bytes (the u16 length); their content is written unchecked.
[[nodiscard]] std::vector<std::byte> encode_hello(const Hello& hello);

/// Decode and validate a HELLO body. Errc::invalid_input with a message that
/// names the field, the byte position and the rule (never the token bytes).
[[nodiscard]] Result<Hello> decode_hello(std::span<const std::byte> body);

struct VolumeInfo {
  uint32_t id = 0;
  std::string name;
  uint64_t size_bytes = 0;
  bool read_only = false;
  friend bool operator==(const VolumeInfo&, const VolumeInfo&) = default;
};

struct HelloReply {
  uint32_t max_request_bytes = 0;
  uint32_t max_outstanding = 0;
  std::string server_version;
  std::vector<VolumeInfo> volumes;
  friend bool operator==(const HelloReply&, const HelloReply&) = default;
};

/// The HELLO reply body. Preconditions: server_version shorter than 65536
/// bytes, at most 65535 volumes, each name shorter than 256 bytes; content
/// is written unchecked.
[[nodiscard]] std::vector<std::byte> encode_hello_reply(const HelloReply& reply);

/// Decode and validate a HELLO reply body; Errc::invalid_input naming the
/// field (and the volume's index), the position and the rule.
[[nodiscard]] Result<HelloReply> decode_hello_reply(std::span<const std::byte> body);

}  // namespace aiops::net
