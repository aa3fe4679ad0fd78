#pragma once
// A complete worker instance in one directory, as `aiops config init` makes
// it: anyone can start a worker with
//
//   aiops config init --dir D && aiops-worker --config D/aiops.toml
//
// init_instance(D) writes two files:
//   D/aiops.toml        worker name from D's base name; data_dir "data",
//                       control_socket "control.sock", credentials_file
//                       "credentials.toml"; one native and one NBD
//                       listener on 127.0.0.1, each at a port that was
//                       free a moment ago;
//                       demo-sized log segments (16MiB) and buffer (64MiB);
//                       volumes vol0 (id 1) and vol1 (id 2) of 256MiB; SLA
//                       classes gold (8), silver (4), bronze (1); clients
//                       gold-1, gold-2, silver-1, silver-2, bronze-1,
//                       bronze-2 (ids 1-6), each with rw on both volumes and
//                       a fresh random token, of which only the SHA-256 is
//                       in this file; NBD exports vol0 (as gold-1) and
//                       vol1 (as silver-1), allowed to 127.0.0.1 and ::1.
//   D/credentials.toml  the six clear tokens (credentials.hpp), mode 0600.
//
// Invariants:
//   * every path in aiops.toml is relative to D, so D can be moved or
//     copied as a whole and still works;
//   * a success means the files were re-read with load_config and
//     load_credentials and both accepted them;
//   * nothing is created or changed when D/aiops.toml or
//     D/credentials.toml already exists (unless `force`), or when
//     D/control.sock would be too long for a Unix socket address (107
//     bytes): the operator picks a shorter directory rather than getting a
//     socket somewhere else.
//
// The port is found by binding a TCP socket to 127.0.0.1:0, reading the
// port back and closing the socket, so another process can take it before
// the worker starts; the worker then fails to listen and says so, and a
// new init (with force) picks another port.
//
// Files are written whole (io/replace_file.hpp), credentials first. An I/O
// error between the two can leave new credentials beside an old
// aiops.toml; running init again with force repairs that. D itself, and any
// missing parent, is created with mode 0700.

#include <filesystem>
#include <string>
#include <vector>

#include "aiops/core/error.hpp"

namespace aiops::config {

struct InitResult {
  std::filesystem::path config_file;       // absolute: D/aiops.toml
  std::filesystem::path credentials_file;  // absolute: D/credentials.toml
  std::string listener;                    // "127.0.0.1:PORT": native
  std::string nbd_listener;                // "127.0.0.1:PORT": NBD
  std::filesystem::path control_socket;    // absolute: D/control.sock
  std::vector<std::string> clients;        // names, in the order of the file
  std::vector<std::string> volumes;        // names, in the order of the file
};

/// The worker name init_instance gives an instance in `dir`: the base name
/// of `dir` lowercased, other characters than [a-z0-9_-] replaced by '-',
/// cut to 32 characters; "aiops" when nothing is left.
[[nodiscard]] std::string instance_name(const std::filesystem::path& dir);

/// Writes the instance described above into `dir`. Errors:
/// Errc::already_exists naming the file that is there (without `force`);
/// invalid_input for a directory whose control socket path would be too
/// long or that is not a directory; the errno-derived code of any failed
/// system call, with the path.
[[nodiscard]] Result<InitResult> init_instance(const std::filesystem::path& dir, bool force);

}  // namespace aiops::config
