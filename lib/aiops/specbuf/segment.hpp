#pragma once
// The speculative write buffer's POSIX shared-memory segment, layout
// version 1: one segment per worker instance, named
// "aiops-<worker name>-<8 hex digits>" (under /dev/shm on Linux), the digits
// a hash of the data directory so that two instances given the same name
// never share a buffer. Created with mode 0600 through
// Boost.Interprocess. It outlives any process: the worker, the aiops tool
// and a new worker binary all attach to the same bytes.
//
// Byte layout. Integers are little-endian (the segment never leaves the
// machine that made it; the fingerprint catches a different ABI).
//
//   [0, 4096)                       header
//   [4096, 4096 + 80*max_entries)   entry table (max_entries slots)
//   then, to the end                data arena (arena_bytes)
//
// Header:
//
//   offset width field           meaning
//   ------ ----- --------------- --------------------------------------------
//        0     8 magic           the bytes "AIOPSBUF"
//        8     4 version         1
//       12     4 fingerprint     struct_fingerprint: sizes of the header, an
//                                entry and the lock, so that a binary built
//                                with another ABI refuses the segment
//       16     4 max_entries     slots in the entry table
//       20     4 owner_uid       effective uid of the creator
//       24     8 arena_bytes     size of the data arena
//       32     8 total_bytes     size of the whole segment
//       40     4 ready           0 while the creator initialises, then 1
//       44     4 intake          0: writes go to the log; 1: to this buffer
//       48     8 generation      generation of the log owner that last wrote
//                                the phase (state/ holds the same number)
//       56     4 phase           last completed phase step (phase/step.hpp)
//       60     4 phase_running   step in progress, 0 for none; left set when
//                                its runner died, so the next one resumes it
//       64     4 phase_pid       pid of the runner of phase_running
//       68     4 priority_count  rows used in the priority table
//       72     8 head_seq        next entry sequence to hand out     (lock)
//       80     8 head_pos        arena position after the newest entry (lock)
//       88     8 tail_seq        oldest entry not yet freed           (lock)
//       96     8 tail_pos        arena position where tail_seq starts (lock)
//      104     8 validated_seq   every entry below it is decided
//      112     8 next_rank       next apply rank to hand out (from 1)
//      120     8 accepted        counters since creation: entries written,
//      128     8 validated         found valid,
//      136     8 rejected          rejected by the validator,
//      144     8 applied           appended to the log and made durable,
//      152     8 discarded         found in WRITING after their writer died,
//      160     8 refused_full      reservations refused for lack of space
//      168     8 created_ns      CLOCK_REALTIME of creation, ns since 1970
//      176     8 phase_ns        CLOCK_REALTIME of the last phase change
//      184    72 reserved        zero
//      256    64 lock            pthread_mutex_t: process-shared, robust
//      320  4096-320 priority table: up to 236 rows of 16 bytes
//                                  +0 u32 client id, +4 u32 rank (1 = first),
//                                  +8 f64 score (higher = more important)
//
// Entry (80 bytes), slot = sequence % max_entries:
//
//   offset width field      meaning
//        0     4 state      EntryState, changed by compare-and-swap
//        4     2 status     wire status (net::Status) when REJECTED
//        6     2 flags      bit 0: FUA (acknowledge once durable)
//        8     8 seq        entry sequence: the acknowledgement order
//       16     8 pos        arena position (monotonic); the payload is at
//                           arena + pos % arena_bytes, never wrapping
//       24     4 length     payload bytes
//       28     4 client     client id
//       32     4 volume     volume id
//       36     4 writer_pid process that wrote the entry (informational)
//       40     8 offset     byte offset in the volume
//       48     8 checksum   XXH3-64 of the payload as the client sent it
//       56     8 rank       apply rank (0 = not ordered yet)
//       64     8 created_ns CLOCK_REALTIME when the entry was reserved
//       72     8 reserved   zero
//
// The ring. Entries are handed out in sequence order; their payloads take
// consecutive arena positions (skipping to the next multiple of arena_bytes
// when one would not fit before the end). Entries in [tail_seq, head_seq)
// are live; the tail advances over entries that are APPLIED, REJECTED or
// FREE (a discarded one), so space comes back as soon as the oldest entries
// are done, whatever order they were applied in.
//
// Entry states and who moves them:
//   FREE -> WRITING      reserve(), under the lock, with seq/pos/length set
//   WRITING -> PENDING   the writer, once every field and the payload are in
//   WRITING -> FREE      a later owner: the writer died; never acknowledged
//   PENDING -> VALID | REJECTED   the validator (one at a time, in order)
//   VALID -> APPLIED     the applier, once the log holds it durably
//   APPLIED | REJECTED | FREE -> FREE and out of the ring   advance_tail()
//
// Robustness. The only lock is a robust process-shared mutex guarding
// head/tail and the slot being reserved. A process killed while holding it
// leaves it EOWNERDEAD; the next locker repairs what a reservation cut short
// can leave (a slot marked WRITING at head_seq that head_seq does not yet
// count) and marks the mutex consistent. Everything else moves by atomic
// compare-and-swap or is written by a single party.

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <boost/interprocess/mapped_region.hpp>

