#include "aiops/config/toml_text.hpp"

#include <charconv>
#include <cstdio>

namespace aiops::config {

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(byte));
      out += escape;
    } else {
      out += c;  // UTF-8 passes through unchanged
    }
  }
  out += '"';
  return out;
}

std::string toml_key(std::string_view key) {
  bool bare = !key.empty();
  for (char c : key) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!allowed) bare = false;
  }
  return bare ? std::string(key) : toml_string(key);
}

std::string toml_float(double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string out(buffer, ec == std::errc{} ? end : buffer);
  // TOML reads "8" as an integer; a float needs a point or an exponent.
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

}  // namespace aiops::config
