#include "aiops/forecast/plot_svg.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using aiops::forecast::PlotInput;
using aiops::forecast::plot_file_name;
using aiops::forecast::render_svg;
using aiops::forecast::write_svg;
using namespace std::chrono_literals;

namespace {

// ---- a small XML well-formedness checker ------------------------------------
// Enough of XML 1.0 for what render_svg writes: an optional declaration,
// elements with quoted attributes (unique names), character data with the
// five predefined entities or character references, one root, valid UTF-8
// without forbidden control characters. Returns the first problem found.

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xC0) != 0x80) return false;
      c = (c << 6) | (t & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < kMin[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
    if (c < 0x20 && c != 0x9 && c != 0xA && c != 0xD) return false;
    if (c == 0xFFFE || c == 0xFFFF) return false;
    i += len;
  }
  return true;
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.';
}

std::optional<std::string> check_entities(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') return "raw '<' in text or attribute";
    if (text[i] != '&') continue;
    std::size_t semi = text.find(';', i);
    if (semi == std::string_view::npos) return "unterminated entity";
    std::string_view name = text.substr(i + 1, semi - i - 1);
    bool ok = name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos";
    if (!ok && name.size() > 1 && name[0] == '#') {
      ok = name.find_first_not_of("0123456789", 1) == std::string_view::npos ||
           (name[1] == 'x' && name.size() > 2 && name.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string_view::npos);
    }
    if (!ok) return "unknown entity &" + std::string(name) + ";";
  }
  return std::nullopt;
}

