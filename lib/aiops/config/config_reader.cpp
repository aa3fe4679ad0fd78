#include "aiops/config/config_reader.hpp"

#include <algorithm>
#include <cmath>

#include "aiops/config/toml_text.hpp"
#include "aiops/core/units.hpp"

namespace aiops::config::detail {
namespace {

// The value of a scalar as an error message quotes it.
std::string quote_value(const toml::node& node) {
  if (auto v = node.as_integer()) return std::to_string(v->get());
  if (auto v = node.as_floating_point()) return std::isfinite(v->get()) ? toml_float(v->get()) : "a non-finite float";
  if (auto v = node.as_boolean()) return v->get() ? "true" : "false";
  if (auto v = node.as_string()) return toml_string(v->get());
  return {};
}

// "an integer (512)": what a wrong-type error says it found.
std::string found(const toml::node& node) {
  std::string out(type_name(node.type()));
  if (std::string value = quote_value(node); !value.empty()) out += " (" + value + ")";
  return out;
}

template <class T, class Format>
void check_bounds(const Setting& setting, T value, Bounds<T> bounds, Format format) {
  // "greater than 0s" says what "at least 1ns" means.
  if (value < bounds.min && value == T{0} && bounds.min == T{1})
    setting.fail("must be greater than " + format(value));
  if (value < bounds.min) setting.fail(format(value) + " is below the minimum of " + format(bounds.min));
  if (value > bounds.max) setting.fail(format(value) + " is above the maximum of " + format(bounds.max));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

bool name_char_allowed(char c, bool upper_case_and_dot) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') return true;
  return upper_case_and_dot && ((c >= 'A' && c <= 'Z') || c == '.');
}

}  // namespace

void fail(const SourceFile& file, const toml::source_position& where, std::string key, std::string problem) {
  throw ConfigError(file.name, where.line, where.column, std::move(key), std::move(problem));
}

std::string_view type_name(toml::node_type type) noexcept {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "an unknown type";
}

std::string_view closest_key(std::string_view unknown, std::span<const std::string_view> known) {
  std::string_view best;
  std::size_t best_distance = SIZE_MAX;
  for (std::string_view candidate : known) {
    std::size_t d = edit_distance(unknown, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  // A third of the letters wrong still reads as a typo; more is another word.
  std::size_t tolerance = std::max<std::size_t>(1, unknown.size() / 3);
  return best_distance <= tolerance && best_distance < best.size() ? best : std::string_view{};
}

// ---- Setting ----

void Setting::fail(std::string problem) const { detail::fail(*file_, node_->source().begin, key_, std::move(problem)); }

void Setting::wrong_type(std::string_view expected) const {
  fail("expected " + std::string(expected) + ", found " + found(*node_));
}

std::string Setting::string() const {
  if (!node_->is_string()) wrong_type("a string");
  return node_->as_string()->get();
}

bool Setting::boolean() const {
  if (!node_->is_boolean()) wrong_type("true or false");
  return node_->as_boolean()->get();
}

std::optional<std::string> name_problem(std::string_view value, const NameRule& rule) {
  bool valid = !value.empty() && value.size() <= rule.max_length;
  for (char c : value) valid = valid && name_char_allowed(c, rule.upper_case_and_dot);
  if (valid) return std::nullopt;
  return toml_string(value) + " is not a valid " + std::string(rule.what) + ": use 1 to " +
         std::to_string(rule.max_length) + " characters from " +
         (rule.upper_case_and_dot ? "A-Z, a-z, 0-9, \"_\", \".\" and \"-\"" : "a-z, 0-9, \"_\" and \"-\"");
}

std::string Setting::name(const NameRule& rule) const {
  std::string value = string();
  if (auto problem = name_problem(value, rule)) fail(std::move(*problem));
  return value;
}

std::int64_t Setting::integer(Bounds<std::int64_t> bounds) const {
  if (!node_->is_integer()) wrong_type("an integer");
  std::int64_t value = node_->as_integer()->get();
  check_bounds(*this, value, bounds, [](std::int64_t v) { return std::to_string(v); });
  return value;
}

double Setting::number(Bounds<double> bounds) const {
  double value = 0;
  if (auto integer_value = node_->as_integer()) value = static_cast<double>(integer_value->get());
  else if (auto float_value = node_->as_floating_point()) value = float_value->get();
  else wrong_type("a number");
  if (!std::isfinite(value)) fail("expected a finite number, found " + found(*node_));
  check_bounds(*this, value, bounds, toml_float);
  return value;
}

std::uint64_t Setting::size(Bounds<std::uint64_t> bounds) const {
  if (!node_->is_string()) {
    std::string hint = "a size as a string with a unit, e.g. \"64MiB\"";
    if (auto v = node_->as_integer(); v && v->get() >= 0)
      fail("expected " + hint + ", found " + found(*node_) + "; write \"" +
           format_size(static_cast<std::uint64_t>(v->get())) + "\"");
    wrong_type(hint);
  }
  auto parsed = parse_size(node_->as_string()->get());
  if (!parsed.ok()) fail(parsed.error().message());
  check_bounds(*this, parsed.value(), bounds, format_size);
  return parsed.value();
}

std::chrono::nanoseconds Setting::duration(Bounds<std::chrono::nanoseconds> bounds) const {
  if (!node_->is_string()) wrong_type("a duration as a string with a unit, e.g. \"30s\"");
  auto parsed = parse_duration(node_->as_string()->get());
  if (!parsed.ok()) fail(parsed.error().message());
  check_bounds(*this, parsed.value(), bounds, format_duration);
  return parsed.value();
}

std::filesystem::path Setting::path() const {
  std::string text = string();
  if (text.empty()) return {};
  std::filesystem::path value(text);
  if (value.is_relative()) value = file_->directory / value;
  return value.lexically_normal();
}

std::string_view Setting::one_of(std::span<const std::string_view> allowed) const {
  std::string value = string();
  for (std::string_view candidate : allowed)
    if (candidate == value) return candidate;
  std::string list;
  for (std::string_view candidate : allowed) list += (list.empty() ? "" : ", ") + toml_string(candidate);
  fail(toml_string(value) + " is not one of the allowed values " + list);
}

const toml::array& Setting::array(std::string_view expected) const {
  if (!node_->is_array()) wrong_type(expected);
  return *node_->as_array();
}

// ---- Section ----

std::string Section::key_path(std::string_view key) const {
  return path_.empty() ? toml_key(key) : path_ + "." + toml_key(key);
}

void Section::fail(std::string key, std::string problem) const {
  detail::fail(*file_, table_->source().begin, std::move(key), std::move(problem));
}

void Section::allow_only(std::span<const std::string_view> known) const {
  for (auto&& [key, node] : *table_) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    std::string problem = node.is_table() || node.is_array_of_tables() ? "unknown table" : "unknown key";
    if (std::string_view close = closest_key(key.str(), known); !close.empty())
      problem += " (did you mean " + toml_string(close) + "?)";
    detail::fail(*file_, key.source().begin, key_path(key.str()), std::move(problem));
  }
}

std::optional<Setting> Section::find(std::string_view key) const {
  const toml::node* node = table_->get(key);
  if (node == nullptr) return std::nullopt;
  return Setting(*file_, *node, key_path(key));
}

Setting Section::require(std::string_view key) const {
  auto setting = find(key);
  if (!setting) fail(key_path(key), "required key is missing");
  return *setting;
}

std::string Section::string_or(std::string_view key, std::string fallback) const {
  auto setting = find(key);
  return setting ? setting->string() : fallback;
}

std::int64_t Section::integer_or(std::string_view key, std::int64_t fallback, Bounds<std::int64_t> b) const {
  auto setting = find(key);
  return setting ? setting->integer(b) : fallback;
}

double Section::number_or(std::string_view key, double fallback, Bounds<double> b) const {
  auto setting = find(key);
  return setting ? setting->number(b) : fallback;
}

std::uint64_t Section::size_or(std::string_view key, std::uint64_t fallback, Bounds<std::uint64_t> b) const {
  auto setting = find(key);
  return setting ? setting->size(b) : fallback;
}

std::chrono::nanoseconds Section::duration_or(std::string_view key, std::chrono::nanoseconds fallback,
                                              Bounds<std::chrono::nanoseconds> b) const {
  auto setting = find(key);
  return setting ? setting->duration(b) : fallback;
}

std::filesystem::path Section::path_or(std::string_view key, std::filesystem::path fallback) const {
  auto setting = find(key);
  return setting ? setting->path() : fallback;
}

Section Section::as_section(const Setting& setting, std::string_view expected) {
  if (!setting.node().is_table())
    setting.fail("expected " + std::string(expected) + ", found " + found(setting.node()));
  return Section(setting.file(), *setting.node().as_table(), setting.key());
}

Section Section::section(std::string_view key) const {
  static const toml::table empty;
  auto setting = find(key);
  if (!setting) return Section(*file_, empty, key_path(key));
  return as_section(*setting, "a table ([" + key_path(key) + "])");
}

std::vector<Section> Section::sections(std::string_view key) const {
  auto setting = find(key);
  if (!setting) return {};
  std::string header = "[[" + key_path(key) + "]]";
  if (setting->node().is_table())
    setting->fail("expected an array of tables, found a table; write " + header + " for each one");
  const toml::array& array = setting->array("an array of tables (" + header + ")");
  std::vector<Section> out;
  for (std::size_t i = 0; i < array.size(); ++i) {
    Setting element(*file_, *array.get(i), setting->key() + "[" + std::to_string(i) + "]");
    out.push_back(as_section(element, "a table"));
  }
  return out;
}

}  // namespace aiops::config::detail
