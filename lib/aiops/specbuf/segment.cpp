#include "aiops/specbuf/segment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <system_error>
#include <thread>

#include <boost/interprocess/shared_memory_object.hpp>

#include "aiops/core/checksum.hpp"
#include "aiops/core/units.hpp"

namespace aiops::specbuf {

namespace bip = boost::interprocess;

namespace {

constexpr auto initialise_wait = std::chrono::seconds(2);

std::string shm_path(const std::string& name) { return "/dev/shm/" + name; }

// getpid() is a system call on every reserve() otherwise; the cache is
// renewed in the child of a fork.
std::atomic<uint32_t> cached_pid{0};

uint32_t own_pid() {
  uint32_t pid = cached_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    static const int registered = ::pthread_atfork(nullptr, nullptr, [] { cached_pid.store(0); });
    (void)registered;
    pid = static_cast<uint32_t>(::getpid());
    cached_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

// Where the creator is between shm_open and `ready`, attaching waits; past
// this long it is taken to have died there (nothing can have been written
// into the entries before ready, so re-initialising loses nothing).
bool wait_ready(const SegmentHeader& h) {
  auto until = std::chrono::steady_clock::now() + initialise_wait;
  while (h.ready.load(std::memory_order_acquire) == 0) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string geometry_text(uint32_t entries, uint64_t arena) {
  return std::to_string(entries) + " entries and " + format_size(arena) + " of data";
}

}  // namespace

const char* entry_state_name(EntryState state) noexcept {
  switch (state) {
    case EntryState::free: return "free";
    case EntryState::writing: return "writing";
    case EntryState::pending: return "pending";
    case EntryState::valid: return "valid";
    case EntryState::rejected: return "rejected";
    case EntryState::applied: return "applied";
  }
  return "unknown";
}

uint32_t struct_fingerprint() noexcept {
  return static_cast<uint32_t>(sizeof(SegmentHeader) << 16 ^ sizeof(EntryRecord) << 8 ^ sizeof(pthread_mutex_t));
}

uint64_t segment_bytes(const SegmentGeometry& g) {
  return segment_header_bytes + uint64_t{g.max_entries} * sizeof(EntryRecord) + g.arena_bytes;
}

uint64_t wall_clock_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string Segment::name_for(const std::string& worker_name, const std::filesystem::path& data_dir) {
  char hash[16];
  std::snprintf(hash, sizeof hash, "%08x", static_cast<unsigned>(checksum64(data_dir.string().data(), data_dir.string().size())));
  return "aiops-" + worker_name + "-" + hash;
}

Segment::Segment(std::string name, bip::mapped_region region) : name_(std::move(name)), region_(std::move(region)) {
  auto* base = static_cast<std::byte*>(region_.get_address());
  header_ = reinterpret_cast<SegmentHeader*>(base);
  entries_ = reinterpret_cast<EntryRecord*>(base + segment_header_bytes);
}

Segment::~Segment() = default;

void Segment::initialise(const SegmentGeometry& g, uint32_t uid) {
  auto* base = static_cast<std::byte*>(region_.get_address());
  std::memset(base, 0, segment_header_bytes + uint64_t{g.max_entries} * sizeof(EntryRecord));
  auto& h = *header_;
  h.magic = segment_magic;
  h.version = segment_version;
  h.fingerprint = struct_fingerprint();
  h.max_entries = g.max_entries;
  h.owner_uid = uid;
  h.arena_bytes = g.arena_bytes;
  h.total_bytes = segment_bytes(g);
  h.next_rank.store(1);
  h.created_ns = wall_clock_ns();
  h.phase_ns.store(h.created_ns);
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&h.lock.mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  arena_ = base + segment_header_bytes + uint64_t{g.max_entries} * sizeof(EntryRecord);
  h.ready.store(1, std::memory_order_release);
}

namespace {

// Checks what can be checked before trusting a byte of the mapping: owner,
// mode, and that it is at least as large as a header.
Status check_file(const std::string& name, int fd, uint32_t expected_uid, uint64_t& size) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return error_from_errno(errno, "fstat " + shm_path(name));
  if (st.st_uid != expected_uid)
    return Error(Errc::permission_denied, "shared-memory segment " + shm_path(name) + " belongs to uid " +
                                              std::to_string(st.st_uid) + ", not to uid " +
                                              std::to_string(expected_uid) + "; refusing to use it");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return Error(Errc::permission_denied, "shared-memory segment " + shm_path(name) + " has mode " + mode +
                                              "; only 0600 is trusted");
  }
  size = static_cast<uint64_t>(st.st_size);
  if (size < segment_header_bytes)
    return Error(Errc::corrupt, "shared-memory segment " + shm_path(name) + " is " + std::to_string(size) +
                                    " bytes, smaller than its header (its creator died while making it; "
                                    "no entry can be in it: remove it with aiops buffer remove --force)");
  return {};
}

Status check_header(const std::string& name, const SegmentHeader& h, uint64_t file_size) {
  const std::string where = "shared-memory segment " + shm_path(name);
  if (h.magic != segment_magic) return Error(Errc::unsupported, where + " is not an aiops buffer (bad magic)");
  if (h.version != segment_version)
    return Error(Errc::unsupported, where + " has layout version " + std::to_string(h.version) +
                                        "; this aiops reads version " + std::to_string(segment_version) +
                                        ". Let the binary that made it apply its entries (aiops phase apply), or remove it if it holds "
                                        "none (aiops buffer remove --force)");
  if (h.fingerprint != struct_fingerprint())
    return Error(Errc::unsupported, where + " was made by a build with other structure sizes (fingerprint " +
                                        std::to_string(h.fingerprint) + ", ours " +
                                        std::to_string(struct_fingerprint()) + ")");
  if (h.max_entries == 0 || h.arena_bytes == 0 ||
      h.total_bytes != segment_bytes({h.max_entries, h.arena_bytes}) || h.total_bytes != file_size)
    return Error(Errc::corrupt, where + ": its header says " + std::to_string(h.total_bytes) +
                                    " bytes but the segment has " + std::to_string(file_size));
  return {};
}

}  // namespace

Result<std::unique_ptr<Segment>> Segment::create_or_attach(const AttachOptions& o) {
  if (o.geometry.max_entries == 0 || o.geometry.arena_bytes == 0)
    return Error(Errc::invalid_argument, "a buffer needs at least one entry and one byte");
  const uint64_t total = segment_bytes(o.geometry);
  bool created = false;
  try {
    bip::shared_memory_object shm(bip::create_only, o.name.c_str(), bip::read_write, bip::permissions(0600));
    created = true;
    const int fd = shm.get_mapping_handle().handle;
    // The umask may have narrowed the mode; nothing may have widened it,
    // but say exactly what we mean.
    ::fchmod(fd, 0600);
    // Reserve every page now: on a tmpfs too small for it, a write into
    // the arena would otherwise die of SIGBUS instead of this ENOSPC.
    if (int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(total)); rc != 0) {
      (void)remove(o.name);
      return Error(rc == ENOSPC ? Errc::no_space : Errc::io_error,
                   "create shared-memory segment " + shm_path(o.name) + " of " + format_size(total) + ": " +
                       std::strerror(rc) + " (is /dev/shm large enough for [buffer] size?)",
                   rc);
    }
    std::unique_ptr<Segment> s(new Segment(o.name, bip::mapped_region(shm, bip::read_write)));
    s->initialise(o.geometry, o.expected_uid);
    return s;
  } catch (const bip::interprocess_exception& e) {
    if (created || e.get_error_code() != bip::already_exists_error) {
      if (created) (void)remove(o.name);  // half made: nothing can be in it
      return Error(e.get_native_error() == ENOSPC ? Errc::no_space : Errc::io_error,
                   "create shared-memory segment " + shm_path(o.name) + " of " + format_size(total) + ": " + e.what(),
                   e.get_native_error());
    }
  }
  AIOPS_ASSIGN(auto s, attach(o.name, o.expected_uid));
  const auto& h = s->header();
  if (h.max_entries != o.geometry.max_entries || h.arena_bytes != o.geometry.arena_bytes)
    return Error(Errc::invalid_argument,
                 "shared-memory segment " + shm_path(o.name) + " holds " + geometry_text(h.max_entries, h.arena_bytes) +
                     " but [buffer] asks for " + geometry_text(o.geometry.max_entries, o.geometry.arena_bytes) +
                     "; apply and deactivate the buffer with the old setting (the segment is removed when it is "
                     "idle and empty) before changing it");
  return s;
}

