#pragma once
// The replies of one session waiting to go out, and the one write that
// sends them. Every reply queued while a write is in progress goes out in
// the next write, all of them in one gather (sendmsg with one iovec per
// reply): under a pipelined load the log acknowledges records in rounds,
// and one system call per round costs far less than one per reply (on
// loopback each send also runs the receiver's TCP input).
//
// Order: replies go out in the order they were queued, and a reply is never
// split from the ones around it by another write, because at most one write
// is in progress.
//
// Thread-safety: none; the owning session calls it on its strand.

#include <cstddef>
#include <utility>
#include <vector>

#include "aiops/core/asio.hpp"

namespace aiops::worker {

class ReplyQueue {
 public:
  void push(std::vector<std::byte> frame) { queued_.push_back(std::move(frame)); }
  /// Nothing queued and no write in progress.
  [[nodiscard]] bool idle() const { return !writing_ && queued_.empty(); }
  [[nodiscard]] bool writing() const { return writing_; }

  /// Starts a write of every queued reply unless one is in progress or
  /// nothing is queued. `done(error_code)` runs when it ends (on the
  /// socket's executor); the queue is ready for the next write by then.
  template <class Socket, class Done>
  void write(Socket& socket, Done&& done) {
    if (writing_ || queued_.empty()) return;
    writing_ = true;
    sending_.swap(queued_);
    buffers_.clear();
    for (const auto& frame : sending_) buffers_.emplace_back(frame.data(), frame.size());
    boost::asio::async_write(socket, buffers_,
                             [this, done = std::forward<Done>(done)](const boost::system::error_code& ec,
                                                                     size_t) mutable {
                               writing_ = false;
                               sending_.clear();  // keeps its capacity for the next write
                               done(ec);
                             });
  }

 private:
  std::vector<std::vector<std::byte>> queued_;
  std::vector<std::vector<std::byte>> sending_;  // what the write in progress sends
  std::vector<boost::asio::const_buffer> buffers_;
  bool writing_ = false;
};

}  // namespace aiops::worker
