#include "aiops/wal/segment.hpp"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "aiops/core/bit_repair.hpp"
#include "aiops/core/checksum.hpp"
#include "aiops/core/endian.hpp"

namespace aiops::wal {
namespace {

constexpr char segment_magic[8] = {'A', 'I', 'O', 'P', 'S', 'L', 'O', 'G'};
constexpr size_t read_chunk_bytes = 1 << 20;

// Sequential reads of a segment in large chunks; views stay valid until the
// next call.
class ChunkReader {
 public:
  ChunkReader(io::File& file, uint64_t end) : file_(file), end_(end) {}

  Result<const std::byte*> view(uint64_t offset, size_t length) {
    if (offset >= start_ && offset + length <= start_ + filled_) return buf_.data() + (offset - start_);
    size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(length, read_chunk_bytes), end_ - offset));
    buf_.resize(std::max(buf_.size(), want));
    AIOPS_ASSIGN(size_t got, io::read_full(file_, offset, std::span(buf_.data(), want)));
    start_ = offset;
    filled_ = got;
    if (got < length)
      return Error(Errc::io_error, "read " + file_.path().string() + " at offset " + std::to_string(offset) +
                                       ": file shorter than expected (" + std::to_string(got) + " of " +
                                       std::to_string(length) + " bytes)");
    return buf_.data();
  }

 private:
  io::File& file_;
  uint64_t end_;
  std::vector<std::byte> buf_;
  uint64_t start_ = 0;
  size_t filled_ = 0;
};

struct HeaderCheck {
  HeaderVerdict verdict = HeaderVerdict::not_a_record;
  SegmentHeader header;
  std::string problem;
};

// As for records (record.cpp): a header that restoring the magic or flipping
// one bit makes valid is damage; anything else is what an interrupted
// creation leaves behind.
bool segment_header_repairable(const std::byte* b) {
  const uint64_t stored = load_le<uint64_t>(b + 40);
  if (std::popcount(stored ^ checksum64(b, 40)) == 1) return true;
  std::byte copy[40];
  std::memcpy(copy, b, sizeof copy);
  std::memcpy(copy, segment_magic, 8);
  if (checksum64(copy, 40) == stored) return true;
  std::memcpy(copy, b, sizeof copy);
  return one_bit_from_valid(std::span(copy), [&](std::span<std::byte> c) { return checksum64(c.data(), 40) == stored; });
}

HeaderCheck check_segment_header(const std::byte* b, uint64_t index) {
  HeaderCheck c;
  bool magic_ok = std::memcmp(b, segment_magic, 8) == 0;
  if (load_le<uint64_t>(b + 40) != checksum64(b, 40)) {
    c.verdict = (magic_ok || segment_header_repairable(b)) ? HeaderVerdict::damaged : HeaderVerdict::not_a_record;
    c.problem = c.verdict == HeaderVerdict::not_a_record ? "segment header is not a segment header"
                : magic_ok                                ? "segment header checksum mismatch"
                                                          : "segment header damaged (bad magic)";
    return c;
  }
  c.verdict = HeaderVerdict::damaged;
  if (!magic_ok) c.problem = "segment header has a bad magic";
  else if (uint16_t v = load_le<uint16_t>(b + 8); v != segment_version)
    c.problem = "unsupported segment version " + std::to_string(v) + " (this aiops reads version 1)";
  else if (load_le<uint16_t>(b + 10) != segment_header_bytes || load_le<uint32_t>(b + 12) != 0)
    c.problem = "segment header has unexpected size or reserved fields";
  else if (load_le<uint64_t>(b + 16) != index)
    c.problem = "segment header names index " + std::to_string(load_le<uint64_t>(b + 16)) +
                " but the file name says " + std::to_string(index);
  else {
    c.verdict = HeaderVerdict::valid;
    c.header = {index, load_le<uint64_t>(b + 24), load_le<uint64_t>(b + 32)};
  }
  return c;
}

// One scan of one segment; the member functions are the steps of scan_segment.
class Scanner {
 public:
  Scanner(io::File& file, uint64_t index, const ScanOptions& options, uint64_t end)
      : file_(file), index_(index), opt_(options), end_(end), reader_(file, end) {}

  Status run(SegmentScan& scan);

