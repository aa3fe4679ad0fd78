#pragma once
// Typed, located reads from a parsed TOML document, for the loader's section
// functions (config_loader.cpp). Internal to aiops/config.
//
// A Section is one table of the file together with its dotted path; a
// Setting is one value with its key path. Every read checks type, range and
// form and, on the first problem, throws ConfigError pointing at the value
// (or, for a missing key, at the table). Both are views: they refer to the
// toml++ document and the SourceFile, which must outlive them.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "aiops/config/config.hpp"
#include "aiops/config/config_loader.hpp"

namespace aiops::config::detail {

// The file being loaded, as error messages and relative paths need it.
struct SourceFile {
  std::string name;                 // as the caller gave it; starts each message
  std::filesystem::path directory;  // absolute; relative paths resolve against it
};

[[noreturn]] void fail(const SourceFile& file, const toml::source_position& where, std::string key,
                       std::string problem);

// Inclusive bounds of a number, size or duration.
template <class T>
struct Bounds {
  T min;
  T max;
};

// What names of things (workers, volumes, clients, SLA classes) may contain.
struct NameRule {
  std::string_view what;  // "volume name"
  std::size_t max_length;
  bool upper_case_and_dot;  // [A-Za-z0-9_.-] rather than [a-z0-9_-]
};

// Why `value` breaks `rule`, or nothing when it keeps it.
[[nodiscard]] std::optional<std::string> name_problem(std::string_view value, const NameRule& rule);

// "an integer", "a table", ...: how an error names the type it found.
[[nodiscard]] std::string_view type_name(toml::node_type type) noexcept;

class Setting {
 public:
  Setting(const SourceFile& file, const toml::node& node, std::string key)
      : file_(&file), node_(&node), key_(std::move(key)) {}

  [[nodiscard]] const std::string& key() const noexcept { return key_; }
  [[nodiscard]] const toml::node& node() const noexcept { return *node_; }
  [[nodiscard]] std::uint32_t line() const noexcept { return node_->source().begin.line; }
  [[noreturn]] void fail(std::string problem) const;

  [[nodiscard]] std::string string() const;
  [[nodiscard]] bool boolean() const;
  [[nodiscard]] std::string name(const NameRule& rule) const;
  [[nodiscard]] std::int64_t integer(Bounds<std::int64_t> bounds) const;
  [[nodiscard]] double number(Bounds<double> bounds) const;  // a float or an integer
  [[nodiscard]] std::uint64_t size(Bounds<std::uint64_t> bounds) const;
  [[nodiscard]] std::chrono::nanoseconds duration(Bounds<std::chrono::nanoseconds> bounds) const;
  // Absolute and lexically normal; "" stays "" (callers decide what it means).
  [[nodiscard]] std::filesystem::path path() const;
  // The element of `allowed` that is the value.
  [[nodiscard]] std::string_view one_of(std::span<const std::string_view> allowed) const;
  // The element of `allowed` whose to_string() is the value.
  template <class E>
  [[nodiscard]] E choice(std::span<const E> allowed) const;
  [[nodiscard]] const toml::array& array(std::string_view expected) const;
  [[nodiscard]] const SourceFile& file() const noexcept { return *file_; }

 private:
  [[noreturn]] void wrong_type(std::string_view expected) const;

  const SourceFile* file_;
  const toml::node* node_;
  std::string key_;
};

class Section {
 public:
  Section(const SourceFile& file, const toml::table& table, std::string path)
      : file_(&file), table_(&table), path_(std::move(path)) {}

  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] const toml::table& table() const noexcept { return *table_; }
  [[nodiscard]] const SourceFile& file() const noexcept { return *file_; }
  /// "log" + "segment_size" -> "log.segment_size".
  [[nodiscard]] std::string key_path(std::string_view key) const;
  /// Throws at the table itself (for a missing key or a missing table).
  [[noreturn]] void fail(std::string key, std::string problem) const;

  /// Refuses any key not in `known`, suggesting the closest known one.
  void allow_only(std::span<const std::string_view> known) const;
  [[nodiscard]] std::optional<Setting> find(std::string_view key) const;
  [[nodiscard]] Setting require(std::string_view key) const;

  // The value of `key`, or `fallback` when the key is absent.
  [[nodiscard]] std::string string_or(std::string_view key, std::string fallback) const;
  [[nodiscard]] std::int64_t integer_or(std::string_view key, std::int64_t fallback, Bounds<std::int64_t> b) const;
  [[nodiscard]] double number_or(std::string_view key, double fallback, Bounds<double> b) const;
  [[nodiscard]] std::uint64_t size_or(std::string_view key, std::uint64_t fallback, Bounds<std::uint64_t> b) const;
  [[nodiscard]] std::chrono::nanoseconds duration_or(std::string_view key, std::chrono::nanoseconds fallback,
                                                     Bounds<std::chrono::nanoseconds> b) const;
  [[nodiscard]] std::filesystem::path path_or(std::string_view key, std::filesystem::path fallback) const;
  template <class E>
  [[nodiscard]] E choice_or(std::string_view key, E fallback, std::span<const E> allowed) const {
    auto setting = find(key);
    return setting ? setting->choice(allowed) : fallback;
  }

  /// The table [key]; an empty one (same path) when absent.
  [[nodiscard]] Section section(std::string_view key) const;
  /// The tables [[key]]; none when absent.
  [[nodiscard]] std::vector<Section> sections(std::string_view key) const;
  /// The table at `setting`, whatever its syntax (inline or [header]).
  [[nodiscard]] static Section as_section(const Setting& setting, std::string_view expected);

 private:
  const SourceFile* file_;
  const toml::table* table_;
  std::string path_;
};

template <class E>
E Setting::choice(std::span<const E> allowed) const {
  std::vector<std::string_view> names;
  for (E candidate : allowed) names.push_back(to_string(candidate));
  std::string_view chosen = one_of(names);
  for (E candidate : allowed)
    if (to_string(candidate) == chosen) return candidate;
  return allowed.front();  // not reached: one_of returned one of the names
}

/// The known key closest to `unknown`, when it is close enough to be the
/// one meant (a typo, not a different word); empty otherwise.
[[nodiscard]] std::string_view closest_key(std::string_view unknown, std::span<const std::string_view> known);

}  // namespace aiops::config::detail
