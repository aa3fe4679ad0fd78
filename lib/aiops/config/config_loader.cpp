#include "aiops/config/config_loader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "aiops/config/config_sections.hpp"

namespace aiops::config {
namespace {

using detail::Section;
using detail::SourceFile;

[[noreturn]] void unreadable(const std::filesystem::path& path, int sys_errno) {
  throw ConfigError(path.string(), 0, 0, "(file)",
                    std::string("cannot read the configuration file: ") + std::strerror(sys_errno));
}

std::string read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) unreadable(path, errno);
  std::string text;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      unreadable(path, saved);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

SourceFile source_file_for(const std::filesystem::path& source) {
  if (source.empty()) return SourceFile{"(text)", std::filesystem::current_path()};
  return SourceFile{source.string(), std::filesystem::absolute(source).lexically_normal().parent_path()};
}

toml::table parse_toml(std::string_view text, const SourceFile& file) {
  try {
    return toml::parse(text, std::string_view(file.name));
  } catch (const toml::parse_error& e) {
    detail::fail(file, e.source().begin, "(syntax)", std::string(e.description()));
  }
}

}  // namespace

ConfigError::ConfigError(std::string file_name, std::uint32_t line_number, std::uint32_t column_number,
                         std::string key_path, std::string problem_text)
    : std::runtime_error(file_name + ":" + std::to_string(line_number) + ":" + std::to_string(column_number) + ": " +
                         key_path + ": " + problem_text),
      file(std::move(file_name)),
      line(line_number),
      column(column_number),
      key(std::move(key_path)),
      problem(std::move(problem_text)) {}

Config load_config(const std::filesystem::path& file) { return parse_config(read_file(file), file); }

Config parse_config(std::string_view text, const std::filesystem::path& source) {
  SourceFile file = source_file_for(source);
  toml::table document = parse_toml(text, file);
  Section root(file, document, "");
  root.allow_only(detail::kRootKeys);

  Config config;
  if (!source.empty()) config.source_file = std::filesystem::absolute(source).lexically_normal();
  config.worker = detail::read_worker(root.section("worker"));
  config.listeners = detail::read_listeners(root);
  config.log = detail::read_log(root.section("log"));
  config.buffer = detail::read_buffer(root.section("buffer"));
  config.volumes = detail::read_volumes(root);
  config.sla = detail::read_sla(root);
  config.clients = detail::read_clients(root, config);
  config.exports = detail::read_exports(root, config);
  config.forecast = detail::read_forecast(root.section("forecast"), config.worker.data_dir);
  config.scheduler = detail::read_scheduler(root.section("scheduler"));
  return config;
}

std::vector<std::string> config_keys() {
  struct Table {
    std::string_view prefix;
    std::span<const std::string_view> keys;
  };
  const std::array<Table, 10> tables{{
      {"worker.", detail::kWorkerKeys},
      {"listener[].", detail::kListenerKeys},
      {"log.", detail::kLogKeys},
      {"buffer.", detail::kBufferKeys},
      {"volume[].", detail::kVolumeKeys},
      {"sla.<class>.", detail::kSlaClassKeys},
      {"client[].", detail::kClientKeys},
      {"export[].", detail::kExportKeys},
      {"forecast.", detail::kForecastKeys},
      {"scheduler.", detail::kSchedulerKeys},
  }};
  std::vector<std::string> out;
  for (const Table& table : tables)
    for (std::string_view key : table.keys) out.push_back(std::string(table.prefix) + std::string(key));
  return out;
}

}  // namespace aiops::config
