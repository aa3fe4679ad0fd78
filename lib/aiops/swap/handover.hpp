#pragma once
// What the old worker and the new binary say to each other during the swap
// step of a live update, over the FdChannel (swap/fd_channel.hpp) the old
// worker creates when it starts the new binary (`aiops-worker --takeover-fd`).
//
// Every frame's payload is one JSON object (UTF-8, no trailing newline).
// The conversation, with the frame kinds below:
//
//   new → old  attached     {"pid", "version"}: configuration loaded, the
//                           shared-memory segment attached and its layout
//                           checked. Nothing is served yet.
//   old → new  listener     fd: a listening socket; {"protocol", "address"}
//                           (mode migrate and listeners; one per listener)
//   old → new  control      fd: the control socket's listening socket;
//                           {"path"}
//   old → new  connection   fd: a client connection, stopped at a request
//                           boundary; its state (ConnectionState) (migrate)
//   old → new  handed       {"mode", "generation", "bind": [addresses],
//                           "bind_nbd": [addresses]}: nothing more follows.
//                           The old worker has closed the block store (the
//                           log lock is free) and stopped its validator;
//                           "bind" lists the native and "bind_nbd" the NBD
//                           addresses to bind anew (release mode).
//   A connection's state says its protocol ("native" when absent, as from a
//   worker before NBD) and, for NBD, where its negotiation stands (NbdState).
//   new → old  ready        {"pid", "connections", "listeners"}: the new
//                           binary owns the log (generation + 1) and serves.
//   new → old  failed       {"error"}: it cannot take over and exits; may
//                           come instead of any message above.
//
// The old worker keeps its own copies of every descriptor until `ready`, so
// when the new binary fails, exits or stays silent past the timeout it goes
// on serving them (rollback). A connection's state carries the bytes the old
// worker received but had not parsed, and the requests it still owes a
// reply that waits for an apply (FUA writes, FLUSHes in buffer mode): the new
// worker sends those replies.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiops/core/error.hpp"
#include "aiops/swap/fd_channel.hpp"

namespace aiops::swap {

enum class Kind : uint16_t {
  attached = 1,
  listener = 2,
  control = 3,
  connection = 4,
  handed = 5,
  ready = 6,
  failed = 7,
};

[[nodiscard]] std::string_view kind_name(uint16_t kind) noexcept;

/// How the swap treats clients (aiops(1), update --mode).
enum class Mode {
  migrate,    // listening sockets and live connections move to the new binary
  listeners,  // listening sockets move; connections drain and close
  release,    // the old worker closes its ports; the new binary binds them
};

[[nodiscard]] std::string_view mode_name(Mode mode) noexcept;
[[nodiscard]] std::optional<Mode> parse_mode(std::string_view name) noexcept;

/// A reply the old worker owed and the new one sends.
struct OwedReply {
  uint64_t handle = 0;
  uint8_t opcode = 0;  // net::Opcode
  uint32_t bytes = 0;
  uint64_t seq = 0;    // answered once the buffer's tail_seq passes it
};

// Where an NBD session stands (worker/nbd_session.hpp).
struct NbdState {
  std::string phase = "flags";  // "flags", "options" or "transmission"
  bool no_zeroes = false;       // the client's flag from the handshake
  bool structured = false;      // NBD_OPT_STRUCTURED_REPLY was acknowledged
  std::string export_name;      // in transmission: the export it opened

  bool operator==(const NbdState&) const = default;
};

struct ConnectionState {
  std::string protocol = "native";  // "native" or "nbd" (then `nbd` holds its state)
  NbdState nbd;
  std::string peer;
  std::string client;  // "" before HELLO
  std::vector<std::byte> unparsed;
  uint32_t last_volume = 0;
  uint64_t last_end = UINT64_MAX;
  std::vector<OwedReply> owed;
};

[[nodiscard]] nlohmann::json to_json(const ConnectionState& state);
/// Errors: Errc::invalid_input naming the field.
[[nodiscard]] Result<ConnectionState> connection_state_from_json(const nlohmann::json& doc);

/// Sends a frame whose payload is `doc`.
[[nodiscard]] Status send_json(FdChannel& channel, Kind kind, const nlohmann::json& doc, std::span<const int> fds = {});
/// The payload of `message` as JSON. Errors: Errc::invalid_input.
[[nodiscard]] Result<nlohmann::json> payload_json(const FdMessage& message);

}  // namespace aiops::swap
