#pragma once
// NBD protocol, transmission phase: requests, simple replies and structured
// reply chunks, after the handshake of nbd/handshake.hpp. Codec only (no
// sockets, no I/O). The authority is doc/proto.md of the NBD project;
// "proto.md, <section>" names the section a rule rests on. Every integer is
// big-endian (network byte order).
//
// The client sends requests; the server answers each (except NBD_CMD_DISC)
// with one simple reply, or, once NBD_OPT_STRUCTURED_REPLY was acknowledged,
// with one or more structured chunks, the last one flagged DONE. Replies may
// come in any order and are matched to requests by the handle. (Later
// proto.md revisions rename the handle "cookie"; the field is unchanged.)
// aiops never negotiates extended headers, so these are the only layouts.
//
// Request, client to server, 28 bytes, then `length` payload bytes for
// NBD_CMD_WRITE only:
//
//   offset width field    meaning
//   ------ ----- -------- ----------------------------------------------------
//        0     4 magic    0x25609513
//        4     2 flags    command flags: bit 0 FUA, 1 NO_HOLE, 2 DF,
//                         3 REQ_ONE, 4 FAST_ZERO
//        6     2 type     Command below
//        8     8 handle   chosen by the client, echoed in every reply chunk
//       16     8 offset   byte offset in the export
//       24     4 length   bytes to read/write/trim/zero; 0 for FLUSH and DISC
//       28   len payload  NBD_CMD_WRITE only, whatever validate() says of it
//
// Simple reply, server to client, 16 bytes, then for a successful
// NBD_CMD_READ exactly the requested `length` bytes (nothing else ever):
//
//        0     4 magic    0x67446698
//        4     4 error    0 for success, else an err:: value below
//        8     8 handle   the request's
//
// Structured reply chunk, server to client, 20 bytes, then `length` bytes:
//
//        0     4 magic    0x668e33ef
//        4     2 flags    bit 0 NBD_REPLY_FLAG_DONE: the request's last chunk
//        6     2 type     ChunkType below; bit 15 marks error chunks
//        8     8 handle   the request's
//       16     4 length   payload bytes that follow
//       20   len payload  by type:
//                         NONE (0): no payload; always with DONE.
//                         OFFSET_DATA (1): u64 offset (absolute, within the
//                           request), then the data; length >= 9, so the data
//                           is 1 to 2^32 - 9 bytes.
//                         ERROR (0x8001): u32 error (not 0), u16 message
//                           length (at most length - 6 and at most 4096),
//                           the message (a string, nbd/handshake.hpp).
//
// The replies aiops sends (proto.md, Simple reply message, Structured reply
// chunk message, NBD_CMD_READ):
//
//   outcome               simple                 structured
//   --------------------- ---------------------- ----------------------------
//   READ succeeded        header, error 0, data  one OFFSET_DATA chunk, DONE
//   other success         header, error 0        one NONE chunk, DONE
//   any error             header, error e        one ERROR chunk, DONE,
//                         (message dropped)      carrying the message
//
// A single DONE content chunk is allowed because the data is complete in
// memory before the chunk is encoded: no error can turn up while it is sent
// (proto.md forbids DONE only when one still could). Once structured replies
// are negotiated, proto.md allows a simple reply to any request except
// NBD_CMD_READ, and only without payload: i.e. successes and errors of WRITE,
// FLUSH, TRIM, WRITE_ZEROES (and CACHE); a READ must be answered structured
// even when refused early for bad flags, and a BLOCK_STATUS success needs
// its own chunk type. proto.md prefers structured errors (they carry the
// message), so aiops answers everything structured once negotiated, and the
// `structured` arguments below say which form to produce.
//
// Framing. decode_request() checks only the magic: everything else is
// framed by the header alone (payload_bytes()). A wrong magic leaves the
// stream unframed, so the server closes. A request that validate() refuses
// is still framed: the server reads and discards payload_bytes() of a
// refused NBD_CMD_WRITE, then answers the error. (proto.md, Block size
// constraints, lets it close instead when the payload is so large it counts
// as a denial of service, but not below 2^25 bytes.)
//
// validate() assumes the export advertised transmission_flags(limits) and a
// minimum block size of 1 (no alignment rule). See validate() for the rules.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace aiops::nbd {

inline constexpr uint32_t request_magic = 0x25609513;
inline constexpr uint32_t simple_reply_magic = 0x67446698;
inline constexpr uint32_t structured_reply_magic = 0x668e33ef;

