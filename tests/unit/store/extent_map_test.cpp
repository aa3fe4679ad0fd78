#include <doctest/doctest.h>

#include <random>

#include "aiops/store/extent_map.hpp"

using namespace aiops::store;

namespace {

// The model: for every byte of a small volume, the sequence number of the
// record that holds it and the byte's offset in that record (0 = image).
struct Model {
  std::vector<uint64_t> seq, delta;
  explicit Model(size_t size) : seq(size, 0), delta(size, 0) {}
  void write(uint64_t off, uint64_t len, uint64_t s) {
    for (uint64_t i = 0; i < len; ++i)
      if (seq[off + i] < s) seq[off + i] = s, delta[off + i] = i;
  }
  void prune(uint64_t through) {
    for (auto& s : seq)
      if (s <= through) s = 0;
  }
};

// Record s's payload starts at file offset s * 100000 in segment s % 3.
LogLocation record(uint64_t s) { return {s, s % 3, s * 100000}; }

void check_against(const ExtentMap& map, const Model& m, uint64_t off, uint64_t len) {
  auto pieces = map.lookup(off, len);
  std::vector<uint64_t> seq(len, 0), delta(len, 0);
  uint64_t last_end = off;
  for (const Piece& p : pieces) {
    REQUIRE(p.length > 0);
    REQUIRE(p.offset >= last_end);  // sorted, no overlap
    last_end = p.offset + p.length;
    REQUIRE(last_end <= off + len);
    for (uint64_t i = 0; i < p.length; ++i) {
      seq[p.offset - off + i] = p.source.sequence;
      delta[p.offset - off + i] = p.source.file_offset + i - p.source.sequence * 100000;
      CHECK(p.source.segment == p.source.sequence % 3);
    }
  }
  for (uint64_t i = 0; i < len; ++i) {
    INFO("byte " << off + i);
    REQUIRE(seq[i] == m.seq[off + i]);
    if (seq[i] != 0) REQUIRE(delta[i] == m.delta[off + i]);
  }
}

}  // namespace

TEST_CASE("a new record replaces the middle of an older one and splits it") {
  ExtentMap map;
  map.insert(0, 100, record(1));
  map.insert(40, 20, record(2));
  auto p = map.lookup(0, 100);
  REQUIRE(p.size() == 3);
  CHECK(p[0] == Piece{0, 40, {1, 1, 100000}});
  CHECK(p[1] == Piece{40, 20, {2, 2, 200000}});
  CHECK(p[2] == Piece{60, 40, {1, 1, 100060}});
  CHECK(map.bytes() == 100);
}

TEST_CASE("an older record does not overwrite newer bytes") {
  ExtentMap map;
  map.insert(40, 20, record(5));
  map.insert(0, 100, record(3));
  auto p = map.lookup(0, 100);
  REQUIRE(p.size() == 3);
  CHECK(p[1].source.sequence == 5);
  CHECK(p[0].source.sequence == 3);
  CHECK(p[2] == Piece{60, 40, {3, 0, 300060}});
}

TEST_CASE("lookup clips pieces and leaves gaps for the volume image") {
  ExtentMap map;
  map.insert(10, 10, record(1));
  map.insert(30, 10, record(2));
  auto p = map.lookup(15, 20);
  REQUIRE(p.size() == 2);
  CHECK(p[0] == Piece{15, 5, {1, 1, 100005}});
  CHECK(p[1] == Piece{30, 5, {2, 2, 200000}});
  CHECK(map.lookup(20, 10).empty());
}

TEST_CASE("pruning drops the pieces of applied records only") {
  ExtentMap map;
  map.insert(0, 10, record(1));
  map.insert(5, 10, record(2));
  map.insert(20, 10, record(3));
  map.prune_through(2);
  auto p = map.lookup(0, 100);
  REQUIRE(p.size() == 1);
  CHECK(p[0].source.sequence == 3);
  CHECK(map.bytes() == 10);
}

TEST_CASE("random writes and prunes match a byte-by-byte model") {
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937_64 rng(seed);
    const uint64_t size = 512;
    ExtentMap map;
    Model model(size);
    uint64_t seq = 0;
    for (int step = 0; step < 400; ++step) {
      uint64_t off = rng() % size;
      uint64_t len = 1 + rng() % std::min<uint64_t>(64, size - off);
      // Mostly in order, sometimes a late (older) record.
      uint64_t s = (rng() % 8 == 0 && seq > 3) ? seq - 1 - rng() % 3 : ++seq;
      map.insert(off, len, record(s));
      model.write(off, len, s);
      if (rng() % 40 == 0) {
        uint64_t through = seq / 2;
        map.prune_through(through);
        model.prune(through);
      }
      INFO("seed " << seed << " step " << step);
      check_against(map, model, 0, size);
      uint64_t qoff = rng() % size;
      check_against(map, model, qoff, 1 + rng() % (size - qoff));
    }
  }
}

TEST_CASE("block-aligned writes, the common case, and pruning in steps match the model") {
  for (uint64_t seed : {11u, 12u, 13u}) {
    std::mt19937_64 rng(seed);
    const uint64_t block = 8, blocks = 64, size = block * blocks;
    ExtentMap map;
    Model model(size);
    uint64_t seq = 0;
    for (int step = 0; step < 600; ++step) {
      // Mostly one block on a block boundary (replaces one piece exactly, or
      // lands where there is none); sometimes two or three blocks.
      uint64_t first = rng() % blocks;
      uint64_t count = rng() % 4 == 0 ? 1 + rng() % std::min<uint64_t>(3, blocks - first) : 1;
      uint64_t s = (rng() % 10 == 0 && seq > 3) ? seq - 1 - rng() % 3 : ++seq;
      map.insert(first * block, count * block, record(s));
      model.write(first * block, count * block, s);
      if (rng() % 50 == 0) {
        uint64_t through = seq - rng() % 5;
        std::optional<uint64_t> from = 0;
        int steps = 0;
        while (from) from = map.prune_through(through, *from, 3), ++steps;
        CHECK(steps >= 1);
        model.prune(through);
      }
      INFO("seed " << seed << " step " << step);
      check_against(map, model, 0, size);
    }
    uint64_t bytes = 0;
    for (const Piece& p : map.lookup(0, size)) bytes += p.length;
    CHECK(map.bytes() == bytes);
  }
}

TEST_CASE("pruning in steps stops after the given number of pieces and goes on from where it stopped") {
  ExtentMap map;
  for (uint64_t i = 0; i < 10; ++i) map.insert(i * 100, 10, record(i + 1));
  auto next = map.prune_through(5, 0, 4);  // looks at the pieces at 0, 100, 200, 300
  REQUIRE(next.has_value());
  CHECK(*next == 400);
  CHECK(map.pieces() == 6);
  next = map.prune_through(5, *next, 4);  // 400 dropped; 500, 600, 700 stay
  REQUIRE(next.has_value());
  CHECK(*next == 800);
  CHECK_FALSE(map.prune_through(5, *next, 4).has_value());
  CHECK(map.pieces() == 5);
  CHECK(map.lookup(0, 1000).front().source.sequence == 6);
}
