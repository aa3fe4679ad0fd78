// The speculative buffer's shared-memory segment: created 0600 and checked
// (owner, mode, magic, layout version, fingerprint, size) before it is
// trusted; entries move by compare-and-swap; the ring gives space back at
// its tail and refuses what does not fit a caller's share; and a process
// killed while holding the robust mutex, or anywhere inside reserve(),
// wedges nobody and leaves the ring consistent.
//
// Every test makes its own segment, "aiops-test-<pid>-<n>", and removes it
// whatever happens. Forked children only touch the segment, a pipe and
// _exit; they never return into doctest.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "aiops/core/units.hpp"
#include "aiops/specbuf/segment.hpp"

using aiops::Errc;
using aiops::specbuf::AttachOptions;
using aiops::specbuf::EntryRecord;
using aiops::specbuf::EntryState;
using aiops::specbuf::Reservation;
using aiops::specbuf::Segment;
using aiops::specbuf::SegmentGeometry;

namespace {

constexpr auto kDeadline = std::chrono::seconds(5);

uint32_t my_uid() { return static_cast<uint32_t>(::geteuid()); }

// A segment name unique to this process and test, removed on scope exit
// (also when a REQUIRE throws out of the test).
class ScopedSegmentName {
 public:
  ScopedSegmentName() : name_(make()) { (void)Segment::remove(name_); }
  ~ScopedSegmentName() { (void)Segment::remove(name_); }
  ScopedSegmentName(const ScopedSegmentName&) = delete;
  ScopedSegmentName& operator=(const ScopedSegmentName&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::string path() const { return "/dev/shm/" + name_; }

 private:
  static std::string make() {
    static std::atomic<unsigned> counter{0};
    return "aiops-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  }
  std::string name_;
};

std::unique_ptr<Segment> create(const ScopedSegmentName& name, SegmentGeometry geometry) {
  auto s = Segment::create_or_attach(AttachOptions{name.name(), my_uid(), geometry});
  if (!s.ok()) FAIL("create_or_attach " << name.name() << ": " << s.error().message());
  return std::move(s).value();
}

// Runs `f` on another thread and waits at most kDeadline for it. On
// timeout the segment is leaked on purpose (the stuck thread may still
// touch its mapping) and the test fails instead of hanging. `f` must
// capture nothing from the caller's stack by reference.
template <class F>
auto within_deadline(std::unique_ptr<Segment>& segment, const char* what, F f) -> decltype(f()) {
  using R = decltype(f());
  auto task = std::make_shared<std::packaged_task<R()>>(std::move(f));
  auto done = task->get_future();
  std::thread runner([task] { (*task)(); });
  if (done.wait_for(kDeadline) != std::future_status::ready) {
    runner.detach();
    (void)segment.release();
    FAIL(std::string(what) << " did not return within " << kDeadline.count() << " s: the segment's lock is wedged");
    throw std::runtime_error("unreachable");
  }
  runner.join();
  return done.get();
}

// Waits up to kDeadline for one byte from a child.
bool read_signal(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kDeadline).count())) != 1) return false;
  char c = 0;
  return ::read(fd, &c, 1) == 1;
}

std::byte stamp(uint64_t seq, size_t k) { return static_cast<std::byte>(seq * 29 + k * 7 + 1); }

void fill_payload(std::byte* payload, uint64_t seq, uint32_t length) {
  for (uint32_t k = 0; k < length; ++k) payload[k] = stamp(seq, k);
}

bool payload_intact(const std::byte* payload, uint64_t seq, uint32_t length) {
  for (uint32_t k = 0; k < length; ++k)
    if (payload[k] != stamp(seq, k)) return false;
  return true;
}

