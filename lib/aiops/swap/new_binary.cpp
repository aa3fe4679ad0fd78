#include "aiops/swap/new_binary.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <csignal>
#include <cstring>
#include <memory>

#include <openssl/evp.h>

#include "aiops/swap/fd_channel.hpp"

extern char** environ;

namespace aiops::swap {

Result<std::string> file_sha256(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return error_from_errno(errno, "new binary " + path.string() + ": open");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Error(Errc::io_error, "new binary " + path.string() + ": SHA-256 is not available from libcrypto");
  std::array<unsigned char, 1 << 16> chunk{};
  for (;;) {
    ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return error_from_errno(errno, "new binary " + path.string() + ": read");
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), chunk.data(), static_cast<size_t>(n));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest.data(), &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

Status check_binary(const std::filesystem::path& path, std::optional<std::string_view> sha256_hex) {
  const std::string name = "new binary " + path.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Error(Errc::not_found, name + " does not exist");
    return error_from_errno(errno, name);
  }
  if (!S_ISREG(st.st_mode)) return Error(Errc::invalid_input, name + " is not a regular file");
  if (::access(path.c_str(), X_OK) != 0) return Error(Errc::permission_denied, name + " is not executable");
  if ((st.st_mode & S_IWOTH) != 0)
    return Error(Errc::permission_denied, name + " is writable by others (mode " +
                                              std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                                              std::to_string(st.st_mode & 7) + "); refusing to run it");
  if (sha256_hex) {
    std::string expected(*sha256_hex);
    for (char& c : expected) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    AIOPS_ASSIGN(std::string actual, file_sha256(path));
    if (actual != expected)
      return Error(Errc::invalid_input, name + " fails its checksum: SHA-256 is " + actual + ", expected " + expected);
  }
  return {};
}

Result<pid_t> spawn_takeover(const std::filesystem::path& binary, const std::filesystem::path& config, int channel_fd) {
  posix_spawn_file_actions_t actions;
  if (int e = posix_spawn_file_actions_init(&actions); e != 0) return error_from_errno(e, "posix_spawn_file_actions_init");
  // dup2 onto itself would keep close-on-exec; the channel is moved to 3
  // from wherever it is (a copy first when it already is 3).
  UniqueFd moved;
  int from = channel_fd;
  if (from == takeover_fd) {
    moved = UniqueFd(::fcntl(from, F_DUPFD_CLOEXEC, takeover_fd + 1));
    if (!moved.valid()) return error_from_errno(errno, "duplicate the update channel");
    from = moved.get();
  }
  posix_spawn_file_actions_adddup2(&actions, from, takeover_fd);
  posix_spawn_file_actions_addclosefrom_np(&actions, takeover_fd + 1);
  const std::string bin = binary.string(), cfg = config.string(), fd = std::to_string(takeover_fd);
  std::array<char*, 6> argv{const_cast<char*>(bin.c_str()), const_cast<char*>("--config"), const_cast<char*>(cfg.c_str()),
                            const_cast<char*>("--takeover-fd"), const_cast<char*>(fd.c_str()), nullptr};
  pid_t pid = 0;
  int e = ::posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (e != 0) return error_from_errno(e, "start new binary " + bin);
  return pid;
}

std::optional<std::string> child_ended(pid_t pid, bool wait) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, wait ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::nullopt;
  if (r < 0) return std::string("is gone (") + std::strerror(errno) + ")";
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return std::string("stopped");
}

}  // namespace aiops::swap
