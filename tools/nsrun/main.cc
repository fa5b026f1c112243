// SPDX-License-Identifier: Apache-2.0
// nsrun: command-line front end of the nsenter library.
//
//   nsrun [options] [--] [command...]   run a command in new/joined namespaces
//                                       (options.hpp, run.hpp)
//   nsrun decode [FILE|-]   bootstrap message (netlink bytes) -> one JSON line
//   nsrun encode [FILE|-]   JSON -> bootstrap message bytes on stdout
//
// The same binary is the init it launches (init.cc): started with
// _LIBCONTAINER_INITPIPE set, its constructor runs the pipeline before
// main() and stage 2 executes the command.
//
// Exit status of decode/encode: 0 on success, 1 when the input is rejected
// (the error is one line on stderr), 2 on a usage error. Of a run: the
// command's, 128+N if signal N killed it, 125 if nsrun failed, 2 on usage.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "nsenter/bootstrap_json.hpp"
#include "nsenter/version.hpp"
#include "nsenter/wire.hpp"
#include "options.hpp"
#include "run.hpp"

namespace {

constexpr std::string_view kCodecUsage =
    "usage: nsrun decode [--profile=runc-1.1|runc-1.2] [FILE|-]   print a bootstrap message as JSON\n"
    "       nsrun encode [--profile=runc-1.1|runc-1.2] [FILE|-]   write the message for a JSON config\n"
    "\n"
    "FILE defaults to standard input. decode reads exactly one runc init\n"
    "message (netlink header and attributes); encode writes one. The profile\n"
    "says which runc's attributes to expect (default runc-1.1; runc-1.2 has\n"
    "time_offsets where runc-1.1 has mount_sources).\n";

// Reads all of `path` ("-" is stdin), refusing more than `limit` bytes so a
// wrong file cannot make us allocate without bound.
bool slurp(const char* path, std::size_t limit, std::string& out, std::string& err) {
  const bool use_stdin = std::string_view(path) == "-";
  const int fd = use_stdin ? STDIN_FILENO : ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = fmt::format("cannot open {}: {}", path, nsenter::detail::errno_text(errno));
    return false;
  }
  char buf[65536];
  bool ok = true;
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      err = fmt::format("cannot read {}: {}", path, nsenter::detail::errno_text(errno));
      ok = false;
      break;
    }
    if (out.size() + static_cast<std::size_t>(n) > limit) {
      err = fmt::format("{} is larger than {} bytes", use_stdin ? "standard input" : path, limit);
      ok = false;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  if (!use_stdin) ::close(fd);
  return ok;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int fail(std::string_view what) {
  fmt::print(stderr, "nsrun: {}\n", what);
  return 1;
}

int cmd_decode(const char* path, nsenter::wire::Profile profile) {
  std::string bytes, err;
  // One byte more than the largest valid message, so an oversized input is
  // still seen (and reported by decode) as too large.
  if (!slurp(path, nsenter::kMaxMessageBytes + 1, bytes, err)) return fail(err);
  auto config = nsenter::wire::decode(bytes, profile);
  if (!config) return fail(nsenter::to_string(config.error()));
  const std::string json = nsenter::to_json(*config) + "\n";
  return write_all(STDOUT_FILENO, json) ? 0 : fail("cannot write standard output");
}

int cmd_encode(const char* path, nsenter::wire::Profile profile) {
  std::string text, err;
  if (!slurp(path, 4 * nsenter::kMaxMessageBytes, text, err)) return fail(err);
  auto config = nsenter::from_json(text);
  if (!config) return fail(nsenter::to_string(config.error()));
  auto bytes = nsenter::wire::encode(*config, {.profile = profile});
  if (!bytes) return fail(nsenter::to_string(bytes.error()));
  if (::isatty(STDOUT_FILENO)) return fail("refusing to write binary to a terminal; redirect standard output");
  const std::string_view out(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  return write_all(STDOUT_FILENO, out) ? 0 : fail("cannot write standard output");
}

int usage_error(std::string_view what) {
  fmt::print(stderr, "nsrun: {}\nTry 'nsrun --help'.\n", what);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view cmd = argc > 1 ? argv[1] : "";
  if (cmd == "decode" || cmd == "encode") {
    int arg = 2;
    if (arg < argc && (std::string_view(argv[arg]) == "--help" || std::string_view(argv[arg]) == "-h")) {
      fmt::print("{}", kCodecUsage);
      return 0;
    }
    auto profile = nsenter::wire::Profile::Runc11;
    if (arg < argc && std::string_view(argv[arg]).starts_with("--profile=")) {
      const std::string_view name = std::string_view(argv[arg]).substr(10);
      if (name == "runc-1.2")
        profile = nsenter::wire::Profile::Runc12;
      else if (name != "runc-1.1")
        return usage_error(fmt::format("unknown profile '{}'", name));
      ++arg;
    }
    if (argc - arg > 1) return usage_error(fmt::format("{} takes at most one FILE", cmd));
    const char* path = arg < argc ? argv[arg] : "-";
    return cmd == "decode" ? cmd_decode(path, profile) : cmd_encode(path, profile);
  }
  const nsrun::ParseResult parsed = nsrun::parse_run_args(argc, argv, 1, nsrun::real_host());
  if (parsed.help) {
    fmt::print("{}\n{}", nsrun::kRunUsage, kCodecUsage);
    return 0;
  }
  if (parsed.version) {
    fmt::print("nsrun {}\n", NSENTER_VERSION_STRING);
    return 0;
  }
  if (!parsed.request) return usage_error(parsed.error);
  const nsrun::RunRequest& req = *parsed.request;
  if (req.dry_run) {
    fmt::print("{}\n", nsenter::to_json(req.config));
    return 0;
  }
  return nsrun::run(req);
}
