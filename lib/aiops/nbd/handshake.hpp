#pragma once
// NBD (Network Block Device) protocol, handshake phase: the "fixed newstyle"
// negotiation by which a standard NBD client (nbd-client and the Linux
// kernel, qemu, libnbd) picks an export of aiops-worker. This file is the
// codec only (no sockets, no I/O); the transmission phase that follows is in
// nbd/transmission.hpp. The authority is doc/proto.md of the NBD project
// (github.com/NetworkBlockDevice/nbd); "proto.md, <section>" below names the
// section a rule comes from. Every integer on this wire is big-endian
// (network byte order), unlike aiops' own formats.
//
// The conversation, S: server, C: client:
//
//   S  greeting                         18 bytes
//   C  client flags                     4 bytes; refused -> the server closes
//   then, until transmission starts or the client leaves:
//   C  option header                    16 bytes, then `length` bytes of data
//   S  option replies                   20 bytes + data each, the last one
//                                       final (NBD_REP_ACK or an error)
//
// Two options end the handshake. NBD_OPT_GO answered by NBD_REP_ACK enters
// transmission at once, with no padding after the ACK (proto.md, NBD_OPT_INFO
// and NBD_OPT_GO). NBD_OPT_EXPORT_NAME gets no option reply at all: the
// export-name reply below, then transmission; it has no way to report an
// error, so a server that cannot serve it must close the connection
// (proto.md, Option types, NBD_OPT_EXPORT_NAME).
//
// Greeting, server to client, 18 bytes:
//
//   offset width field   value
//   ------ ----- ------- ---------------------------------------------------
//        0     8 magic   0x4e42444d41474943, the bytes "NBDMAGIC"
//        8     8 magic   0x49484156454f5054, the bytes "IHAVEOPT"
//       16     2 flags   handshake flags: bit 0 NBD_FLAG_FIXED_NEWSTYLE,
//                        bit 1 NBD_FLAG_NO_ZEROES. aiops sends both (0x0003);
//                        proto.md forbids any other bit.
//
// Client flags, client to server, 4 bytes:
//
//        0     4 flags   bit 0 NBD_FLAG_C_FIXED_NEWSTYLE, bit 1
//                        NBD_FLAG_C_NO_ZEROES (drop the 124 zero bytes of the
//                        export-name reply). Other bits must be 0.
//
// Option header, client to server, 16 bytes, then the option's data:
//
//        0     8 magic   0x49484156454f5054, "IHAVEOPT" again
//        8     4 option  Option below (unknown values are legal: answer
//                        NBD_REP_ERR_UNSUP and skip `length` bytes)
//       12     4 length  bytes of option data that follow
//       16   len data
//
// Option reply, server to client, 20 bytes, then the reply's data:
//
//        0     8 magic   0x0003e889045565a9
//        8     4 option  the option this answers, as the client sent it
//       12     4 type    ReplyType below; errors have bit 31 set
//       16     4 length  bytes of reply data that follow (0: none)
//       20   len data    by type:
//                        ACK: none.
//                        error types: optional message, a string (below).
//                        NBD_REP_SERVER (one per export, answering
//                        NBD_OPT_LIST): u32 name length, then the name;
//                        aiops sends no description after it.
//                        NBD_REP_INFO (answering NBD_OPT_INFO/GO): u16 info
//                        type, then by info type:
//                          0 NBD_INFO_EXPORT      u64 size, u16 transmission
//                                                 flags (length 12)
//                          1 NBD_INFO_NAME        the canonical export name
//                                                 (length 2 + name)
//                          2 NBD_INFO_DESCRIPTION text (aiops sends none)
//                          3 NBD_INFO_BLOCK_SIZE  u32 minimum, u32 preferred,
//                                                 u32 maximum (length 14)
//
// NBD_OPT_INFO / NBD_OPT_GO data (the two share the format):
//
//        0     4 name_length   at most the data length - 6
//        4   len name          export name; empty names the default export
//    4+len     2 count         number of information requests
//    6+len 2*cnt requests      NBD_INFO_* types the client asks for, each
//                              at most once; unknown ones are ignored
//   nothing may follow the last request
//
// Export-name reply, answering NBD_OPT_EXPORT_NAME, 10 or 134 bytes:
//
//        0     8 size    export size in bytes
//        8     2 flags   transmission flags (nbd/transmission.hpp)
//       10   124 zeroes  only when the client did not set NBD_FLAG_C_NO_ZEROES
//
// Strings (export names, messages) are UTF-8 without NUL and at most 4096
// bytes (proto.md, Conventions); their length always comes from a length
// field, never from a terminator.
//
// Rules this codec enforces, and why:
//
// * Client flags: an unknown bit is refused, because proto.md (Client flags)
//   requires the server to drop the connection then. A client that does not
//   set NBD_FLAG_C_FIXED_NEWSTYLE is refused too: proto.md lets a server
//   honour fixed newstyle without the bit but does not require it, and the
//   options aiops needs (GO, INFO, STRUCTURED_REPLY) exist only in fixed
//   newstyle. NBD_FLAG_C_NO_ZEROES is fine since aiops advertises
//   NBD_FLAG_NO_ZEROES.
// * Option header: only the magic is checked; a wrong one means the stream is
//   no longer framed, so the server closes. The length is the server's to
//   judge: above max_option_bytes it answers NBD_REP_ERR_TOO_BIG (proto.md's
//   error for an oversized request) and skips the data; for
//   NBD_OPT_EXPORT_NAME, which cannot be answered with an error, it closes.
// * INFO/GO data: parse_info_request() below, one rule per malformed shape.
// * Options without data: NBD_OPT_LIST, NBD_OPT_STARTTLS and
//   NBD_OPT_STRUCTURED_REPLY carrying data are NBD_REP_ERR_INVALID (proto.md
//   says the client must send none and the server should reject it with that
//   error). NBD_OPT_ABORT is NOT among them: proto.md asks the server to
//   ignore data sent with it rather than refuse it.
//
// What this codec leaves to the server: which exports exist (NBD_REP_ERR_UNKNOWN),
// TLS (aiops runs in proto.md's NOTLS mode: NBD_OPT_STARTTLS gets
// NBD_REP_ERR_UNSUP or NBD_REP_ERR_POLICY, never NBD_REP_ERR_TLS_REQD),
// repeated stateful options (it may answer NBD_REP_ERR_INVALID), the meta
// context options (NBD_REP_ERR_UNSUP while aiops offers no block status), and
// that NBD_OPT_GO/INFO success sends NBD_INFO_EXPORT before NBD_REP_ACK.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace aiops::nbd {