#include "aiops/core/error.hpp"

namespace aiops::specbuf {

inline constexpr uint64_t segment_magic = 0x46554253504f4941ull;  // the bytes "AIOPSBUF"
inline constexpr uint32_t segment_version = 2;  // 2: phase numbers with swap (phase/step.hpp)
inline constexpr size_t segment_header_bytes = 4096;
inline constexpr size_t max_priorities = 236;
inline constexpr uint16_t entry_flag_fua = 1u << 0;

enum class EntryState : uint32_t { free = 0, writing = 1, pending = 2, valid = 3, rejected = 4, applied = 5 };
[[nodiscard]] const char* entry_state_name(EntryState state) noexcept;

struct PriorityRow {
  uint32_t client;
  uint32_t rank;
  double score;
};

struct EntryRecord {
  std::atomic<uint32_t> state;
  uint16_t status;
  uint16_t flags;
  uint64_t seq;
  uint64_t pos;
  uint32_t length;
  uint32_t client;
  uint32_t volume;
  uint32_t writer_pid;
  uint64_t offset;
  uint64_t checksum;
  std::atomic<uint64_t> rank;
  uint64_t created_ns;
  uint64_t reserved;

  [[nodiscard]] EntryState load_state() const { return EntryState{state.load(std::memory_order_acquire)}; }
  /// One compare-and-swap step of the entry's life.
  bool move(EntryState from, EntryState to) {
    auto expected = static_cast<uint32_t>(from);
    return state.compare_exchange_strong(expected, static_cast<uint32_t>(to), std::memory_order_acq_rel);
  }
};

struct SegmentHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t fingerprint;
  uint32_t max_entries;
  uint32_t owner_uid;
  uint64_t arena_bytes;
  uint64_t total_bytes;
  std::atomic<uint32_t> ready;
  std::atomic<uint32_t> intake;
  std::atomic<uint64_t> generation;
  std::atomic<uint32_t> phase;
  std::atomic<uint32_t> phase_running;
  std::atomic<uint32_t> phase_pid;
  std::atomic<uint32_t> priority_count;
  std::atomic<uint64_t> head_seq;
  std::atomic<uint64_t> head_pos;
  std::atomic<uint64_t> tail_seq;
  std::atomic<uint64_t> tail_pos;
  std::atomic<uint64_t> validated_seq;
  std::atomic<uint64_t> next_rank;
  std::atomic<uint64_t> accepted;
  std::atomic<uint64_t> validated;
  std::atomic<uint64_t> rejected;
  std::atomic<uint64_t> applied;
  std::atomic<uint64_t> discarded;
  std::atomic<uint64_t> refused_full;
  uint64_t created_ns;
  std::atomic<uint64_t> phase_ns;
  uint8_t reserved[72];
  union {
    pthread_mutex_t mutex;
    uint8_t bytes[64];
  } lock;
  PriorityRow priorities[max_priorities];
};

static_assert(sizeof(EntryRecord) == 80);
static_assert(offsetof(SegmentHeader, lock) == 256);
static_assert(offsetof(SegmentHeader, priorities) == 320);
static_assert(sizeof(SegmentHeader) <= segment_header_bytes);
static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free,
              "atomics in shared memory must be lock-free");