// Numbers are proto.md's; never renumber.
enum class Command : uint16_t {
  read = 0,
  write = 1,
  disc = 2,
  flush = 3,
  trim = 4,
  cache = 5,
  write_zeroes = 6,
  block_status = 7,
  resize = 8
};

inline constexpr uint16_t cmd_flag_fua = 1, cmd_flag_no_hole = 2, cmd_flag_df = 4, cmd_flag_req_one = 8,
                          cmd_flag_fast_zero = 16;
inline constexpr uint16_t known_cmd_flags =
    cmd_flag_fua | cmd_flag_no_hole | cmd_flag_df | cmd_flag_req_one | cmd_flag_fast_zero;

// Transmission flags, sent in the handshake (NBD_INFO_EXPORT, export-name reply).
inline constexpr uint16_t tflag_has_flags = 1, tflag_read_only = 2, tflag_send_flush = 4, tflag_send_fua = 8,
                          tflag_rotational = 16, tflag_send_trim = 32, tflag_send_write_zeroes = 64,
                          tflag_send_df = 128, tflag_can_multi_conn = 256, tflag_send_resize = 512,
                          tflag_send_cache = 1024, tflag_send_fast_zero = 2048;

// Error values, the only ones proto.md allows on the wire (Error values).
namespace err {
inline constexpr uint32_t ok = 0, eperm = 1, eio = 5, enomem = 12, einval = 22, enospc = 28, eoverflow = 75,
                          enotsup = 95, eshutdown = 108;
}

inline constexpr uint16_t reply_flag_done = 1;
enum class ChunkType : uint16_t {
  none = 0,
  offset_data = 1,
  offset_hole = 2,
  block_status = 5,
  error = 0x8001,
  error_offset = 0x8002
};

inline constexpr size_t request_bytes = 28;   // magic u32, flags u16, type u16, handle u64, offset u64, length u32
inline constexpr size_t simple_reply_bytes = 16;
inline constexpr size_t chunk_header_bytes = 20;
// Largest data one OFFSET_DATA chunk carries: its u32 length also counts the
// u64 offset (proto.md, NBD_CMD_READ: longer reads must be split).
inline constexpr uint32_t max_structured_read = UINT32_MAX - 8;

struct Request {
  uint16_t flags = 0;
  uint16_t type = 0;    // a Command, or an unknown value validate() refuses
  uint64_t handle = 0;
  uint64_t offset = 0;
  uint32_t length = 0;
  friend bool operator==(const Request&, const Request&) = default;
};

/// Decode the 28 bytes at `in`. A wrong magic gives the reason (the server
/// closes); every other field is returned as sent, for validate() to judge.
[[nodiscard]] std::variant<Request, std::string> decode_request(const std::byte* in);
/// The 28 bytes at `out`, fields as given (for tests and tools).
void encode_request(const Request& r, std::byte* out) noexcept;
/// Bytes of payload that follow this request on the wire: its length for
/// NBD_CMD_WRITE, else 0. Holds whether or not validate() accepts it.
[[nodiscard]] uint64_t payload_bytes(const Request& r) noexcept;

struct ExportLimits {
  uint64_t size = 0;
  bool read_only = false;
  bool structured = false;   // NBD_OPT_STRUCTURED_REPLY was acknowledged
  uint32_t max_payload = 0;  // largest READ/WRITE length; UINT32_MAX for no limit
  uint64_t max_zero = 0;     // largest TRIM/WRITE_ZEROES length
};

/// The transmission flags that match what validate() accepts: has_flags,
/// send_flush, send_fua, send_trim, send_write_zeroes, send_fast_zero,
/// read_only when the export is, and send_df only with structured replies
/// (proto.md requires it clear without them). Never rotational, multi-conn,
/// cache or resize: those are the server's to add if it offers them (and
/// cache/resize would need validate() changed).
[[nodiscard]] uint16_t transmission_flags(const ExportLimits& limits) noexcept;

struct Verdict {
  uint32_t error = err::ok;
  std::string message;  // empty when ok; else names the command and the rule
  [[nodiscard]] bool ok() const { return error == err::ok; }
};