inline constexpr uint64_t init_magic = 0x4e42444d41474943;          // "NBDMAGIC"
inline constexpr uint64_t option_magic = 0x49484156454f5054;        // "IHAVEOPT"
inline constexpr uint64_t option_reply_magic = 0x0003e889045565a9;

inline constexpr uint16_t handshake_flag_fixed_newstyle = 1, handshake_flag_no_zeroes = 2;
inline constexpr uint32_t client_flag_fixed_newstyle = 1, client_flag_no_zeroes = 2;
inline constexpr uint32_t known_client_flags = client_flag_fixed_newstyle | client_flag_no_zeroes;

// Numbers are proto.md's; never renumber. Option 4 (NBD_OPT_PEEK_EXPORT) was
// withdrawn and is unknown here like any other number.
enum class Option : uint32_t {
  export_name = 1,
  abort = 2,
  list = 3,
  starttls = 5,
  info = 6,
  go = 7,
  structured_reply = 8,
  list_meta_context = 9,
  set_meta_context = 10
};

enum class ReplyType : uint32_t {
  ack = 1,
  server = 2,
  info = 3,
  meta_context = 4,
  err_unsup = 0x80000001,
  err_policy = 0x80000002,
  err_invalid = 0x80000003,
  err_platform = 0x80000004,
  err_tls_reqd = 0x80000005,
  err_unknown = 0x80000006,
  err_shutdown = 0x80000007,
  err_block_size_reqd = 0x80000008,
  err_too_big = 0x80000009
};

enum class InfoType : uint16_t { export_info = 0, name = 1, description = 2, block_size = 3 };

/// Bit 31 marks every error reply type (proto.md, Option reply types).
[[nodiscard]] constexpr bool is_error(ReplyType type) noexcept {
  return (static_cast<uint32_t>(type) & 0x80000000u) != 0;
}

// proto.md's string limit (Conventions), for names and messages alike.
inline constexpr size_t max_string_bytes = 4096;

/// The longest prefix of `text` that proto.md accepts as a string: valid
/// UTF-8, no NUL, at most `max_bytes` bytes. Cuts never split a UTF-8
/// sequence, so a message shortened to fit stays displayable.
[[nodiscard]] std::string_view wire_string(std::string_view text, size_t max_bytes = max_string_bytes) noexcept;

// ---- greeting and client flags ----

inline constexpr size_t greeting_bytes = 18;
/// The 18 greeting bytes at `out`: NBDMAGIC, IHAVEOPT, and the handshake
/// flags fixed_newstyle | no_zeroes.
void encode_greeting(std::byte* out) noexcept;

inline constexpr size_t client_flags_bytes = 4;
struct ClientFlags {
  bool no_zeroes = false;
  friend bool operator==(const ClientFlags&, const ClientFlags&) = default;
};
/// Decode the 4 client-flag bytes at `in`. Refuses (returns the reason) a
/// flag word with unknown bits, then one without NBD_FLAG_C_FIXED_NEWSTYLE;
/// the server then closes the connection.
[[nodiscard]] std::variant<ClientFlags, std::string> decode_client_flags(const std::byte* in);