// The first broken ring invariant, or "" when they all hold. Call with the
// segment quiet (no other process using it).
std::string ring_problem(const Segment& seg) {
  const auto& h = seg.header();
  const uint64_t head = h.head_seq.load(), tail = h.tail_seq.load();
  const uint64_t head_pos = h.head_pos.load(), tail_pos = h.tail_pos.load();
  const uint64_t arena = h.arena_bytes;
  std::ostringstream out;
  if (tail > head) out << "tail_seq " << tail << " > head_seq " << head;
  else if (head - tail > h.max_entries) out << "head_seq - tail_seq = " << head - tail << " > max_entries";
  else if (tail_pos > head_pos) out << "tail_pos " << tail_pos << " > head_pos " << head_pos;
  else if (head_pos - tail_pos > arena) out << "head_pos - tail_pos = " << head_pos - tail_pos << " > arena";
  if (!out.str().empty()) return out.str();
  const EntryRecord& at_head = seg.slot(head);
  if (at_head.seq == head && at_head.load_state() != EntryState::free)
    return "slot at head_seq " + std::to_string(head) + " left " + entry_state_name(at_head.load_state());
  uint64_t previous_end = 0;
  for (uint64_t s = tail; s < head; ++s) {
    const EntryRecord& e = seg.slot(s);
    const EntryState state = e.load_state();
    std::ostringstream where;
    where << "entry " << s << " (" << entry_state_name(state) << ", pos " << e.pos << ", " << e.length << " bytes): ";
    if (e.seq != s) return where.str() + "slot holds seq " + std::to_string(e.seq);
    if (state != EntryState::writing && state != EntryState::pending && state != EntryState::applied &&
        state != EntryState::free)
      return where.str() + "unexpected state";
    if (e.pos % arena + e.length > arena) return where.str() + "payload wraps the arena end";
    if (seg.payload(e) + e.length > seg.arena() + arena) return where.str() + "payload pointer past the arena";
    if (e.pos + e.length > head_pos) return where.str() + "ends after head_pos " + std::to_string(head_pos);
    if (s > tail && e.pos < previous_end) return where.str() + "overlaps the entry before it";
    // advance_tail cut short may leave tail_pos past a FREE tail entry.
    if (state != EntryState::free && e.pos < tail_pos)
      return where.str() + "starts before tail_pos " + std::to_string(tail_pos);
    if ((state == EntryState::pending || state == EntryState::applied) && !payload_intact(seg.payload(e), s, e.length))
      return where.str() + "published payload was overwritten";
    previous_end = e.pos + e.length;
  }
  return "";
}

// What a forked writer does until it is killed: reserve, fill, publish;
// when the ring is full, mark every PENDING entry APPLIED and advance the
// tail itself. Writes one byte to `ready_fd` after its first publish.
// Allocates nothing, so it is safe after fork() in a threaded process.
[[noreturn]] void writer_loop(Segment& seg, int ready_fd) {
  bool signalled = false;
  for (uint64_t i = 0;; ++i) {
    const auto length = static_cast<uint32_t>(1 + (i * 131) % 700);
    auto r = seg.reserve(length, 1.0);
    if (!r) {
      auto& h = seg.header();
      const uint64_t head = h.head_seq.load();
      for (uint64_t s = h.tail_seq.load(); s < head; ++s) seg.slot(s).move(EntryState::pending, EntryState::applied);
      seg.advance_tail();
      continue;
    }
    EntryRecord& e = *r->entry;
    e.client = 1;
    e.volume = 1;
    e.offset = i * 512;
    fill_payload(r->payload, r->seq, length);
    Segment::publish(e);
    if (!signalled) {
      char c = 'w';
      if (::write(ready_fd, &c, 1) != 1) ::_exit(3);
      signalled = true;
    }
  }
}

}  // namespace