Result<std::unique_ptr<Segment>> Segment::attach(const std::string& name, uint32_t expected_uid) {
  try {
    bip::shared_memory_object shm(bip::open_only, name.c_str(), bip::read_write);
    uint64_t size = 0;
    AIOPS_TRY(check_file(name, shm.get_mapping_handle().handle, expected_uid, size));
    std::unique_ptr<Segment> s(new Segment(name, bip::mapped_region(shm, bip::read_write)));
    auto& h = s->header();
    if (!wait_ready(h)) {
      // Its creator died before finishing; no entry can exist yet.
      if (h.max_entries == 0 || segment_bytes({h.max_entries, h.arena_bytes}) != size)
        return Error(Errc::corrupt, "shared-memory segment " + shm_path(name) +
                                        " was never finished by its creator; remove it (no entry can be in it)");
      s->initialise({h.max_entries, h.arena_bytes}, expected_uid);
    }
    AIOPS_TRY(check_header(name, h, size));
    s->arena_ = static_cast<std::byte*>(s->region_.get_address()) + segment_header_bytes +
                uint64_t{h.max_entries} * sizeof(EntryRecord);
    return s;
  } catch (const bip::interprocess_exception& e) {
    if (e.get_error_code() == bip::not_found_error)
      return Error(Errc::not_found, "no shared-memory segment " + shm_path(name));
    return Error(Errc::io_error, "attach shared-memory segment " + shm_path(name) + ": " + e.what(),
                 e.get_native_error());
  }
}