 private:
  void report(Finding::Kind kind, uint64_t offset, std::string reason) {
    if (out_->findings.empty()) stopped_at_ = offset;
    out_->findings.push_back({kind, file_.path(), index_, offset, std::move(reason)});
  }
  // Damage at `offset` that is a torn tail only in the newest segment.
  void tail(uint64_t offset, std::string reason) {
    if (!opt_.newest) reason += " (only the newest segment may end unfinished)";
    report(opt_.newest ? Finding::Kind::torn_tail : Finding::Kind::corrupt, offset, std::move(reason));
  }
  Result<bool> scan_record();  // false: stop
  Result<std::optional<uint64_t>> find_next_record(uint64_t from);
  Result<bool> all_zero(uint64_t from);

  io::File& file_;
  uint64_t index_;
  const ScanOptions& opt_;
  uint64_t end_;
  ChunkReader reader_;
  SegmentScan* out_ = nullptr;
  uint64_t pos_ = segment_header_bytes;
  uint64_t expected_ = 0;
  uint64_t stopped_at_ = UINT64_MAX;
};

Status Scanner::run(SegmentScan& scan) {
  out_ = &scan;
  if (end_ < segment_header_bytes) {
    tail(0, "segment header cut short (" + std::to_string(end_) + " of 48 bytes)");
    return {};
  }
  AIOPS_ASSIGN(const std::byte* b, reader_.view(0, segment_header_bytes));
  HeaderCheck hc = check_segment_header(b, index_);
  if (hc.verdict == HeaderVerdict::not_a_record) {
    tail(0, hc.problem + " (unfinished segment creation)");
    return {};
  }
  if (hc.verdict == HeaderVerdict::damaged) {
    report(Finding::Kind::corrupt, 0, hc.problem);
    return {};
  }
  scan.header = hc.header;
  expected_ = hc.header.first_sequence;
  if (opt_.expected_first != 0 && hc.header.first_sequence != opt_.expected_first) {
    report(Finding::Kind::corrupt, 0,
           "segment starts at sequence " + std::to_string(hc.header.first_sequence) + " but the log before it ends at " +
               std::to_string(opt_.expected_first - 1));
    if (!opt_.keep_going) return {};
  }
  uint64_t valid_end = segment_header_bytes;
  uint64_t next_sequence = expected_;
  while (pos_ < end_) {
    AIOPS_ASSIGN(bool go_on, scan_record());
    if (stopped_at_ == UINT64_MAX) {
      valid_end = pos_;
      next_sequence = expected_;
    }
    if (!go_on) break;
  }
  scan.valid_end = valid_end;
  scan.next_sequence = next_sequence;
  scan.end_sequence = expected_;
  return {};
}

Result<bool> Scanner::scan_record() {
  uint64_t pos = pos_;
  if (end_ - pos < record_header_bytes) {
    tail(pos, "record header cut short (" + std::to_string(end_ - pos) + " bytes before the end of the file)");
    return false;
  }
  AIOPS_ASSIGN(const std::byte* hb, reader_.view(pos, record_header_bytes));
  DecodedHeader d = decode_record_header(hb);
  if (d.verdict == HeaderVerdict::valid) {
    const RecordHeader& h = d.header;
    uint64_t rec_end = pos + record_header_bytes + h.length;
    if (rec_end > end_) {
      tail(pos, "record " + std::to_string(h.sequence) + " of " + std::to_string(h.length) + " bytes runs " +
                    std::to_string(rec_end - end_) + " bytes past the end of the file");
      return false;
    }
    RecordHeaderBytes header_copy;
    std::memcpy(header_copy.data(), hb, record_header_bytes);
    AIOPS_ASSIGN(const std::byte* payload, reader_.view(pos + record_header_bytes, h.length));
    bool sum_ok = record_checksum_matches(header_copy.data(), checksum64(payload, h.length));
    bool seq_ok = h.sequence == expected_;
    if (!sum_ok || !seq_ok) {
      report(Finding::Kind::corrupt, pos,
             !sum_ok ? "checksum mismatch in record " + std::to_string(h.sequence) + " (" + std::to_string(h.length) +
                           " bytes)"
                     : "record has sequence " + std::to_string(h.sequence) + " where " + std::to_string(expected_) +
                           " was expected");
      if (!opt_.keep_going) return false;
      pos_ = rec_end;
      expected_ = h.sequence + 1;
      return true;
    }
    if (opt_.visit) opt_.visit({h, index_, pos, std::span(payload, h.length)});
    ++out_->records;
    pos_ = rec_end;
    expected_ = h.sequence + 1;
    return true;
  }
  std::string problem = d.problem;
  AIOPS_ASSIGN(std::optional<uint64_t> next, find_next_record(pos + 1));
  if (d.verdict == HeaderVerdict::damaged || next) {
    if (d.verdict == HeaderVerdict::not_a_record)
      problem = std::to_string(*next - pos) + " bytes that are not a record, followed by a record at byte " +
                std::to_string(*next);
    report(Finding::Kind::corrupt, pos, problem);
    if (!opt_.keep_going || !next) return false;
    pos_ = *next;
    AIOPS_ASSIGN(const std::byte* nb, reader_.view(pos_, record_header_bytes));
    expected_ = decode_record_header(nb).header.sequence;
    return true;
  }
  AIOPS_ASSIGN(bool zeros, all_zero(pos));
  tail(pos, std::to_string(end_ - pos) + (zeros ? " zero bytes" : " bytes that are not a record") +
                " after the last record");
  return false;
}

