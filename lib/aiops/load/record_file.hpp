#pragma once
// The record `aiops load --record FILE` keeps and `aiops verify` checks:
// every write issued and every acknowledgement received, in the order they
// happened in the load process. Several runs may append to one file.
//
// Text, one event per line, fields separated by one space:
//
//   # aiops load record v1                          first line of the file
//   run RUN WRITE_SIZE                              a run starts
//   I RUN CLIENT SEQUENCE VOLUME OFFSET             write issued (before it is sent)
//   A RUN CLIENT SEQUENCE                           write acknowledged (after the reply)
//
// RUN is 16 lowercase hex digits, the rest decimal. An I line is written
// before the request goes out and an A line after its reply came back, so
// the file order is a valid order of the events.
//
// Thread-safety: RecordWriter may be used from many threads; lines never
// interleave. RecordReader is single-threaded.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include "aiops/core/error.hpp"
#include "aiops/load/stamp.hpp"

namespace aiops::load {

class RecordWriter {
 public:
  /// Opens FILE for appending (creating it with the header line).
  [[nodiscard]] static Result<std::unique_ptr<RecordWriter>> open(const std::filesystem::path& file);
  ~RecordWriter();

  void run(uint64_t run, uint32_t write_size);
  void issued(const StampId& id, uint32_t volume, uint64_t offset);
  void acked(const StampId& id);
  /// Flushes buffered lines; reports the first write error.
  [[nodiscard]] Status close();

 private:
  RecordWriter(std::FILE* f, std::filesystem::path path) : file_(f), path_(std::move(path)) {}
  void line(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

  std::mutex mu_;
  std::FILE* file_;
  std::filesystem::path path_;
  int error_ = 0;
};

struct RecordEvent {
  enum class Kind { run, issued, acked } kind = Kind::run;
  StampId id;               // run: only id.run
  uint32_t volume = 0;      // issued
  uint64_t offset = 0;      // issued
  uint32_t write_size = 0;  // run
  uint64_t line = 0;
};

class RecordReader {
 public:
  [[nodiscard]] static Result<std::unique_ptr<RecordReader>> open(const std::filesystem::path& file);
  ~RecordReader();

  /// The next event; false at the end. Malformed lines are errors naming
  /// file:line.
  [[nodiscard]] Result<bool> next(RecordEvent& event);

 private:
  RecordReader(std::FILE* f, std::filesystem::path path) : file_(f), path_(std::move(path)) {}
  Error bad(const std::string& what) const;

  std::FILE* file_;
  std::filesystem::path path_;
  uint64_t line_ = 0;
  std::string buf_;
};

}  // namespace aiops::load
