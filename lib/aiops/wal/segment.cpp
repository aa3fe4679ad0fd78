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

// As for records (record.cpp): a header that flipping one bit makes valid
// was hit by bit rot; anything else is what an interrupted creation leaves.
bool segment_header_repairable(const std::byte* b) {
  const uint64_t stored = load_le<uint64_t>(b + 40);
  if (one_bit_flip_of(stored, checksum64(b, 40))) return true;
  std::byte copy[40];
  std::memcpy(copy, b, sizeof copy);
  return one_bit_from_valid(std::span(copy), [&](std::span<std::byte> c) { return checksum64(c.data(), 40) == stored; });
}

HeaderCheck check_segment_header(const std::byte* b, uint64_t index) {
  HeaderCheck c;
  bool magic_ok = std::memcmp(b, segment_magic, 8) == 0;
  if (load_le<uint64_t>(b + 40) != checksum64(b, 40)) {
    c.verdict = segment_header_repairable(b) ? HeaderVerdict::damaged : HeaderVerdict::not_a_record;
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
  struct Found {
    uint64_t offset;
    uint64_t sequence;
  };

  void report(Finding::Kind kind, uint64_t offset, std::string reason) {
    if (out_->findings.empty()) stopped_at_ = offset;
    out_->findings.push_back({kind, file_.path(), index_, offset, std::move(reason)});
  }
  Result<bool> scan_record();                            // false: stop
  // `skip`: where the record at pos ends and its sequence, when its header
  // is valid (so a keep_going scan can step over it).
  Result<bool> at_invalid(uint64_t pos, std::string problem, std::optional<Found> skip = {});
  Result<bool> corrupt(uint64_t pos, std::string problem, std::optional<Found> skip = {});
  Result<std::optional<Found>> next_valid(uint64_t from, bool need_fua);
  Result<std::optional<uint64_t>> valid_record_at(uint64_t pos);  // its end, when intact
  Result<uint64_t> end_of_nonzero(uint64_t from);
  Result<bool> at_end_mark(uint64_t pos);

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
    report(opt_.newest ? Finding::Kind::torn_tail : Finding::Kind::corrupt, 0,
           "segment header cut short (" + std::to_string(end_) + " of 48 bytes)");
    return {};
  }
  AIOPS_ASSIGN(const std::byte* b, reader_.view(0, segment_header_bytes));
  HeaderCheck hc = check_segment_header(b, index_);
  if (hc.verdict != HeaderVerdict::valid) {
    // A header that is not one (and no synced record after it) is the
    // leftover of a crash while the segment was being created.
    bool torn = opt_.newest && hc.verdict == HeaderVerdict::not_a_record;
    if (torn) {
      AIOPS_ASSIGN(std::optional<Found> synced, next_valid(segment_header_bytes, /*need_fua=*/true));
      torn = !synced;
    }
    report(torn ? Finding::Kind::torn_tail : Finding::Kind::corrupt, 0,
           torn ? hc.problem + " (unfinished segment creation)" : hc.problem);
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
  const uint64_t pos = pos_;
  AIOPS_ASSIGN(bool end_mark, at_end_mark(pos));
  if (end_mark) {
    // The end, unless a synced record lies beyond it: then these zeros are a
    // write the disk lost. (An older segment's successor checks it instead.)
    if (!opt_.newest) return false;
    AIOPS_ASSIGN(std::optional<Found> synced, next_valid(pos + 1, /*need_fua=*/true));
    if (!synced) return false;
    return corrupt(pos, "zero bytes where record " + std::to_string(expected_) + " should be, in front of record " +
                            std::to_string(synced->sequence) + " at byte " + std::to_string(synced->offset) +
                            " which was synced");
  }
  if (end_ - pos < record_header_bytes)
    return at_invalid(pos, "record header cut short (" + std::to_string(end_ - pos) + " bytes before the end of the file)");
  AIOPS_ASSIGN(const std::byte* hb, reader_.view(pos, record_header_bytes));
  DecodedHeader d = decode_record_header(hb);
  if (d.verdict == HeaderVerdict::damaged) return corrupt(pos, d.problem);
  if (d.verdict == HeaderVerdict::not_a_record) return at_invalid(pos, "bytes that are not a record");
  const RecordHeader& h = d.header;
  const uint64_t rec_end = pos + record_header_bytes + h.length;
  if (rec_end > end_)
    return at_invalid(pos, "record " + std::to_string(h.sequence) + " of " + std::to_string(h.length) +
                               " bytes runs " + std::to_string(rec_end - end_) + " bytes past the end of the file");
  RecordHeaderBytes header_copy;
  std::memcpy(header_copy.data(), hb, record_header_bytes);
  AIOPS_ASSIGN(const std::byte* payload, reader_.view(pos + record_header_bytes, h.length));
  const uint64_t payload_hash = checksum64(payload, h.length);
  if (!record_checksum_matches(header_copy.data(), payload_hash)) {
    std::string problem = "checksum mismatch in record " + std::to_string(h.sequence) + " (" +
                          std::to_string(h.length) + " bytes)";
    const Found skip{rec_end, h.sequence};
    if (record_checksum_one_bit_off(header_copy.data(), payload_hash))
      return corrupt(pos, problem + ": one bit of the stored checksum flipped", skip);
    return at_invalid(pos, problem, skip);
  }
  if (h.sequence != expected_)
    return at_invalid(pos, "record has sequence " + std::to_string(h.sequence) + " where " +
                               std::to_string(expected_) + " was expected", Found{rec_end, h.sequence});
  if (opt_.visit) opt_.visit({h, index_, pos, std::span(payload, h.length)});
  ++(h.marker() ? out_->markers : out_->records);
  if (stopped_at_ == UINT64_MAX) out_->ends_with_marker = h.marker();
  pos_ = rec_end;
  expected_ = h.sequence + 1;
  return true;
}

// The expected record is not at `pos`: decide between the clean end, a torn
// tail and corruption (the rules in segment.hpp).
Result<bool> Scanner::at_invalid(uint64_t pos, std::string problem, std::optional<Found> skip) {
  if (!opt_.newest) return corrupt(pos, std::move(problem), skip);
  AIOPS_ASSIGN(uint64_t junk_end, end_of_nonzero(pos));
  AIOPS_ASSIGN(std::optional<Found> synced, next_valid(pos + 1, /*need_fua=*/true));
  if (synced)
    return corrupt(pos, problem + ", in front of record " + std::to_string(synced->sequence) + " at byte " +
                            std::to_string(synced->offset) + " which was synced", skip);
  out_->junk_end = junk_end;
  report(Finding::Kind::torn_tail, pos,
         problem + ": the unfinished end of the log (" + std::to_string(junk_end - pos) + " bytes)");
  return false;
}

Result<bool> Scanner::corrupt(uint64_t pos, std::string problem, std::optional<Found> skip) {
  report(Finding::Kind::corrupt, pos, std::move(problem));
  if (!opt_.keep_going) return false;
  if (skip) {
    pos_ = skip->offset;  // here: where the damaged record ends
    expected_ = skip->sequence + 1;
    return true;
  }
  AIOPS_ASSIGN(std::optional<Found> next, next_valid(pos + 1, /*need_fua=*/false));
  if (!next) return false;
  pos_ = next->offset;
  expected_ = next->sequence;
  return true;
}

// The first intact record at or after `from` (with a sequence not below the
// expected one, and flagged FUA if asked), found by trying every offset.
Result<std::optional<Scanner::Found>> Scanner::next_valid(uint64_t from, bool need_fua) {
  for (uint64_t start = from; start + record_header_bytes <= end_;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(read_chunk_bytes, end_ - start));
    AIOPS_ASSIGN(const std::byte* w, reader_.view(start, len));
    for (size_t i = 0; i + record_header_bytes <= len; ++i) {
      if (load_le<uint32_t>(w + i) != record_magic) continue;
      DecodedHeader d = decode_record_header(w + i);
      if (d.verdict != HeaderVerdict::valid || d.header.sequence < expected_) continue;
      if (need_fua && !d.header.fua()) continue;
      const uint64_t at = start + i;
      const uint64_t sequence = d.header.sequence;
      AIOPS_ASSIGN(std::optional<uint64_t> intact, valid_record_at(at));
      if (intact) return std::optional<Found>(Found{at, sequence});
      AIOPS_ASSIGN(w, reader_.view(start, len));  // valid_record_at moved the window
    }
    if (start + len >= end_) break;
    start += len - record_header_bytes + 1;
  }
  return std::optional<Found>();
}