Result<std::optional<uint64_t>> Scanner::find_next_record(uint64_t from) {
  // Window by window, with an overlap of one header so no position is missed.
  for (uint64_t start = from; start + record_header_bytes <= end_;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(read_chunk_bytes, end_ - start));
    AIOPS_ASSIGN(const std::byte* w, reader_.view(start, len));
    for (size_t i = 0; i + record_header_bytes <= len; ++i) {
      if (load_le<uint32_t>(w + i) != record_magic) continue;
      if (decode_record_header(w + i).verdict == HeaderVerdict::valid) return std::optional<uint64_t>(start + i);
    }
    if (start + len >= end_) break;
    start += len - record_header_bytes + 1;
  }
  return std::optional<uint64_t>();
}

Result<bool> Scanner::all_zero(uint64_t from) {
  for (uint64_t off = from; off < end_;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(read_chunk_bytes, end_ - off));
    AIOPS_ASSIGN(const std::byte* w, reader_.view(off, len));
    if (std::any_of(w, w + len, [](std::byte b) { return b != std::byte{0}; })) return false;
    off += len;
  }
  return true;
}

}  // namespace

void encode_segment_header(const SegmentHeader& h, std::byte* out) noexcept {
  std::memcpy(out, segment_magic, 8);
  store_le<uint16_t>(out + 8, segment_version);
  store_le<uint16_t>(out + 10, static_cast<uint16_t>(segment_header_bytes));
  store_le<uint32_t>(out + 12, 0);
  store_le<uint64_t>(out + 16, h.index);
  store_le<uint64_t>(out + 24, h.first_sequence);
  store_le<uint64_t>(out + 32, h.generation);
  store_le<uint64_t>(out + 40, checksum64(out, 40));
}

std::string segment_file_name(uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx.wal", static_cast<unsigned long long>(index));
  return buf;
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != 20 || !name.ends_with(".wal")) return std::nullopt;
  uint64_t v = 0;
  for (char c : name.substr(0, 16)) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  if (v == 0) return std::nullopt;
  return v;
}

std::string_view finding_kind_name(Finding::Kind kind) {
  return kind == Finding::Kind::torn_tail ? "torn-tail" : "corrupt";
}

std::string describe(const Finding& f) {
  return f.segment.string() + " at byte " + std::to_string(f.offset) + ": " + std::string(finding_kind_name(f.kind)) +
         ": " + f.reason;
}

bool SegmentScan::corrupt() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.kind == Finding::Kind::corrupt; });
}

Result<SegmentScan> scan_segment(io::File& file, uint64_t index, const ScanOptions& options) {
  AIOPS_ASSIGN(uint64_t size, file.size());
  SegmentScan scan;
  scan.file_bytes = size;
  Scanner scanner(file, index, options, std::min(size, options.limit));
  AIOPS_TRY(scanner.run(scan));
  return scan;
}

}  // namespace aiops::wal