TEST_CASE("segment: create_or_attach makes a 0600 segment with its header, attaches to it, refuses another size") {
  ScopedSegmentName name;
  const SegmentGeometry geometry{8, 4096};
  auto first = create(name, geometry);

  struct stat st {};
  REQUIRE(::stat(name.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == ::geteuid());
  CHECK(static_cast<uint64_t>(st.st_size) == aiops::specbuf::segment_bytes(geometry));

  const auto& h = first->header();
  CHECK(h.magic == aiops::specbuf::segment_magic);
  CHECK(std::memcmp(&h.magic, "AIOPSBUF", 8) == 0);  // the documented bytes
  CHECK(h.version == aiops::specbuf::segment_version);
  CHECK(h.fingerprint == aiops::specbuf::struct_fingerprint());
  CHECK(h.max_entries == 8);
  CHECK(h.arena_bytes == 4096);
  CHECK(h.total_bytes == 4096 + 8 * sizeof(EntryRecord) + 4096);
  CHECK(h.owner_uid == my_uid());
  CHECK(h.ready.load() == 1);
  CHECK(h.head_seq.load() == 0);
  CHECK(h.tail_seq.load() == 0);
  CHECK(h.next_rank.load() == 1);
  CHECK(h.created_ns > 0);
  CHECK(first->arena() == reinterpret_cast<const std::byte*>(&h) + 4096 + 8 * sizeof(EntryRecord));

  // The same geometry attaches to the same bytes.
  auto second = create(name, geometry);
  CHECK(&second->header() != &first->header());  // its own mapping ...
  first->arena()[4095] = std::byte{0x5a};
  first->header().intake.store(1);
  first->slot(3).offset = 0x1234;
  CHECK(second->arena()[4095] == std::byte{0x5a});  // ... of the same memory
  CHECK(second->header().intake.load() == 1);
  CHECK(second->slot(3).offset == 0x1234);
  second->arena()[0] = std::byte{0xa5};
  CHECK(first->arena()[0] == std::byte{0xa5});
  CHECK(second->header().created_ns == first->header().created_ns);  // not re-initialised

  // Another geometry is refused, naming both.
  for (SegmentGeometry other : {SegmentGeometry{16, 8192}, SegmentGeometry{8, 8192}, SegmentGeometry{16, 4096}}) {
    CAPTURE(other.max_entries);
    CAPTURE(other.arena_bytes);
    auto refused = Segment::create_or_attach(AttachOptions{name.name(), my_uid(), other});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code() == Errc::invalid_argument);
    const std::string& message = refused.error().message();
    INFO(message);
    CHECK(message.find("8 entries and " + aiops::format_size(4096)) != std::string::npos);
    CHECK(message.find(std::to_string(other.max_entries) + " entries and " + aiops::format_size(other.arena_bytes)) !=
          std::string::npos);
    CHECK(message.find(name.path()) != std::string::npos);
  }
  CHECK(first->header().max_entries == 8);  // the refusal changed nothing

  auto empty = Segment::create_or_attach(AttachOptions{name.name(), my_uid(), SegmentGeometry{0, 4096}});
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.error().code() == Errc::invalid_argument);
}

TEST_CASE("segment: attach refuses another magic, layout version or fingerprint") {
  struct Damage {
    const char* what;
    void (*apply)(aiops::specbuf::SegmentHeader&);
    const char* named;
  };
  const Damage damages[] = {
      {"version", [](aiops::specbuf::SegmentHeader& h) { h.version = 99; }, "99"},
      {"magic", [](aiops::specbuf::SegmentHeader& h) { h.magic = 0x4655425350494f42ull; }, "magic"},
      {"fingerprint", [](aiops::specbuf::SegmentHeader& h) { h.fingerprint = aiops::specbuf::struct_fingerprint() + 1; },
       "fingerprint"},
  };
  for (const Damage& d : damages) {
    CAPTURE(d.what);
    ScopedSegmentName name;
    auto seg = create(name, SegmentGeometry{4, 4096});
    {
      auto good = Segment::attach(name.name(), my_uid());  // it is trusted as made
      REQUIRE_MESSAGE(good.ok(), (good.ok() ? std::string() : good.error().message()));
    }
    d.apply(seg->header());
    auto refused = Segment::attach(name.name(), my_uid());
    REQUIRE_FALSE(refused.ok());
    INFO(refused.error().message());
    CHECK(refused.error().code() == Errc::unsupported);
    CHECK(refused.error().message().find(d.what) != std::string::npos);
    CHECK(refused.error().message().find(d.named) != std::string::npos);
    // create_or_attach goes through the same checks.
    auto again = Segment::create_or_attach(AttachOptions{name.name(), my_uid(), SegmentGeometry{4, 4096}});
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code() == Errc::unsupported);
  }

  auto missing = Segment::attach("aiops-test-" + std::to_string(::getpid()) + "-none", my_uid());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code() == Errc::not_found);
}