/// THE request validation. Rules in this order, the first failure wins, one
/// message per rule:
///
///  1. unknown command type                              EINVAL
///     proto.md, Error values: an unknown command should get EINVAL.
///  2. NBD_CMD_DISC: always ok (nothing else checked). There is no reply to
///     DISC, so no error could be reported; the server finishes the
///     outstanding requests and closes.
///  3. unknown command flag bits                         EINVAL
///     proto.md, Error values: an unknown flag should get EINVAL.
///  4. NBD_CMD_CACHE, NBD_CMD_BLOCK_STATUS, NBD_CMD_RESIZE: "not negotiated"
///                                                       EINVAL
///     Not advertised (transmission_flags()); proto.md: BLOCK_STATUS without
///     a metadata context should get EINVAL; CACHE may always fail EINVAL.
///  5. a flag the command does not take                  EINVAL
///     proto.md, Error values: a flag not documented for the request should
///     get EINVAL. Documented: FUA on every command (proto.md, Command flags:
///     with NBD_FLAG_SEND_FUA advertised the server must accept it on all
///     commands, ignoring it where nothing is written); NO_HOLE and FAST_ZERO
///     on WRITE_ZEROES; DF on READ; REQ_ONE on BLOCK_STATUS (refused by 4).
///  6. DF without structured replies                     EINVAL
///     proto.md: NBD_FLAG_SEND_DF must stay clear without structured replies
///     and the client must not send DF unless it was set.
///  7. FLUSH with offset or length not 0                 EINVAL
///     proto.md, NBD_CMD_FLUSH: both are reserved and must be zero.
///  8. WRITE, TRIM or WRITE_ZEROES on a read-only export EPERM
///     proto.md, Error values and NBD_CMD_WRITE_ZEROES: EPERM for writes,
///     trims and write-zeroes on a read-only export (which must error them).
///     Before the extent rules: whatever its extent, such a request fails.
///  9. READ, WRITE, TRIM or WRITE_ZEROES of length 0     EINVAL
///     proto.md leaves the behaviour unspecified but says not to disconnect;
///     an error reply is the conservative answer.
/// 10. READ or WRITE longer than max_payload (a READ, with structured
///     replies, also longer than max_structured_read, which one chunk must
///     hold)                                             EINVAL
///     proto.md, Block size constraints: a request above the maximum block
///     size should get EINVAL; and EOVERFLOW is reserved for a READ with DF
///     that cannot be sent unfragmented (Error values), which never happens
///     here: every READ is answered in one chunk.
/// 11. TRIM or WRITE_ZEROES longer than max_zero         EINVAL
///     proto.md, Block size constraints: commands whose length carries no
///     payload should merely fail with EINVAL, not disconnect.
/// 12. offset + length past the export size (computed without overflow, so
///     an end beyond 2^64 is past it too)                ENOSPC for WRITE
///     and WRITE_ZEROES, EINVAL for READ and TRIM
///     proto.md, Error values: ENOSPC for a write beyond the device, EINVAL
///     for a read or trim beyond it; NBD_CMD_WRITE_ZEROES: ENOSPC.
///
/// FLUSH passes after rule 7. NBD_CMD_FLAG_FAST_ZERO passes validate(), and
/// the server then owes proto.md a quick ENOTSUP whenever zeroing would not
/// be faster than writing; answering every FAST_ZERO request ENOTSUP is
/// allowed (a fast failure counts as fast).
[[nodiscard]] Verdict validate(const Request& r, const ExportLimits& limits);

// ---- replies ----
// Each returns the complete reply: the header and, where there is one, the
// payload.

/// A successful READ of `data` at `offset`. Simple: header, error 0, data.
/// Structured: one OFFSET_DATA chunk with DONE; an empty `data` (a 0-byte
/// READ, which validate() refuses anyway) gives a NONE chunk, since
/// OFFSET_DATA must carry at least one byte. Precondition, structured:
/// data.size() <= max_structured_read (validate() rule 10 ensures it).
[[nodiscard]] std::vector<std::byte> encode_read_reply(uint64_t handle, uint64_t offset,
                                                       std::span<const std::byte> data, bool structured);
/// Success of anything but a READ with data: simple header with error 0, or
/// a NONE chunk with DONE.
[[nodiscard]] std::vector<std::byte> encode_done_reply(uint64_t handle, bool structured);
/// An error: simple header carrying `error` (the message is not sent), or
/// an ERROR chunk with DONE carrying `error` and `message`, cut by
/// wire_string() to a valid string of at most 4096 bytes (which also fits
/// its u16 length). `error` should be an err:: value; 0 is replaced by EIO,
/// because an error reply with error 0 would read as success.
[[nodiscard]] std::vector<std::byte> encode_error_reply(uint64_t handle, uint32_t error, std::string_view message,
                                                        bool structured);

/// "NBD_CMD_WRITE", or "command 42".
[[nodiscard]] std::string command_name(uint16_t type);
/// "EINVAL" ..., "OK" for 0, "unknown error" for values proto.md does not define.
[[nodiscard]] std::string_view error_name(uint32_t error) noexcept;

}  // namespace aiops::nbd