// ---- options ----

inline constexpr size_t option_header_bytes = 16;    // magic u64, option u32, length u32
inline constexpr uint32_t max_option_bytes = 4096;   // larger option data: reply err_too_big and skip the data

struct OptionHeader {
  uint32_t option = 0;
  uint32_t length = 0;
  friend bool operator==(const OptionHeader&, const OptionHeader&) = default;
};
/// Decode the 16 option-header bytes at `in`; a wrong magic gives the reason
/// (the stream is unframed from there: close).
[[nodiscard]] std::variant<OptionHeader, std::string> decode_option_header(const std::byte* in);
/// The 16 option-header bytes at `out`, fields as given (for tests and tools).
void encode_option_header(const OptionHeader& header, std::byte* out) noexcept;

struct ExportRequest {
  std::string name;
  std::vector<uint16_t> info_requests;  // as sent, unknown types included (the server ignores those)
  friend bool operator==(const ExportRequest&, const ExportRequest&) = default;
};
struct OptionProblem {
  ReplyType reply;      // the error reply to send
  std::string message;  // for the reply's data and the server's log
};

/// NBD_OPT_INFO / NBD_OPT_GO data (layout above). Checks, in this order, one
/// message each, all NBD_REP_ERR_INVALID:
///   1. fewer than 6 bytes (no room for the name length and the count)
///   2. name length past the data (more than the data length - 6)
///   3. count past the data (the requests do not fit in what follows the name)
///   4. trailing bytes after the last request
///   5. name longer than max_string_bytes
///   6. name not a valid string (NUL or invalid UTF-8)
///   7. an information request listed twice (proto.md forbids repeats)
/// Framing (1-4) comes before content (5-7) so the message names the most
/// basic problem.
[[nodiscard]] std::variant<ExportRequest, OptionProblem> parse_info_request(std::span<const std::byte> data);

/// For options whose data must be empty (NBD_OPT_LIST, NBD_OPT_STARTTLS,
/// NBD_OPT_STRUCTURED_REPLY): NBD_REP_ERR_INVALID when `data` is not empty.
/// Every other option, NBD_OPT_ABORT included (see above), gives nullopt.
[[nodiscard]] std::optional<OptionProblem> check_empty(uint32_t option, std::span<const std::byte> data);

// ---- option replies ----
// Each returns the complete reply: the 20-byte header and its data.

inline constexpr size_t option_reply_header_bytes = 20;

/// A reply with arbitrary data, as given.
[[nodiscard]] std::vector<std::byte> encode_option_reply(uint32_t option, ReplyType type,
                                                         std::span<const std::byte> data = {});
/// An error reply carrying `message`, cut by wire_string() to a valid string.
/// Precondition: is_error(type).
[[nodiscard]] std::vector<std::byte> encode_option_error(uint32_t option, ReplyType type, std::string_view message);
/// NBD_REP_SERVER for NBD_OPT_LIST. Precondition: wire_string(export_name)
/// == export_name (names are not cut: a cut name would name another export).
[[nodiscard]] std::vector<std::byte> encode_server_reply(uint32_t option, std::string_view export_name);
/// NBD_REP_INFO / NBD_INFO_EXPORT. tflag_has_flags is always set in the flags
/// written (proto.md: bit 0 must always be 1).
[[nodiscard]] std::vector<std::byte> encode_info_export(uint32_t option, uint64_t size, uint16_t transmission_flags);
/// NBD_REP_INFO / NBD_INFO_NAME. Same precondition as encode_server_reply().
[[nodiscard]] std::vector<std::byte> encode_info_name(uint32_t option, std::string_view name);
/// NBD_REP_INFO / NBD_INFO_BLOCK_SIZE, values as given. proto.md (Block size
/// constraints): minimum a power of 2 up to 65536, preferred a power of 2 at
/// least max(minimum, 512), maximum a multiple of minimum or 0xffffffff.
/// nbd::validate() checks no alignment, so aiops advertises minimum 1.
[[nodiscard]] std::vector<std::byte> encode_info_block_size(uint32_t option, uint32_t minimum, uint32_t preferred,
                                                            uint32_t maximum);

/// NBD_OPT_EXPORT_NAME's answer: size u64, flags u16 (tflag_has_flags always
/// set), and 124 zero bytes unless no_zeroes.
[[nodiscard]] std::vector<std::byte> encode_export_name_reply(uint64_t size, uint16_t transmission_flags,
                                                              bool no_zeroes);

/// "NBD_OPT_GO", or "option 42" when unknown.
[[nodiscard]] std::string option_name(uint32_t option);
/// "NBD_REP_ERR_TOO_BIG", or "reply type 0x8000000a" when unknown.
[[nodiscard]] std::string reply_type_name(ReplyType type);

}  // namespace aiops::nbd