TEST_CASE("segment: attach refuses a segment of another owner or with a looser mode") {
  ScopedSegmentName name;
  auto seg = create(name, SegmentGeometry{4, 4096});

  const uint32_t stranger = my_uid() + 1;
  auto refused = Segment::attach(name.name(), stranger);
  REQUIRE_FALSE(refused.ok());
  {
    INFO(refused.error().message());
    CHECK(refused.error().code() == Errc::permission_denied);
    CHECK(refused.error().message().find("uid " + std::to_string(stranger)) != std::string::npos);
    CHECK(refused.error().message().find("uid " + std::to_string(my_uid())) != std::string::npos);
  }

  REQUIRE(::chmod(name.path().c_str(), 0644) == 0);
  auto loose = Segment::attach(name.name(), my_uid());
  REQUIRE_FALSE(loose.ok());
  {
    INFO(loose.error().message());
    CHECK(loose.error().code() == Errc::permission_denied);
    CHECK(loose.error().message().find("mode 644") != std::string::npos);
  }
  auto loose_create = Segment::create_or_attach(AttachOptions{name.name(), my_uid(), SegmentGeometry{4, 4096}});
  REQUIRE_FALSE(loose_create.ok());
  CHECK(loose_create.error().code() == Errc::permission_denied);

  REQUIRE(::chmod(name.path().c_str(), 0600) == 0);
  auto trusted = Segment::attach(name.name(), my_uid());
  REQUIRE_MESSAGE(trusted.ok(), (trusted.ok() ? std::string() : trusted.error().message()));

  if (::geteuid() == 0) {
    const int fd = ::open(name.path().c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const int rc = ::fchown(fd, 65534, static_cast<gid_t>(-1));
    ::close(fd);
    REQUIRE(rc == 0);
    auto foreign = Segment::attach(name.name(), 0);
    REQUIRE_FALSE(foreign.ok());
    INFO(foreign.error().message());
    CHECK(foreign.error().code() == Errc::permission_denied);
    CHECK(foreign.error().message().find("uid 65534") != std::string::npos);
  } else {
    MESSAGE("not root: the check of a segment chown'ed to another uid is skipped");
  }
}

TEST_CASE("segment: entries move by CAS, the tail frees done entries, full is refused by share, payloads never wrap") {
  ScopedSegmentName name;
  auto seg = create(name, SegmentGeometry{8, 1024});
  auto& h = seg->header();

  // reserve -> WRITING with its place set; publish -> PENDING.
  auto r0 = seg->reserve(100, 1.0);
  REQUIRE(r0);
  EntryRecord& e0 = *r0->entry;
  CHECK(r0->seq == 0);
  CHECK(&e0 == &seg->slot(0));
  CHECK(r0->payload == seg->arena());
  CHECK(e0.load_state() == EntryState::writing);
  CHECK(e0.seq == 0);
  CHECK(e0.pos == 0);
  CHECK(e0.length == 100);
  CHECK(e0.writer_pid == static_cast<uint32_t>(::getpid()));
  CHECK(e0.created_ns > 0);
  CHECK(h.head_seq.load() == 1);
  CHECK(h.head_pos.load() == 100);
  CHECK(h.tail_seq.load() == 0);
  Segment::publish(e0);
  CHECK(e0.load_state() == EntryState::pending);
  Segment::publish(e0);  // only moves WRITING
  CHECK(e0.load_state() == EntryState::pending);

  // CAS: only from the expected state.
  CHECK_FALSE(e0.move(EntryState::writing, EntryState::valid));
  CHECK(e0.load_state() == EntryState::pending);
  CHECK(e0.move(EntryState::pending, EntryState::valid));
  CHECK(e0.load_state() == EntryState::valid);
  CHECK_FALSE(e0.move(EntryState::pending, EntryState::rejected));
  CHECK(e0.load_state() == EntryState::valid);

  // The tail stops at a VALID entry.
  CHECK(seg->advance_tail() == 0);
  CHECK(h.tail_seq.load() == 0);

  // 1 rejected, 2 discarded (WRITING -> FREE), 3 valid, 4 pending.
  std::vector<Reservation> rs;
  for (int i = 1; i <= 4; ++i) {
    auto r = seg->reserve(50, 1.0);
    REQUIRE(r);
    CHECK(r->seq == static_cast<uint64_t>(i));
    CHECK(r->entry->pos == 100 + 50 * static_cast<uint64_t>(i - 1));
    rs.push_back(*r);
  }
  Segment::publish(*rs[0].entry);
  CHECK(rs[0].entry->move(EntryState::pending, EntryState::rejected));
  CHECK(rs[1].entry->move(EntryState::writing, EntryState::free));
  Segment::publish(*rs[2].entry);
  CHECK(rs[2].entry->move(EntryState::pending, EntryState::valid));
  Segment::publish(*rs[3].entry);
  CHECK(seg->advance_tail() == 0);  // 0 is still VALID
  CHECK(e0.move(EntryState::valid, EntryState::applied));
  CHECK(seg->advance_tail() == 3);  // 0 applied, 1 rejected, 2 free; stops at 3 (VALID)
  CHECK(h.tail_seq.load() == 3);
  CHECK(h.tail_pos.load() == seg->slot(2).pos + seg->slot(2).length);
  for (uint64_t s = 0; s < 3; ++s) CHECK(seg->slot(s).load_state() == EntryState::free);
  CHECK(seg->slot(3).load_state() == EntryState::valid);
  CHECK(seg->slot(4).load_state() == EntryState::pending);
  CHECK(seg->occupancy().entries == 2);
  CHECK(seg->occupancy().bytes == 100);

  // Fill the ring: 6 more entries fit, the 7th is refused and counted.
  const uint64_t refused_before = h.refused_full.load();
  int taken = 0;
  while (taken < 100) {
    auto r = seg->reserve(10, 1.0);
    if (!r) break;
    Segment::publish(*r->entry);
    ++taken;
  }
  CHECK(taken == 6);
  CHECK(h.refused_full.load() == refused_before + 1);
  CHECK(seg->occupancy().entries == 8);
  const uint64_t head_before = h.head_seq.load(), head_pos_before = h.head_pos.load();
  CHECK_FALSE(seg->reserve(10, 1.0));
  CHECK(h.refused_full.load() == refused_before + 2);
  CHECK(h.head_seq.load() == head_before);  // a refusal changes nothing else
  CHECK(h.head_pos.load() == head_pos_before);

  // Space comes back once the tail moves.
  CHECK(seg->slot(3).move(EntryState::valid, EntryState::applied));
  CHECK(seg->advance_tail() == 4);  // stops at 4, PENDING
  auto back = seg->reserve(10, 1.0);
  REQUIRE(back);
  CHECK(back->seq == 11);
  CHECK(&seg->slot(11) == &seg->slot(3));  // the freed slot is reused
  CHECK(seg->occupancy().entries == 8);
}

TEST_CASE("segment: a caller's share bounds entries and bytes; a larger share is still admitted") {
  SUBCASE("entries") {
    ScopedSegmentName name;
    auto seg = create(name, SegmentGeometry{8, 1024});
    auto& h = seg->header();
    for (int i = 0; i < 4; ++i) REQUIRE(seg->reserve(1, 0.5));  // 4 of 8 entries
    CHECK_FALSE(seg->reserve(1, 0.5));
    CHECK(h.refused_full.load() == 1);
    CHECK(h.head_seq.load() == 4);
    CHECK(seg->reserve(1, 1.0));  // a higher-priority caller still gets in
    CHECK_FALSE(seg->reserve(1, 0.7));  // 6 > 5.6
    CHECK(h.refused_full.load() == 2);
    CHECK(seg->reserve(1, 0.75));  // 6 <= 6
    CHECK(h.head_seq.load() == 6);
  }
  SUBCASE("bytes") {
    ScopedSegmentName name;
    auto seg = create(name, SegmentGeometry{8, 1024});
    auto& h = seg->header();
    CHECK_FALSE(seg->reserve(300, 0.25));  // 300 > 256
    CHECK(h.refused_full.load() == 1);
    CHECK(h.head_seq.load() == 0);
    CHECK(h.head_pos.load() == 0);
    CHECK(seg->reserve(256, 0.25));  // exactly its share
    CHECK_FALSE(seg->reserve(1, 0.25));
    CHECK(h.refused_full.load() == 2);
    CHECK(seg->reserve(600, 1.0));  // 856 of 1024
    CHECK_FALSE(seg->reserve(200, 1.0));  // 1056 > 1024
    CHECK(seg->reserve(168, 1.0));  // exactly full
    CHECK(h.head_pos.load() == 1024);
    CHECK(h.refused_full.load() == 3);
  }
  SUBCASE("larger than the arena") {
    ScopedSegmentName name;
    auto seg = create(name, SegmentGeometry{8, 1024});
    CHECK_FALSE(seg->reserve(1025, 1.0));
    CHECK(seg->header().refused_full.load() == 1);
    CHECK(seg->reserve(1024, 1.0));
  }
}

TEST_CASE("segment: payloads never wrap the arena end and never overlap a live one") {
  ScopedSegmentName name;
  auto seg = create(name, SegmentGeometry{8, 1024});
  auto& h = seg->header();
  const uint64_t arena = h.arena_bytes;
  std::mt19937_64 rng(7);
  int skips = 0;
  for (int i = 0; i < 600; ++i) {
    const auto length = static_cast<uint32_t>(1 + rng() % 400);
    CAPTURE(i);
    CAPTURE(length);
    const uint64_t previous_head_pos = h.head_pos.load();
    std::optional<Reservation> r;
    while (!(r = seg->reserve(length, 1.0))) {
      // Free the oldest entry; the ring is never empty here (400 < 1024/2).
      REQUIRE(h.tail_seq.load() < h.head_seq.load());
      EntryRecord& oldest = seg->slot(h.tail_seq.load());
      REQUIRE(payload_intact(seg->payload(oldest), oldest.seq, oldest.length));
      REQUIRE(oldest.move(EntryState::pending, EntryState::applied));
      seg->advance_tail();
    }
    if (r->entry->pos != previous_head_pos) {
      ++skips;
      CHECK(r->entry->pos % arena == 0);  // skipped to the start of the arena
    }
    REQUIRE(r->payload >= seg->arena());
    REQUIRE(r->payload + length <= seg->arena() + arena);
    REQUIRE(r->entry->pos % arena + length <= arena);
    fill_payload(r->payload, r->seq, length);
    Segment::publish(*r->entry);
    const std::string problem = ring_problem(*seg);
    REQUIRE_MESSAGE(problem.empty(), problem);
  }
  CHECK(skips > 10);  // the skip path was taken
}

TEST_CASE("segment: a process killed while holding the lock does not block the next one") {
  ScopedSegmentName name;
  auto seg = create(name, SegmentGeometry{8, 4096});
  // Something to find after the recovery.
  auto first = seg->reserve(16, 1.0);
  REQUIRE(first);
  fill_payload(first->payload, first->seq, 16);
  Segment::publish(*first->entry);

  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    Segment::Lock lock(*seg);
    // A reservation cut short: the slot at head_seq claimed, head_seq not
    // yet counting it.
    auto& h = seg->header();
    const uint64_t head = h.head_seq.load();
    EntryRecord& e = seg->slot(head);
    e.seq = head;
    e.state.store(static_cast<uint32_t>(EntryState::writing));
    char c = 'L';
    if (::write(fds[1], &c, 1) != 1) ::_exit(2);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  const bool locked = read_signal(fds[0]);
  ::close(fds[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE_MESSAGE(locked, "the child did not report holding the lock");
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  Segment* s = seg.get();
  const bool recovered = within_deadline(seg, "Segment::Lock after the holder died", [s] {
    Segment::Lock lock(*s);
    return lock.recovered();
  });
  CHECK(recovered);
  auto& h = seg->header();
  CHECK(h.head_seq.load() == 1);
  CHECK(seg->slot(1).load_state() == EntryState::free);  // the cut-short reservation was undone
  CHECK(seg->slot(0).load_state() == EntryState::pending);  // the published entry is untouched
  const std::string problem = ring_problem(*seg);
  CHECK_MESSAGE(problem.empty(), problem);

  const bool again = within_deadline(seg, "a second Segment::Lock", [s] {
    Segment::Lock lock(*s);
    return lock.recovered();
  });
  CHECK_FALSE(again);  // the mutex was made consistent

  auto next = within_deadline(seg, "reserve() after the recovery", [s] { return s->reserve(32, 1.0); });
  REQUIRE(next);
  CHECK(next->seq == 1);
  CHECK(next->entry->load_state() == EntryState::writing);
  CHECK(h.head_seq.load() == 2);
}

TEST_CASE("segment: a writer killed at any instruction of reserve() leaves a usable, consistent ring") {
  constexpr uint64_t seed = 20240611;
  constexpr int rounds = 40;
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);

  ScopedSegmentName name;
  auto seg = create(name, SegmentGeometry{16, 4096});
  Segment* s = seg.get();
  auto& h = seg->header();
  int recovered_rounds = 0;
  uint64_t holes = 0;

  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    const auto delay = std::chrono::microseconds(rng() % 3001);
    CAPTURE(delay.count());

    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      writer_loop(*s, fds[1]);
    }
    ::close(fds[1]);
    const bool started = read_signal(fds[0]);
    ::close(fds[0]);
    if (started) std::this_thread::sleep_for(delay);
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE_MESSAGE(started, "the writer did not publish its first entry in time");
    CHECK(WIFSIGNALED(status));

    // The next locker gets in, repairing what the writer cut short.
    const bool recovered = within_deadline(seg, "Segment::Lock after the kill", [s] {
      Segment::Lock lock(*s);
      return lock.recovered();
    });
    recovered_rounds += recovered ? 1 : 0;
    const std::string problem = ring_problem(*seg);
    REQUIRE_MESSAGE(problem.empty(), problem);

    // A reserve() returns, even with the ring left as the writer left it.
    const auto parent = within_deadline(seg, "reserve() after the kill", [s] { return s->reserve(64, 1.0); });
    if (parent) {
      CHECK(parent->entry->load_state() == EntryState::writing);
      CHECK(parent->entry->seq == parent->seq);
      fill_payload(parent->payload, parent->seq, 64);
      Segment::publish(*parent->entry);
    }

    // What a later owner does: discard WRITING entries of the dead writer,
    // finish the rest, and let the tail free them all.
    const uint64_t head = h.head_seq.load();
    for (uint64_t q = h.tail_seq.load(); q < head; ++q) {
      EntryRecord& e = seg->slot(q);
      if (e.move(EntryState::writing, EntryState::free)) {
        CHECK(e.writer_pid == static_cast<uint32_t>(pid));
        ++holes;
      }
      e.move(EntryState::pending, EntryState::applied);
    }
    const uint64_t tail = within_deadline(seg, "advance_tail() after the kill", [s] { return s->advance_tail(); });
    CHECK(tail == head);
    CHECK(seg->occupancy().entries == 0);
    const auto empty = within_deadline(seg, "reserve() on the emptied ring", [s] { return s->reserve(64, 1.0); });
    REQUIRE(empty);
    Segment::publish(*empty->entry);
    REQUIRE(empty->entry->move(EntryState::pending, EntryState::applied));
    CHECK(seg->advance_tail() == h.head_seq.load());
    const std::string after = ring_problem(*seg);
    REQUIRE_MESSAGE(after.empty(), after);
  }
  MESSAGE(rounds << " kills: " << recovered_rounds << " inside the lock, " << holes << " WRITING entries discarded, "
                 << h.head_seq.load() << " entries reserved");
  CHECK(h.head_seq.load() >= 2 * static_cast<uint64_t>(rounds));
}
