#include "aiops/core/error.hpp"

#include <cerrno>
#include <cstring>

namespace aiops {

std::string_view errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::permission_denied: return "permission_denied";
    case Errc::io_error: return "io_error";
    case Errc::no_space: return "no_space";
    case Errc::corrupt: return "corrupt";
    case Errc::log_failed: return "log_failed";
    case Errc::busy: return "busy";
    case Errc::unsupported: return "unsupported";
    case Errc::crashed: return "crashed";
    case Errc::timeout: return "timeout";
    case Errc::invalid_input: return "invalid_input";
    case Errc::unreachable: return "unreachable";
    case Errc::disconnected: return "disconnected";
  }
  return "unknown";
}

Error Error::with_context(std::string_view context) const {
  std::string m(context);
  m += ": ";
  m += message_;
  return Error(code_, std::move(m), errno_);
}

Error error_from_errno(int sys_errno, std::string_view context) {
  Errc code = Errc::io_error;
  switch (sys_errno) {
    case ENOENT: code = Errc::not_found; break;
    case EEXIST: code = Errc::already_exists; break;
    case EACCES:
    case EPERM:
    case EROFS: code = Errc::permission_denied; break;
    case ENOSPC:
    case EDQUOT: code = Errc::no_space; break;
    case EWOULDBLOCK: code = Errc::busy; break;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case EISDIR: code = Errc::invalid_argument; break;
    case ETIMEDOUT: code = Errc::timeout; break;
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH: code = Errc::unreachable; break;
    case ECONNRESET:
    case EPIPE: code = Errc::disconnected; break;
    default: code = Errc::io_error; break;
  }
  std::string m(context);
  m += ": ";
  m += std::strerror(sys_errno);
  return Error(code, std::move(m), sys_errno);
}

}  // namespace aiops
