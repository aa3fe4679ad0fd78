#include "aiops/load/record_file.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstring>

namespace aiops::load {
namespace {
constexpr const char* header_line = "# aiops load record v1";
}

Result<std::unique_ptr<RecordWriter>> RecordWriter::open(const std::filesystem::path& file) {
  std::error_code ec;
  bool fresh = !std::filesystem::exists(file, ec) || std::filesystem::file_size(file, ec) == 0;
  std::FILE* f = std::fopen(file.c_str(), "a");
  if (f == nullptr) return error_from_errno(errno, "open record file " + file.string());
  std::unique_ptr<RecordWriter> w(new RecordWriter(f, file));
  if (fresh) w->line("%s\n", header_line);
  return w;
}

RecordWriter::~RecordWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void RecordWriter::line(const char* fmt, ...) {
  std::lock_guard lock(mu_);
  va_list args;
  va_start(args, fmt);
  if (std::vfprintf(file_, fmt, args) < 0 && error_ == 0) error_ = errno;
  va_end(args);
}

void RecordWriter::run(uint64_t run, uint32_t write_size) { line("run %016" PRIx64 " %" PRIu32 "\n", run, write_size); }

void RecordWriter::issued(const StampId& id, uint32_t volume, uint64_t offset) {
  line("I %016" PRIx64 " %" PRIu32 " %" PRIu64 " %" PRIu32 " %" PRIu64 "\n", id.run, id.client, id.sequence, volume,
       offset);
}

void RecordWriter::acked(const StampId& id) {
  line("A %016" PRIx64 " %" PRIu32 " %" PRIu64 "\n", id.run, id.client, id.sequence);
}

Status RecordWriter::close() {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return {};
  int err = error_;
  if (std::fclose(file_) != 0 && err == 0) err = errno;
  file_ = nullptr;
  if (err != 0) return error_from_errno(err, "write record file " + path_.string());
  return {};
}

Result<std::unique_ptr<RecordReader>> RecordReader::open(const std::filesystem::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "r");
  if (f == nullptr) return error_from_errno(errno, "open record file " + file.string());
  return std::unique_ptr<RecordReader>(new RecordReader(f, file));
}

RecordReader::~RecordReader() { std::fclose(file_); }

Error RecordReader::bad(const std::string& what) const {
  return Error(Errc::invalid_input, path_.string() + ":" + std::to_string(line_) + ": " + what);
}

Result<bool> RecordReader::next(RecordEvent& e) {
  char* raw = nullptr;
  size_t cap = 0;
  while (true) {
    errno = 0;
    ssize_t n = ::getline(&raw, &cap, file_);
    if (n < 0) {
      int err = errno;
      std::free(raw);
      if (err != 0) return error_from_errno(err, "read record file " + path_.string());
      return false;
    }
    ++line_;
    std::string text(raw, static_cast<size_t>(n));
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (text.empty()) continue;
    if (line_ == 1 && text != header_line) {
      std::free(raw);
      return bad("not an aiops load record (the first line should be \"" + std::string(header_line) + "\")");
    }
    if (text[0] == '#') continue;
    e = RecordEvent{};
    e.line = line_;
    char kind[8] = {};
    int used = 0;
    bool ok = false;
    if (text.rfind("run ", 0) == 0) {
      e.kind = RecordEvent::Kind::run;
      ok = std::sscanf(text.c_str(), "run %16" SCNx64 " %" SCNu32 "%n", &e.id.run, &e.write_size, &used) == 2;
    } else if (std::sscanf(text.c_str(), "%7s", kind) == 1 && std::strcmp(kind, "I") == 0) {
      e.kind = RecordEvent::Kind::issued;
      ok = std::sscanf(text.c_str(), "I %16" SCNx64 " %" SCNu32 " %" SCNu64 " %" SCNu32 " %" SCNu64 "%n", &e.id.run,
                       &e.id.client, &e.id.sequence, &e.volume, &e.offset, &used) == 5;
    } else if (std::strcmp(kind, "A") == 0) {
      e.kind = RecordEvent::Kind::acked;
      ok = std::sscanf(text.c_str(), "A %16" SCNx64 " %" SCNu32 " %" SCNu64 "%n", &e.id.run, &e.id.client,
                       &e.id.sequence, &used) == 3;
    }
    std::free(raw);
    if (!ok || static_cast<size_t>(used) != text.size()) return bad("malformed line \"" + text + "\"");
    return true;
  }
}

}  // namespace aiops::load