Result<std::optional<uint64_t>> Scanner::valid_record_at(uint64_t pos) {
  AIOPS_ASSIGN(const std::byte* hb, reader_.view(pos, record_header_bytes));
  DecodedHeader d = decode_record_header(hb);
  if (d.verdict != HeaderVerdict::valid) return std::optional<uint64_t>();
  uint64_t rec_end = pos + record_header_bytes + d.header.length;
  if (rec_end > end_) return std::optional<uint64_t>();
  RecordHeaderBytes header_copy;
  std::memcpy(header_copy.data(), hb, record_header_bytes);
  AIOPS_ASSIGN(const std::byte* payload, reader_.view(pos + record_header_bytes, d.header.length));
  if (!record_checksum_matches(header_copy.data(), checksum64(payload, d.header.length)))
    return std::optional<uint64_t>();
  return std::optional<uint64_t>(rec_end);
}

// The end mark: a zero block where a record header would start (fewer bytes
// when the file ends sooner).
Result<bool> Scanner::at_end_mark(uint64_t pos) {
  size_t len = static_cast<size_t>(std::min<uint64_t>(end_mark_bytes, end_ - pos));
  AIOPS_ASSIGN(const std::byte* b, reader_.view(pos, len));
  return std::all_of(b, b + len, [](std::byte x) { return x == std::byte{0}; });
}

// One past the last non-zero byte at or after `from`; `from` when all are zero.
Result<uint64_t> Scanner::end_of_nonzero(uint64_t from) {
  uint64_t last = from;
  for (uint64_t off = from; off < end_;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(read_chunk_bytes, end_ - off));
    AIOPS_ASSIGN(const std::byte* w, reader_.view(off, len));
    for (size_t i = len; i-- > 0;) {
      if (w[i] != std::byte{0}) {
        last = off + i + 1;
        break;
      }
    }
    off += len;
  }
  return last;
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