std::optional<std::string> xml_problem(std::string_view doc) {
  if (!valid_utf8(doc)) return "not valid UTF-8 or a forbidden character";
  std::size_t i = 0;
  if (doc.substr(0, 5) == "<?xml") {
    i = doc.find("?>");
    if (i == std::string_view::npos) return "unterminated declaration";
    i += 2;
  }
  std::vector<std::string> open;
  int roots = 0;
  while (i < doc.size()) {
    std::size_t lt = doc.find('<', i);
    std::string_view chars = doc.substr(i, lt == std::string_view::npos ? std::string_view::npos : lt - i);
    if (open.empty() && chars.find_first_not_of(" \t\r\n") != std::string_view::npos) return "text outside the root";
    if (auto p = check_entities(chars)) return p;
    if (lt == std::string_view::npos) break;
    std::size_t gt = lt;
    char quote = 0;
    for (; gt < doc.size(); ++gt) {
      if (quote) {
        if (doc[gt] == quote) quote = 0;
      } else if (doc[gt] == '"' || doc[gt] == '\'') {
        quote = doc[gt];
      } else if (doc[gt] == '>') {
        break;
      }
    }
    if (gt == doc.size()) return "unterminated tag";
    std::string_view tag = doc.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (!tag.empty() && tag[0] == '/') {
      std::string name(tag.substr(1));
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
      continue;
    }
    bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.remove_suffix(1);
    std::size_t k = 0;
    while (k < tag.size() && name_char(tag[k])) ++k;
    if (k == 0) return "tag without a name";
    std::string name(tag.substr(0, k));
    std::set<std::string> attributes;
    while (true) {
      std::size_t start = k;
      while (k < tag.size() && std::isspace(static_cast<unsigned char>(tag[k]))) ++k;
      if (k == tag.size()) break;
      if (k == start) return "no space before an attribute in <" + name + ">";
      std::size_t name_start = k;
      while (k < tag.size() && name_char(tag[k])) ++k;
      std::string attribute(tag.substr(name_start, k - name_start));
      if (attribute.empty() || k + 1 >= tag.size() || tag[k] != '=' || (tag[k + 1] != '"' && tag[k + 1] != '\'')) {
        return "malformed attribute in <" + name + ">";
      }
      if (!attributes.insert(attribute).second) return "attribute " + attribute + " repeated in <" + name + ">";
      char q = tag[k + 1];
      std::size_t end = tag.find(q, k + 2);
      if (end == std::string_view::npos) return "unterminated attribute value";
      if (auto p = check_entities(tag.substr(k + 2, end - k - 2))) return p;
      k = end + 1;
    }
    if (open.empty()) {
      if (++roots > 1) return "more than one root element";
    }
    if (!self_closing) open.push_back(name);
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (roots != 1) return "no root element";
  return std::nullopt;
}

void check_well_formed(const std::string& svg) {
  auto problem = xml_problem(svg);
  INFO(svg.substr(0, 2000));
  CHECK_MESSAGE(!problem.has_value(), problem.value_or(""));
  // Nothing that fetches or runs anything, and no broken numbers.
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("href") == std::string::npos);
  CHECK(svg.find("url(") == std::string::npos);
  CHECK(svg.find("@import") == std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
}

std::size_t count(const std::string& haystack, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// The part of the document between <g id="data"> and its end.
std::string data_group(const std::string& svg) {
  std::size_t start = svg.find("<g id=\"data\">");
  std::size_t end = svg.find("</g>", start);
  REQUIRE(start != std::string::npos);
  REQUIRE(end != std::string::npos);
  return svg.substr(start, end - start);
}

PlotInput daily_cycle(std::size_t history, std::size_t horizon, bool with_actual) {
  PlotInput p;
  p.client = "hm_0 <db> & \"co\" 'x'";
  p.model = "ARIMA(1,0,1)(0,1,1)[24]";
  p.metric_label = "operations per 1h";
  p.start = std::chrono::sys_days{std::chrono::year{2024} / 3 / 1} + 5h;
  p.interval = 1h;
  auto level = [](std::size_t t) { return 500 + 300 * std::sin(2 * 3.141592653589793 * static_cast<double>(t) / 24); };
  for (std::size_t i = 0; i < history; ++i) p.history.push_back(level(i) + static_cast<double>(i % 7) * 10);
  for (std::size_t j = 0; j < horizon; ++j) {
    double m = level(history + j);
    double s = 30 * std::sqrt(1 + 0.2 * static_cast<double>(j));
    p.mean.push_back(m);
    p.lo80.push_back(m - 1.28 * s);
    p.hi80.push_back(m + 1.28 * s);
    p.lo95.push_back(m - 1.96 * s);
    p.hi95.push_back(m + 1.96 * s);
    if (with_actual) p.actual.push_back(m + static_cast<double>(j % 5) * 8 - 16);
  }
  return p;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Inverse of plot_file_name's escaping, for names that were not shortened.
std::string unescape(std::string_view file) {
  REQUIRE(file.size() >= 4);
  file.remove_suffix(4);  // ".svg"
  std::string out;
  for (std::size_t i = 0; i < file.size(); ++i) {
    if (file[i] != '~') {
      out += file[i];
      continue;
    }
    REQUIRE(i + 2 < file.size());
    out += static_cast<char>(std::stoi(std::string(file.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

}  // namespace

TEST_CASE("plot_svg: the checker itself rejects broken documents") {
  CHECK(xml_problem("<svg><g></svg>").has_value());
  CHECK(xml_problem("<svg a=\"1\" a=\"2\"/>").has_value());
  CHECK(xml_problem("<svg>a & b</svg>").has_value());
  CHECK(xml_problem("<svg>\x01</svg>").has_value());
  CHECK(xml_problem("<svg>\xff</svg>").has_value());
  CHECK(xml_problem("<svg/><svg/>").has_value());
  CHECK(xml_problem("<svg x=\"<\"/>").has_value());
  CHECK_FALSE(xml_problem("<?xml version=\"1.0\"?>\n<svg a=\"&amp;\"><t>&lt;&#228;</t></svg>\n").has_value());
}

TEST_CASE("plot_svg: a backtest plot has bands, lines, markers, escaped title and legend") {
  PlotInput p = daily_cycle(168, 24, true);
  std::string svg = render_svg(p);
  check_well_formed(svg);
  CHECK(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);

  std::string escaped_client = "hm_0 &lt;db&gt; &amp; &quot;co&quot; &apos;x&apos;";
  CHECK(svg.find("<title>" + escaped_client + " \u00b7 ARIMA(1,0,1)(0,1,1)[24] \u00b7 operations per 1h</title>") !=
        std::string::npos);
  CHECK(svg.find(">" + escaped_client + " \u00b7 ARIMA(1,0,1)(0,1,1)[24]</text>") != std::string::npos);
  CHECK(svg.find("hm_0 <db>") == std::string::npos);

  std::string data = data_group(svg);
  CHECK(count(data, "<polygon") == 2);                   // 95% and 80%
  CHECK(count(data, "<path") == 3);                      // history, mean, actual
  CHECK(count(data, "<circle") == 24);                   // actual markers
  CHECK(count(data, "stroke-dasharray=\"4,3\"") == 1);  // forecast start
  // Each band polygon has 2 * 24 corners; the history path 168 points.
  std::size_t band = data.find("<polygon points=\"");
  std::string corners = data.substr(band, data.find('"', band + 17) - band);
  CHECK(count(corners, ",") == 48);
  std::size_t history = data.find("<path d=\"M");
  std::string path = data.substr(history, data.find('"', history + 9) - history);
  CHECK(count(path, "L") == 167);

  for (const char* label : {">history<", ">forecast (mean)<", ">80% interval<", ">95% interval<", ">actual (held out)<"}) {
    CHECK_MESSAGE(svg.find(label) != std::string::npos, label);
  }
  // 192 hours from 05:00 on March 1: day ticks, labelled by date.
  CHECK(svg.find(">2024-03-02<") != std::string::npos);
  CHECK(svg.find(">2024-03-09<") != std::string::npos);
  CHECK(svg.find(">operations per 1h</text>") != std::string::npos);  // y axis title
  CHECK(svg.find("one point per 1h") != std::string::npos);
  // Values 0..~900: axis from 0 in steps of 200.
  for (const char* tick : {">0<", ">200<", ">400<", ">800<"}) CHECK_MESSAGE(svg.find(tick) != std::string::npos, tick);
}

TEST_CASE("plot_svg: xmllint, when installed, accepts the document") {
  if (!std::filesystem::exists("/usr/bin/xmllint")) return;  // optional tool
  aiops::test::TempDir dir;
  PlotInput p = daily_cycle(100, 10, true);
  p.client = "\xc3\xa4 \xff & <";  // includes a byte that is not UTF-8
  REQUIRE(write_svg(dir / "p.svg", p).ok());
  std::string command = "/usr/bin/xmllint --noout '" + (dir / "p.svg").string() + "' 2>/dev/null";
  CHECK(std::system(command.c_str()) == 0);
}

TEST_CASE("plot_svg: sub-hourly intervals get time-of-day ticks with the date under day changes") {
  PlotInput p;
  p.client = "c";
  p.model = "m";
  p.metric_label = "operations per 1m";
  p.start = std::chrono::sys_days{std::chrono::year{2025} / 1 / 4} + 23h;
  p.interval = 1min;
  p.history.assign(100, 3);
  p.mean.assign(20, 3);
  std::string svg = render_svg(p);
  check_well_formed(svg);
  // 119 minutes: 15-minute steps from 23:00.
  for (const char* label : {">23:00<", ">23:15<", ">00:00<", ">00:45<", ">2025-01-04<", ">2025-01-05<"}) {
    CHECK_MESSAGE(svg.find(label) != std::string::npos, label);
  }
  CHECK(svg.find(">01:00<") == std::string::npos);  // after the last point
  CHECK(count(svg, ">2025-01-05<") == 1);           // only where the date changes
}

TEST_CASE("plot_svg: large values get k/M suffixes") {
  PlotInput p;
  p.client = "c";
  p.model = "m";
  p.metric_label = "bytes per 1m";
  p.interval = 1min;
  p.history = {0, 1.2e6, 2e6, 1.7e6};
  std::string svg = render_svg(p);
  check_well_formed(svg);
  for (const char* label : {">0<", ">0.5M<", ">1.0M<", ">2.0M<"}) CHECK_MESSAGE(svg.find(label) != std::string::npos, label);
}

TEST_CASE("plot_svg: a long history is cut to its last points and the subtitle says so") {
  PlotInput p = daily_cycle(10000, 24, false);
  p.interval = 1min;
  std::string svg = render_svg(p);
  check_well_formed(svg);
  CHECK(svg.find("history: last 2880 of 10000 points") != std::string::npos);
  std::string data = data_group(svg);
  std::size_t history = data.find("<path d=\"M");
  std::string path = data.substr(history, data.find('"', history + 9) - history);
  CHECK(count(path, "L") == 2879);

  p.max_history_points = 50;
  svg = render_svg(p);
  CHECK(svg.find("history: last 50 of 10000 points") != std::string::npos);
  PlotInput short_history = daily_cycle(100, 24, false);
  CHECK(render_svg(short_history).find("history: last") == std::string::npos);
}

TEST_CASE("plot_svg: edge cases render without NaN and stay well-formed") {
  SUBCASE("constant series") {
    PlotInput p = daily_cycle(0, 0, false);
    p.history.assign(50, 7);
    p.mean.assign(5, 7);
    p.lo80 = p.hi80 = p.lo95 = p.hi95 = p.mean;
    std::string svg = render_svg(p);
    check_well_formed(svg);
    CHECK(svg.find(">0<") != std::string::npos);  // anchored at zero
    CHECK(svg.find(">8<") != std::string::npos);  // 0..8 in steps of 2
  }
  SUBCASE("all zeros") {
    PlotInput p = daily_cycle(0, 0, false);
    p.history.assign(50, 0);
    p.mean.assign(5, 0);
    p.lo80 = p.hi80 = p.lo95 = p.hi95 = p.mean;
    p.actual.assign(5, 0);
    std::string svg = render_svg(p);
    check_well_formed(svg);
    CHECK(svg.find(">1.0<") != std::string::npos);  // a unit axis 0..1
    CHECK(svg.find(">0.0<") != std::string::npos);
  }
  SUBCASE("one point of history, no forecast") {
    PlotInput p = daily_cycle(1, 0, false);
    std::string svg = render_svg(p);
    check_well_formed(svg);
    std::string data = data_group(svg);
    CHECK(count(data, "<circle") == 1);  // a lone point is a dot
    CHECK(count(data, "<path") == 0);
    CHECK(count(data, "<polygon") == 0);
    CHECK(svg.find(">forecast (mean)<") == std::string::npos);
    CHECK(svg.find(">history<") != std::string::npos);
  }
  SUBCASE("a one-step forecast shows its intervals as bars") {
    PlotInput p = daily_cycle(30, 1, true);
    std::string svg = render_svg(p);
    check_well_formed(svg);
    std::string data = data_group(svg);
    CHECK(count(data, "<polygon") == 2);
    CHECK(count(data, "<circle") == 3);  // mean dot, actual dot, actual marker
  }
  SUBCASE("nothing at all") {
    PlotInput p;
    std::string svg = render_svg(p);
    check_well_formed(svg);
    CHECK(svg.find(">no data<") != std::string::npos);
    CHECK(svg.find("point number") != std::string::npos);  // no interval given
  }
  SUBCASE("gaps (NaN) break lines and bands") {
    PlotInput p = daily_cycle(20, 6, false);
    p.history[10] = std::nan("");
    p.lo95[3] = std::nan("");
    p.hi80[0] = INFINITY;
    std::string svg = render_svg(p);
    check_well_formed(svg);
    std::string data = data_group(svg);
    std::size_t history = data.find("<path d=\"M");
    std::string path = data.substr(history, data.find('"', history + 9) - history);
    CHECK(count(path, "M") == 2);
    CHECK(count(data, "<polygon") == 3);  // 95%: points 0-2 and 4-5; 80%: points 1-5
  }
  SUBCASE("negative values are not forced to zero") {
    PlotInput p = daily_cycle(0, 0, false);
    p.history = {-5, -3, -4};
    std::string svg = render_svg(p);
    check_well_formed(svg);
    CHECK(svg.find(">-5.0<") != std::string::npos);
    CHECK(svg.find(">0<") == std::string::npos);
  }
}

TEST_CASE("plot_svg: names with control characters and invalid UTF-8 still give a well-formed file") {
  PlotInput p = daily_cycle(10, 2, false);
  p.client = std::string("a\x01\x1f\xc3(\xed\xa0\x80z\xef\xbf\xbe", 14);
  p.model = std::string(300, 'x');
  std::string svg = render_svg(p);
  check_well_formed(svg);
  CHECK(svg.find("a\xef\xbf\xbd") != std::string::npos);  // U+FFFD in place of \x01
  // The visible title is cut with an ellipsis; the <title> keeps all of it.
  CHECK(count(svg, std::string(300, 'x')) == 1);
  CHECK(svg.find("x\u2026</text>") != std::string::npos);
}

TEST_CASE("plot_svg: write_svg replaces the file atomically and names the path on errors") {
  aiops::test::TempDir dir;
  PlotInput p = daily_cycle(48, 12, true);
  auto file = dir / "plot.svg";
  {
    std::ofstream old(file);
    old << "old";
  }
  REQUIRE(write_svg(file, p).ok());
  CHECK(read_file(file) == render_svg(p));
  CHECK_FALSE(std::filesystem::exists(dir / "plot.svg.tmp"));
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()) == 1);

  auto missing = dir / "no-such-dir" / "plot.svg";
  aiops::Status s = write_svg(missing, p);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code() == aiops::Errc::not_found);
  CHECK(s.error().message().find(missing.string()) != std::string::npos);
}

TEST_CASE("plot_file_name: safe characters only, reversible, stable") {
  CHECK(plot_file_name("hm_0") == "hm_0.svg");
  CHECK(plot_file_name("web-01.example.com") == "web-01.example.com.svg");
  CHECK(plot_file_name("a/b") == "a~2Fb.svg");
  CHECK(plot_file_name("..") == "~2E..svg");
  CHECK(plot_file_name("-rf") == "~2Drf.svg");
  CHECK(plot_file_name("") == "~.svg");
  CHECK(plot_file_name("~") == "~7E.svg");
  CHECK(plot_file_name("a b") == "a~20b.svg");
  CHECK(plot_file_name("\xc3\xa4") == "~C3~A4.svg");
  CHECK(plot_file_name(std::string_view("a\0b", 3)) == "a~00b.svg");

  for (std::string name : {"x/../y", "C:\\temp", "a~2Fb", "%2F", "\n", "...", "a.", "~~", "*?<>|\"'"}) {
    std::string file = plot_file_name(name);
    INFO(name << " -> " << file);
    CHECK(file.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~") ==
          std::string::npos);
    CHECK(file[0] != '.');
    CHECK(file[0] != '-');
    CHECK(unescape(file) == name);
  }
}

TEST_CASE("plot_file_name: long names are shortened with a hash and stay distinct") {
  std::string base(300, 'a');
  std::string file = plot_file_name(base);
  CHECK(file.size() == 180 + 2 + 16 + 4);
  CHECK(file.substr(0, 180) == std::string(180, 'a'));
  CHECK(file.substr(180, 2) == "~~");
  CHECK(file == plot_file_name(base));  // stable

  // Same first 180 bytes, different tails.
  CHECK(plot_file_name(base + "b") != file);
  CHECK(plot_file_name(std::string(299, 'a') + "b") != file);
  // Escapes are never split: 61 escaped bytes take 183 > 180, so 60 are kept.
  std::string slashes(100, '/');
  std::string cut = plot_file_name(slashes);
  CHECK(cut.substr(0, 182) == [] {
    std::string s;
    for (int i = 0; i < 60; ++i) s += "~2F";
    return s + "~~";
  }());
  CHECK(cut.size() <= 255);
}

TEST_CASE("plot_file_name: distinct names give distinct files (a deterministic sample)") {
  std::mt19937_64 rng(42);
  const std::string alphabet = std::string("ab~2F/.-_ \xc3\xa4") + std::string(1, '\0');
  std::map<std::string, std::string> seen;  // file -> name
  std::set<std::string> names;
  for (int i = 0; i < 4000; ++i) {
    std::size_t length = rng() % 8;
    if (i % 10 == 0) length = 60 + rng() % 20;  // some past the shortening limit
    std::string name;
    for (std::size_t k = 0; k < length; ++k) name += alphabet[rng() % alphabet.size()];
    if (!names.insert(name).second) continue;
    std::string file = plot_file_name(name);
    auto [it, fresh] = seen.emplace(file, name);
    INFO("collision: '" << it->second << "' and '" << name << "' -> " << file);
    CHECK(fresh);
    CHECK(file.size() <= 255);
  }
  CHECK(names.size() > 2000);
}