/// Sizes of the header, an entry and the mutex, folded into one number.
[[nodiscard]] uint32_t struct_fingerprint() noexcept;

struct SegmentGeometry {
  uint32_t max_entries = 65536;
  uint64_t arena_bytes = 256ull << 20;
};

struct AttachOptions {
  std::string name;  // without the leading slash: "aiops-default"
  /// The uid the segment must belong to (the caller's effective uid).
  uint32_t expected_uid;
  /// For create_or_attach: the size to create with, and to insist on.
  SegmentGeometry geometry;
};

/// A reserved entry: the caller fills it and calls Segment::publish.
struct Reservation {
  uint64_t seq = 0;
  EntryRecord* entry = nullptr;
  std::byte* payload = nullptr;
};

struct Occupancy {
  uint64_t entries = 0;  // live entries, [tail, head)
  uint64_t bytes = 0;    // arena bytes they take (with skipped ends)
};

class Segment {
 public:
  /// "aiops-<worker name>-<hash of data_dir>".
  [[nodiscard]] static std::string name_for(const std::string& worker_name, const std::filesystem::path& data_dir);
  /// Attaches to the segment, creating it (mode 0600) when there is none.
  /// Errors: Errc::permission_denied (another owner, or looser mode),
  /// Errc::unsupported (magic, version or fingerprint differ),
  /// Errc::invalid_argument (its size is not the configured one).
  [[nodiscard]] static Result<std::unique_ptr<Segment>> create_or_attach(const AttachOptions& options);
  /// Attaches to an existing segment of any geometry (for inspection and
  /// offline phases). Errc::not_found when there is none.
  [[nodiscard]] static Result<std::unique_ptr<Segment>> attach(const std::string& name, uint32_t expected_uid);
  /// Removes the name (mappings stay valid). Success when it did not exist.
  [[nodiscard]] static Status remove(const std::string& name);

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] SegmentHeader& header() const { return *header_; }
  [[nodiscard]] EntryRecord& slot(uint64_t seq) const { return entries_[seq % header_->max_entries]; }
  [[nodiscard]] std::byte* payload(const EntryRecord& e) const { return arena_ + e.pos % header_->arena_bytes; }
  [[nodiscard]] std::byte* arena() const { return arena_; }
  [[nodiscard]] Occupancy occupancy() const;

  /// Holds the segment's robust mutex. `recovered()` says the previous
  /// holder died inside it (and the state it guards has been repaired).
  class Lock {
   public:
    explicit Lock(Segment& segment);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
    [[nodiscard]] bool recovered() const { return recovered_; }

   private:
    Segment& segment_;
    bool recovered_ = false;
  };

  /// Reserves an entry of `length` bytes and marks it WRITING, if the live
  /// entries and bytes would stay within `share` (0..1] of the capacity.
  /// std::nullopt when they would not (the buffer is full for this caller).
  [[nodiscard]] std::optional<Reservation> reserve(uint32_t length, double share);
  /// WRITING -> PENDING, after the caller filled the entry and payload.
  static void publish(EntryRecord& entry);
  /// Frees the done entries at the tail; returns the new tail_seq.
  uint64_t advance_tail();
  /// Sets every counter, cursor and slot back to empty. Only when no one
  /// is writing (the buffer is not taking writes) and every live entry is
  /// done or may be dropped.
  void reset_ring();

 private:
  Segment(std::string name, boost::interprocess::mapped_region region);
  void initialise(const SegmentGeometry& geometry, uint32_t uid);
  void repair_after_owner_death();

  std::string name_;
  boost::interprocess::mapped_region region_;
  SegmentHeader* header_ = nullptr;
  EntryRecord* entries_ = nullptr;
  std::byte* arena_ = nullptr;
};

/// Bytes a segment of this geometry takes.
[[nodiscard]] uint64_t segment_bytes(const SegmentGeometry& geometry);
/// CLOCK_REALTIME in ns since 1970, as the segment stores times.
[[nodiscard]] uint64_t wall_clock_ns();

}  // namespace aiops::specbuf
