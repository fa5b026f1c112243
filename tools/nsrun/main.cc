// nsrun: command-line front end of the nsenter library.
//
//   nsrun decode [FILE|-]   bootstrap message (netlink bytes) -> one JSON line
//   nsrun encode [FILE|-]   JSON -> bootstrap message bytes on stdout
//
// Started with _LIBCONTAINER_INITPIPE set, nsrun is a runc-compatible init:
// its constructor runs the pipeline before main(), and stage 2 executes the
// command after "--" (nsrun -- /bin/sh -c 'id'), or $SHELL, or /bin/sh.
//
// Exit status: 0 on success, 1 when the input is rejected (the error is one
// line on stderr), 2 on a usage error.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "nsenter/bootstrap_json.hpp"
#include "nsenter/embed.hpp"
#include "nsenter/env.hpp"
#include "nsenter/version.hpp"
#include "nsenter/wire.hpp"

namespace {

// Stage 2 of an init: hand the process over to the command. The init and
// log pipes become close-on-exec rather than closed, so that an exec
// failure can still be reported on the log pipe; the protocol's variables
// are removed so the command (another nsrun, say) is not an init again.
[[noreturn]] void exec_command(nsenter::InitContext& ctx, int argc, char** argv) {
  char** command = nullptr;
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--") {
      command = argv + i + 1;
      break;
    }
  const char* shell = std::getenv("SHELL");
  char* fallback[] = {const_cast<char*>(shell != nullptr && *shell != '\0' ? shell : "/bin/sh"), nullptr};
  if (command == nullptr || *command == nullptr) command = fallback;
  for (const char* name : nsenter::RuncEnv::all) ::unsetenv(name);
  ::fcntl(ctx.init_pipe, F_SETFD, FD_CLOEXEC);
  if (ctx.log_pipe >= 0) ::fcntl(ctx.log_pipe, F_SETFD, FD_CLOEXEC);
  ::execvp(command[0], command);
  const int err = errno;
  nsenter::Error e = nsenter::make_sys_error(nsenter::Op::Exec, err, command[0]);
  e.stage = nsenter::Stage::Init;
  nsenter::RuncLogger(ctx.log_pipe, nsenter::LogLevel::Fatal).fatal(e);
  ::_exit(err == ENOENT ? 127 : 126);
}

}  // namespace

NSENTER_INIT_CONSTRUCTOR(nsrun_init, 200, nsenter::RuncCompatNsexec, exec_command)

namespace {


constexpr std::string_view kUsage =
    "usage: nsrun decode [--profile=runc-1.1|runc-1.2] [FILE|-]   print a bootstrap message as JSON\n"
    "       nsrun encode [--profile=runc-1.1|runc-1.2] [FILE|-]   write the message for a JSON config\n"
    "       nsrun --help | --version\n"
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
    err = fmt::format("cannot open {}: {}", path, strerrordesc_np(errno));
    return false;
  }
  char buf[65536];
  bool ok = true;
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      err = fmt::format("cannot read {}: {}", path, strerrordesc_np(errno));
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
  fmt::print(stderr, "nsrun: {}\n{}", what, kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("missing command");
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h") {
    fmt::print("{}", kUsage);
    return 0;
  }
  if (cmd == "--version") {
    fmt::print("nsrun {}\n", NSENTER_VERSION_STRING);
    return 0;
  }
  if (cmd == "decode" || cmd == "encode") {
    int arg = 2;
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
  return usage_error(fmt::format("unknown command '{}'", cmd));
}
