#include "aiops/load/verifier.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "aiops/load/record_file.hpp"
#include "aiops/load/stamp.hpp"

namespace aiops::load {
namespace {

constexpr size_t max_problems = 20;
constexpr size_t read_window = 32;

struct Block {
  uint32_t volume = 0;
  uint64_t offset = 0;
  uint32_t size = 0;
};

// What the record says about one block: its last acknowledged write and the
// writes issued after that one whose outcome is unknown.
struct BlockHistory {
  Block block;
  std::optional<StampId> last_acked;
  std::vector<std::pair<uint64_t, StampId>> open;  // (record line, write) issued, not (yet) superseded
  bool known(const StampId& id) const { return std::any_of(all.begin(), all.end(), [&](const StampId& w) { return w == id; }); }
  std::vector<StampId> all;  // every write to the block
};

using BlockKey = std::pair<uint32_t, uint64_t>;  // volume, offset

struct History {
  std::map<BlockKey, BlockHistory> blocks;
  std::map<StampId, std::pair<BlockKey, uint64_t>> in_flight;  // issued, not acknowledged: block, line
  std::map<uint64_t, uint32_t> run_sizes;
  uint64_t writes = 0, acked = 0;
};

Status apply(History& h, const RecordEvent& e, const std::filesystem::path& file) {
  auto where = [&] { return file.string() + ":" + std::to_string(e.line) + ": "; };
  switch (e.kind) {
    case RecordEvent::Kind::run:
      h.run_sizes[e.id.run] = e.write_size;
      return {};
    case RecordEvent::Kind::issued: {
      auto size = h.run_sizes.find(e.id.run);
      if (size == h.run_sizes.end()) return Error(Errc::invalid_input, where() + "write of an unannounced run");
      BlockKey key{e.volume, e.offset};
      BlockHistory& b = h.blocks[key];
      if (b.block.size != 0 && b.block.size != size->second)
        return Error(Errc::invalid_input, where() + "runs with different write sizes overlap at volume " +
                                              std::to_string(e.volume) + " offset " + std::to_string(e.offset));
      b.block = {e.volume, e.offset, size->second};
      b.open.emplace_back(e.line, e.id);
      b.all.push_back(e.id);
      h.in_flight[e.id] = {key, e.line};
      ++h.writes;
      return {};
    }
    case RecordEvent::Kind::acked: {
      auto it = h.in_flight.find(e.id);
      if (it == h.in_flight.end()) return Error(Errc::invalid_input, where() + "acknowledgement of a write never issued");
      BlockHistory& b = h.blocks[it->second.first];
      uint64_t line = it->second.second;
      h.in_flight.erase(it);
      // The acknowledged write supersedes every write issued before it.
      std::erase_if(b.open, [&](const auto& w) { return w.first <= line; });
      b.last_acked = e.id;
      ++h.acked;
      return {};
    }
  }
  return {};
}

enum class Verdict { ok, lost, unexpected };

// `runs`: the runs the record covers; a stamp of another run is what the
// block held before the record began.
Verdict judge(const BlockHistory& b, const BlockContent& c, const std::map<uint64_t, uint32_t>& runs) {
  auto open = [&](const StampId& id) {
    return std::any_of(b.open.begin(), b.open.end(), [&](const auto& w) { return w.second == id; });
  };
  if (c.kind == BlockKind::damaged) return Verdict::unexpected;
  if (c.kind == BlockKind::zeros) return b.last_acked ? Verdict::lost : Verdict::ok;
  if ((b.last_acked && c.id == *b.last_acked) || open(c.id)) return Verdict::ok;
  if (b.known(c.id)) return Verdict::lost;
  if (runs.count(c.id.run) != 0) return Verdict::unexpected;  // a write of these runs that never went here
  return b.last_acked ? Verdict::lost : Verdict::ok;         // older than the record
}

std::string describe(const BlockHistory& b, const BlockContent& c, Verdict v) {
  std::string held = c.kind == BlockKind::zeros    ? "zeros"
                     : c.kind == BlockKind::damaged ? "bytes that are no stamped write"
                                                    : "write " + std::to_string(c.id.sequence) + " of client " +
                                                          std::to_string(c.id.client);
  std::string want = b.last_acked ? "acknowledged write " + std::to_string(b.last_acked->sequence) + " of client " +
                                        std::to_string(b.last_acked->client)
                                  : std::string("no acknowledged write");
  return std::string(v == Verdict::lost ? "lost: " : "unexpected: ") + "volume " + std::to_string(b.block.volume) +
         " offset " + std::to_string(b.block.offset) + " holds " + held + "; the record has " + want;
}

}  // namespace

Result<VerifyResult> run_verify(const VerifyOptions& opt) {
  History h;
  {
    AIOPS_ASSIGN(auto reader, RecordReader::open(opt.record));
    RecordEvent e;
    while (true) {
      AIOPS_ASSIGN(bool more, reader->next(e));
      if (!more) break;
      AIOPS_TRY(apply(h, e, opt.record));
    }
  }
  AIOPS_ASSIGN(auto conn, client::NativeClient::connect(opt.endpoint, opt.client, opt.token, opt.request_timeout));
  VerifyResult r;
  r.writes = h.writes;
  r.acked = h.acked;
  std::vector<const BlockHistory*> order;
  for (const auto& [key, b] : h.blocks) order.push_back(&b);
  // A window of reads in flight; replies may come in any order.
  size_t sent = 0, done = 0;
  while (done < order.size()) {
    while (sent < order.size() && sent - done < read_window) {
      const Block& b = order[sent]->block;
      AIOPS_TRY(conn->send_read(sent, b.volume, b.offset, b.size));
      ++sent;
    }
    AIOPS_ASSIGN(client::Reply reply, conn->receive());
    if (reply.header.handle >= order.size())
      return Error(Errc::invalid_input, "verify: reply for unknown handle " + std::to_string(reply.header.handle));
    const BlockHistory& b = *order[reply.header.handle];
    if (reply.header.status != net::Status::ok)
      return client::refusal(reply.header).with_context("verify: read of volume " + std::to_string(b.block.volume) +
                                                        " offset " + std::to_string(b.block.offset));
    BlockContent c = read_stamp(reply.payload, b.block.offset);
    Verdict v = judge(b, c, h.run_sizes);
    ++r.checked;
    if (v == Verdict::ok) ++r.ok;
    else if (v == Verdict::lost) ++r.lost;
    else ++r.unexpected;
    if (v != Verdict::ok && r.problems.size() < max_problems) r.problems.push_back(describe(b, c, v));
    ++done;
    if (opt.progress && done % 4096 == 0) opt.progress(done, order.size());
  }
  return r;
}

}  // namespace aiops::load