Status Segment::remove(const std::string& name) {
  if (::shm_unlink(("/" + name).c_str()) != 0 && errno != ENOENT)
    return error_from_errno(errno, "remove shared-memory segment " + shm_path(name));
  return {};
}

Segment::Lock::Lock(Segment& segment) : segment_(segment) {
  int rc = pthread_mutex_lock(&segment_.header_->lock.mutex);
  if (rc == EOWNERDEAD) {
    segment_.repair_after_owner_death();
    pthread_mutex_consistent(&segment_.header_->lock.mutex);
    recovered_ = true;
  } else if (rc != 0) {
    // ENOTRECOVERABLE only follows an unlock without repair, which this
    // code never does; anything else is a broken mapping.
    throw std::system_error(rc, std::generic_category(), "lock of shared-memory segment " + segment_.name_);
  }
}

Segment::Lock::~Lock() { pthread_mutex_unlock(&segment_.header_->lock.mutex); }

// What a reserve() cut short can leave: the slot at head_seq claimed
// (seq written, state WRITING) without head_seq counting it. Nobody was
// told about it, so it goes back to FREE. head_pos may already be past it;
// that only wastes its bytes until the ring empties. advance_tail() needs
// no repair: each of its steps can be redone.
void Segment::repair_after_owner_death() {
  auto& h = *header_;
  const uint64_t head = h.head_seq.load();
  EntryRecord& e = slot(head);
  if (e.seq == head && e.load_state() != EntryState::free) e.state.store(static_cast<uint32_t>(EntryState::free));
}

std::optional<Reservation> Segment::reserve(uint32_t length, double share) {
  Lock lock(*this);
  auto& h = *header_;
  const uint64_t arena = h.arena_bytes;
  const uint64_t head = h.head_seq.load(std::memory_order_relaxed);
  const uint64_t tail = h.tail_seq.load(std::memory_order_relaxed);
  if (!(share > 0.0) || share > 1.0) share = 1.0;  // also NaN: never more than the table holds
  uint64_t pos = h.head_pos.load(std::memory_order_relaxed);
  if (pos % arena + length > arena) pos += arena - pos % arena;  // payloads never wrap
  if (head == tail) {
    // Empty: the skipped end (and bytes a cut-short reservation took) is
    // not in use, so a payload of any size up to the arena fits.
    h.tail_pos.store(pos, std::memory_order_relaxed);
    h.head_pos.store(pos, std::memory_order_relaxed);
  }
  const double entries_after = static_cast<double>(head + 1 - tail);
  const double bytes_after = static_cast<double>(pos + length - h.tail_pos.load(std::memory_order_relaxed));
  if (length > arena || entries_after > share * h.max_entries || bytes_after > share * static_cast<double>(arena)) {
    h.refused_full.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  // The slot's previous entry (head - max_entries) is behind the tail.
  EntryRecord& e = slot(head);
  e.seq = head;
  e.pos = pos;
  e.length = length;
  e.status = 0;
  e.flags = 0;
  e.rank.store(0, std::memory_order_relaxed);
  e.writer_pid = own_pid();
  e.created_ns = wall_clock_ns();
  e.state.store(static_cast<uint32_t>(EntryState::writing), std::memory_order_release);
  h.head_pos.store(pos + length, std::memory_order_relaxed);
  h.head_seq.store(head + 1, std::memory_order_release);
  return Reservation{head, &e, payload(e)};
}

void Segment::publish(EntryRecord& entry) { entry.move(EntryState::writing, EntryState::pending); }

uint64_t Segment::advance_tail() {
  Lock lock(*this);
  auto& h = *header_;
  const uint64_t head = h.head_seq.load(std::memory_order_acquire);
  uint64_t tail = h.tail_seq.load(std::memory_order_relaxed);
  while (tail < head) {
    EntryRecord& e = slot(tail);
    EntryState s = e.load_state();
    if (s != EntryState::applied && s != EntryState::rejected && s != EntryState::free) break;
    e.state.store(static_cast<uint32_t>(EntryState::free), std::memory_order_release);
    h.tail_pos.store(e.pos + e.length, std::memory_order_relaxed);
    h.tail_seq.store(++tail, std::memory_order_release);
  }
  return tail;
}

void Segment::reset_ring() {
  Lock lock(*this);
  auto& h = *header_;
  for (uint32_t i = 0; i < h.max_entries; ++i) entries_[i].state.store(0, std::memory_order_relaxed);
  const uint64_t head = h.head_seq.load();
  h.tail_pos.store(h.head_pos.load());
  h.tail_seq.store(head);
  h.validated_seq.store(head, std::memory_order_release);
}

Occupancy Segment::occupancy() const {
  const auto& h = *header_;
  const uint64_t tail = h.tail_seq.load(std::memory_order_acquire);
  const uint64_t tail_pos = h.tail_pos.load(std::memory_order_acquire);
  const uint64_t head = h.head_seq.load(std::memory_order_acquire);
  const uint64_t head_pos = h.head_pos.load(std::memory_order_acquire);
  return {head >= tail ? head - tail : 0, head_pos >= tail_pos ? head_pos - tail_pos : 0};
}

}  // namespace aiops::specbuf
