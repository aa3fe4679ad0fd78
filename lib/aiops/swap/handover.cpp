#include "aiops/swap/handover.hpp"

#include <cstring>

namespace aiops::swap {

std::string_view kind_name(uint16_t kind) noexcept {
  switch (static_cast<Kind>(kind)) {
    case Kind::attached: return "attached";
    case Kind::listener: return "listener";
    case Kind::control: return "control";
    case Kind::connection: return "connection";
    case Kind::handed: return "handed";
    case Kind::ready: return "ready";
    case Kind::failed: return "failed";
  }
  return "unknown";
}

std::string_view mode_name(Mode mode) noexcept {
  switch (mode) {
    case Mode::migrate: return "migrate";
    case Mode::listeners: return "listeners";
    case Mode::release: return "release";
  }
  return "?";
}

std::optional<Mode> parse_mode(std::string_view name) noexcept {
  for (Mode m : {Mode::migrate, Mode::listeners, Mode::release})
    if (mode_name(m) == name) return m;
  return std::nullopt;
}

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(std::span<const std::byte> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    out += hex_digits[std::to_integer<unsigned>(b) >> 4];
    out += hex_digits[std::to_integer<unsigned>(b) & 15];
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Error bad(const std::string& what) { return Error(Errc::invalid_input, "handover: connection state: " + what); }

}  // namespace

nlohmann::json to_json(const ConnectionState& s) {
  nlohmann::json owed = nlohmann::json::array();
  for (const auto& o : s.owed)
    owed.push_back({{"handle", o.handle}, {"opcode", o.opcode}, {"bytes", o.bytes}, {"seq", o.seq}});
  nlohmann::json doc = {{"protocol", s.protocol},   {"peer", s.peer},         {"client", s.client},
                        {"unparsed", to_hex(s.unparsed)}, {"last_volume", s.last_volume}, {"last_end", s.last_end},
                        {"owed", owed}};
  if (s.protocol == "nbd")
    doc["nbd"] = {{"phase", s.nbd.phase},
                  {"no_zeroes", s.nbd.no_zeroes},
                  {"structured", s.nbd.structured},
                  {"export", s.nbd.export_name}};
  return doc;
}

Result<ConnectionState> connection_state_from_json(const nlohmann::json& doc) {
  try {
    ConnectionState s;
    // A worker from before NBD sends no protocol: its connections are native.
    s.protocol = doc.value("protocol", std::string("native"));
    if (s.protocol != "native" && s.protocol != "nbd") return bad("unknown protocol \"" + s.protocol + "\"");
    if (s.protocol == "nbd") {
      const auto& nbd = doc.at("nbd");
      s.nbd.phase = nbd.at("phase").get<std::string>();
      if (s.nbd.phase != "flags" && s.nbd.phase != "options" && s.nbd.phase != "transmission")
        return bad("unknown NBD phase \"" + s.nbd.phase + "\"");
      s.nbd.no_zeroes = nbd.at("no_zeroes").get<bool>();
      s.nbd.structured = nbd.at("structured").get<bool>();
      s.nbd.export_name = nbd.at("export").get<std::string>();
    }
    s.peer = doc.at("peer").get<std::string>();
    s.client = doc.at("client").get<std::string>();
    const auto hex = doc.at("unparsed").get<std::string>();
    if (hex.size() % 2 != 0) return bad("\"unparsed\" has an odd number of hex digits");
    s.unparsed.resize(hex.size() / 2);
    for (size_t i = 0; i < s.unparsed.size(); ++i) {
      int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return bad("\"unparsed\" is not lowercase hex");
      s.unparsed[i] = std::byte(static_cast<unsigned char>(hi * 16 + lo));
    }
    s.last_volume = doc.at("last_volume").get<uint32_t>();
    s.last_end = doc.at("last_end").get<uint64_t>();
    for (const auto& o : doc.at("owed"))
      s.owed.push_back({o.at("handle").get<uint64_t>(), o.at("opcode").get<uint8_t>(), o.at("bytes").get<uint32_t>(),
                        o.at("seq").get<uint64_t>()});
    return s;
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
}

Status send_json(FdChannel& channel, Kind kind, const nlohmann::json& doc, std::span<const int> fds) {
  const std::string text = doc.dump();
  return channel.send(static_cast<uint16_t>(kind),
                      std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()), fds);
}

Result<nlohmann::json> payload_json(const FdMessage& message) {
  std::string_view text(reinterpret_cast<const char*>(message.payload.data()), message.payload.size());
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return Error(Errc::invalid_input, "handover: a " + std::string(kind_name(message.kind)) +
                                          " message is not a JSON object");
  return doc;
}

}  // namespace aiops::swap
