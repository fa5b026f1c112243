// SPDX-License-Identifier: Apache-2.0
// nsrun's command line for running a command: unshare(1)- and
// nsenter(1)-style flags turned into a Bootstrap plus what the init's stage
// 2 and the parent loop need. Pure: the caller passes in the facts of the
// machine (ids, namespace inodes), so every rule here is testable.
#pragma once

#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nsenter/bootstrap.hpp"
#include "nsenter/detail/libc.hpp"
#include "nsenter/detail/decimal.hpp"
#include "nsenter/log.hpp"
#include "nsenter/log_reader.hpp"
#include "nsenter/wire.hpp"

namespace nsrun {

using nsenter::Bootstrap;
using nsenter::NsKind;
using nsenter::NsSet;

enum class TtyMode { Auto, Always, Never };

struct RunRequest {
  Bootstrap config;
  nsenter::wire::Profile profile = nsenter::wire::Profile::Runc11;
  std::vector<std::string> command;  // empty: $SHELL or /bin/sh
  std::vector<std::string> init_flags;  // for the init's stage 2 (see init.cc)
  nsenter::LogLevel log_level = nsenter::LogLevel::Error;
  TtyMode tty = TtyMode::Auto;
  bool dry_run = false;
  bool defaults = false;  // no namespace flag was given
  bool reaper = true;     // with a new pid namespace, a pid-1 reaper runs the command
  int preserve_fds = 0;   // fds 3 .. 3+N-1 reach the command
  int kill_child = 0;     // the signal the container gets when nsrun dies; 0: none
  // -t PID: the namespaces taken from it, as /proc/PID/ns/* paths with the
  // inodes read when they were chosen. run() pins the process (a pidfd),
  // checks they are still its, and lets the command go only if it is still
  // alive once the init has joined them: its pid, reused meanwhile, would
  // name a stranger's.
  struct Target {
    pid_t pid = 0;
    std::vector<std::pair<std::string, ino_t>> joined;
    // -t PID:INODE (util-linux 2.42): the inode of the process's pidfd
    // (pidfs, Linux 6.9), which names that process and no later one.
    std::optional<std::uint64_t> pidfd_inode;
    bool take_env = false;     // --env: the command gets the target's environment
    bool join_cgroup = false;  // --join-cgroup: the init starts in the target's cgroup (v2)
  };
  std::optional<Target> target;
};

// What the parser may ask of the machine.
struct Host {
  uid_t euid = 0;
  gid_t egid = 0;
  // The inode of /proc/<pid>/ns/<kind>, nullopt if it cannot be read.
  std::function<std::optional<ino_t>(const std::string& path)> ns_inode;
  std::function<bool(const std::string& path)> executable;
  // A small text file whole (/etc/subuid, /etc/passwd, /proc/self/uid_map,
  // ...); nullopt if it cannot be read.
  std::function<std::optional<std::string>(const std::string& path)> read_text;
};

// A small file whole (/etc, /proc); nullopt if it cannot be opened or read.
inline std::optional<std::string> read_whole(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return std::nullopt;
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  const bool ok = !std::ferror(f);
  std::fclose(f);
  return ok ? std::optional<std::string>(text) : std::nullopt;
}

inline Host real_host() {
  Host h;
  h.euid = ::geteuid();
  h.egid = ::getegid();
  h.ns_inode = [](const std::string& path) -> std::optional<ino_t> {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return st.st_ino;
  };
  h.executable = [](const std::string& path) { return ::access(path.c_str(), X_OK) == 0; };
  h.read_text = read_whole;
  return h;
}

struct ParseResult {
  std::optional<RunRequest> request;
  std::string error;  // a usage error, one line
  bool help = false;
  bool version = false;
};

inline constexpr std::string_view kRunUsage =
    "usage: nsrun [options] [--] [command [args...]]\n"
    "\n"
    "Runs command ($SHELL or /bin/sh by default) in new and/or joined namespaces,\n"
    "through runc's init protocol. Without namespace options: a user namespace\n"
    "mapping you to root, plus new pid, mount, uts and ipc namespaces and a fresh\n"
    "/proc, which works without privileges.\n"
    "\n"
    "New namespaces (as unshare):\n"
    "  -U, --user            user namespace (maps you to root unless a map is given)\n"
    "  -p, --pid             pid namespace          -m, --mount    mount namespace\n"
    "  -u, --uts             uts namespace          -i, --ipc      ipc namespace\n"
    "  -n, --net             network namespace      -C, --cgroup   cgroup namespace\n"
    "  -T, --time            time namespace\n"
    "      --monotonic=SECS  offset CLOCK_MONOTONIC in the time namespace (implies -T)\n"
    "      --boottime=SECS   offset CLOCK_BOOTTIME in the time namespace (implies -T)\n"
    "  -r, --map-root-user   map your uid and gid to root (implies -U)\n"
    "      --map-user=UID    map your uid to UID (name or number; implies -U)\n"
    "      --map-group=GID   map your gid to GID (name or number; implies -U)\n"
    "      --map-users=INSIDE:OUTSIDE:COUNT   add a uid range (repeatable; uses\n"
    "                        newuidmap when not root; implies -U)\n"
    "      --map-groups=INSIDE:OUTSIDE:COUNT  the same for gids (newgidmap)\n"
    "                        (unshare's older OUTSIDE,INSIDE,COUNT is taken too)\n"
    "      --map-users=auto|subids|all, --map-groups=auto|subids|all\n"
    "                        your first /etc/subuid (subgid) range from 0 (auto), or\n"
    "                        onto itself with you as yourself (subids); every id\n"
    "                        of ours, onto itself (all; root only)\n"
    "      --map-auto, --map-subids  both --map-users and --map-groups so\n"
    "      --map-current-user  map your uid and gid to themselves (implies -U)\n"
    "      --mount-proc      mount a fresh /proc (needs new pid and mount namespaces)\n"
    "      --no-reaper       in a new pid namespace, run the command itself as pid 1\n"
    "                        (default: pid 1 is a small init that forwards signals to\n"
    "                        the command and reaps orphans; the kernel gives pid 1\n"
    "                        only the signals it handles)\n"
    "      --forward-signals  accepted for unshare 2.42's sake: nsrun always passes\n"
    "                        SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 on\n"
    "                        to the command\n"
    "      --kill-child[=SIGNAL]  when nsrun dies, send SIGNAL (default KILL) to\n"
    "                        the command's first process (as unshare)\n"
    "      --setgroups=allow|deny  setgroups(2) in a new user namespace (default:\n"
    "                        allow as root, deny otherwise, as the kernel needs)\n"
    "      --propagation=private|slave|shared|unchanged  the propagation of / in\n"
    "                        a new mount namespace (default private, as unshare)\n"
    "\n"
    "Joined namespaces (as nsenter):\n"
    "  -t, --target=PID[:INODE]  join all of PID's namespaces that differ from\n"
    "                        ours; INODE, its pidfd's inode (Linux 6.9), names the\n"
    "                        process itself, not whoever has its pid;\n"
    "                        with kind options, only those kinds of PID's\n"
    "  -e, --env             with -t, the command gets PID's environment\n"
    "  -c, --join-cgroup     with -t, start in PID's cgroup (cgroup v2)\n"
    "  --KIND=PATH           join the namespace at PATH; KIND is one of user pid\n"
    "                        mount uts ipc net cgroup time (e.g. --net=/run/netns/x)\n"
    "\n"
    "The command (as unshare and nsenter):\n"
    "  -R, --root=DIR        run it with DIR as its root directory (chroot)\n"
    "  -w, --wd=DIR          run it in DIR (inside --root, if given)\n"
    "  -S, --setuid=UID      run it as UID (name or number, inside its namespaces)\n"
    "  -G, --setgid=GID      run it as GID, no supplementary groups\n"
    "      --keep-caps       it keeps the capabilities its namespaces give the\n"
    "                        init, though it runs as another uid than 0 there\n"
    "\n"
    "Other:\n"
    "      --oom-score-adj=N set the init's oom_score_adj (-1000..1000)\n"
    "      --preserve-fds=N  pass fds 3 .. 3+N-1 to the command (as runc); every\n"
    "                        other fd above 2 is closed for it\n"
    "      --log-level=LEVEL show the init's log records up to LEVEL (panic fatal\n"
    "                        error warning info debug trace; default error)\n"
    "      --tty, --no-tty   give the command a new pseudo-terminal (default: when\n"
    "                        stdin and stdout are terminals)\n"
    "      --dry-run         print the bootstrap config as JSON and exit\n"
    "  -h, --help            this text         -V, --version   nsrun's version\n"
    "\n"
    "Also: nsrun decode|encode [--profile=runc-1.1|runc-1.2] [FILE|-] (see\n"
    "nsrun decode --help). Exit status: the command's, or 128+N when signal N\n"
    "killed it; 125 when nsrun itself fails, 2 for usage errors.\n";

namespace detail {

template <class T>
bool parse_int(std::string_view text, T& out) {
  const auto v = nsenter::detail::parse_decimal<T>(text);
  if (v) out = *v;
  return v.has_value();
}

// A number, or a name from /etc/passwd (/etc/group). Read with
// fgetpwent/fgetgrent rather than getpwnam: nsrun is linked statically (it
// starts faster as an init), and a static getpwnam would dlopen the NSS
// modules of whatever glibc the host has.
inline std::optional<std::uint32_t> user_id(std::string_view text, bool is_group) {
  std::uint32_t id = 0;
  if (parse_int(text, id)) return id;
  std::FILE* db = std::fopen(is_group ? "/etc/group" : "/etc/passwd", "re");
  if (db == nullptr) return std::nullopt;
  std::optional<std::uint32_t> found;
  if (is_group) {
    while (const struct group* g = ::fgetgrent(db))
      if (text == g->gr_name) {
        found = g->gr_gid;
        break;
      }
  } else {
    while (const struct passwd* p = ::fgetpwent(db))
      if (text == p->pw_name) {
        found = p->pw_uid;
        break;
      }
  }
  std::fclose(db);
  return found;
}

// unshare before util-linux 2.39 took OUTSIDE,INSIDE,COUNT (commas); the
// colon form is /proc/PID/uid_map's order, INSIDE:OUTSIDE:COUNT. Both are
// taken, each in its own order, never one read as the other.
inline std::optional<nsenter::IdMapEntry> id_range(std::string_view text) {
  nsenter::IdMapEntry e;
  if (text.find(',') != std::string_view::npos) {
    const auto a = text.find(',');
    const auto b = text.find(',', a + 1);
    if (b == std::string_view::npos || !parse_int(text.substr(0, a), e.outside) ||
        !parse_int(text.substr(a + 1, b - a - 1), e.inside) || !parse_int(text.substr(b + 1), e.count))
      return std::nullopt;
    return e;
  }
  const auto a = text.find(':');
  const auto b = a == std::string_view::npos ? a : text.find(':', a + 1);
  if (b == std::string_view::npos || !parse_int(text.substr(0, a), e.inside) ||
      !parse_int(text.substr(a + 1, b - a - 1), e.outside) || !parse_int(text.substr(b + 1), e.count))
    return std::nullopt;
  return e;
}

// Calls `f` with each line of `text` (no newline), and the words of a
// line split at spaces and tabs: what nsrun reads of /etc and /proc files.
// Not iostreams, which would add two thirds to nsrun's static binary.
template <class F>
void for_each_line(std::string_view text, F f) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    f(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
}

inline std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) return out;
    line.remove_prefix(start);
    const auto end = line.find_first_of(" \t");
    out.push_back(line.substr(0, end));
    if (end == std::string_view::npos) return out;
    line.remove_prefix(end);
  }
}

// The first range /etc/subuid (`text`) gives the user named `name` or
// numbered `id`: {start, count}. Lines are NAME_OR_ID:START:COUNT.
inline std::optional<std::pair<std::uint32_t, std::uint32_t>> first_subid_range(std::string_view text,
                                                                                std::string_view name,
                                                                                std::uint32_t id) {
  std::optional<std::pair<std::uint32_t, std::uint32_t>> found;
  for_each_line(text, [&](std::string_view line) {
    const auto a = line.find(':');
    const auto b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (found || b == std::string_view::npos || line.starts_with('#')) return;
    const std::string_view who = line.substr(0, a);
    std::uint32_t who_id = 0, start = 0, count = 0;
    if (who != name && !(parse_int(who, who_id) && who_id == id)) return;
    if (parse_int(line.substr(a + 1, b - a - 1), start) && parse_int(line.substr(b + 1), count) && count > 0)
      found = std::pair{start, count};
  });
  return found;
}

// The login name /etc/passwd (`text`) gives `uid`, or "".
inline std::string login_name(std::string_view text, std::uint32_t uid) {
  std::string found;
  for_each_line(text, [&](std::string_view line) {
    const auto a = line.find(':');
    const auto b = a == std::string_view::npos ? a : line.find(':', a + 1);
    const auto c = b == std::string_view::npos ? b : line.find(':', b + 1);
    std::uint32_t id = 0;
    if (found.empty() && c != std::string_view::npos && parse_int(line.substr(b + 1, c - b - 1), id) && id == uid)
      found = line.substr(0, a);
  });
  return found;
}

// Where /etc/nsswitch.conf (`text`) takes subordinate ids from, if not from
// the files: "" for the files (or no subid line).
inline std::string subid_source_elsewhere(std::string_view text) {
  std::string source;
  bool seen = false;
  for_each_line(text, [&](std::string_view line) {
    if (seen || !line.starts_with("subid:")) return;
    seen = true;
    const auto first = words(line.substr(6, line.find('#') == std::string_view::npos ? std::string_view::npos
                                                                                    : line.find('#') - 6));
    if (!first.empty() && first[0] != "files") source = first[0];
  });
  return source;
}

// "SECS" or "SECS.FRACTION", negative allowed (the clock runs behind).
inline std::optional<nsenter::TimeOffset> time_offset(nsenter::Clock clock, std::string_view text) {
  nsenter::TimeOffset t{clock, 0, 0};
  const auto dot = text.find('.');
  if (!parse_int(text.substr(0, dot), t.secs)) return std::nullopt;
  if (dot != std::string_view::npos) {
    std::string_view frac = text.substr(dot + 1);
    if (frac.empty() || frac.size() > 9 || text.starts_with('-')) return std::nullopt;
    std::int64_t ns = 0;
    if (!parse_int(frac, ns)) return std::nullopt;
    for (std::size_t i = frac.size(); i < 9; ++i) ns *= 10;
    t.nanosecs = ns;
  }
  return t;
}

// "KILL", "SIGKILL" or "9"; 0 if it is none of them.
inline int signal_number(std::string_view text) {
  int n = 0;
  if (parse_int(text, n)) return n > 0 && n < NSIG ? n : 0;
  if (text.starts_with("SIG")) text.remove_prefix(3);
  for (int sig = 1; sig < NSIG; ++sig)
    if (const char* abbrev = nsenter::detail::signal_name(sig); abbrev != nullptr && text == abbrev) return sig;
  return 0;
}

// An id map the kernel would refuse, as a usage error naming the flags
// that made it ("" when it is fine).
inline std::string check_id_map(const std::vector<nsenter::IdMapEntry>& map, const char* flags) {
  for (const auto& e : map)
    if (auto code = nsenter::check_id_range(e))
      return fmt::format("{}: {} in '{}:{}:{}'", flags, nsenter::describe(*code), e.inside, e.outside, e.count);
  if (auto i = nsenter::find_id_overlap(std::span<const nsenter::IdMapEntry>(map))) {
    const auto& e = map[*i];
    return fmt::format("{}: '{}:{}:{}' overlaps another range", flags, e.inside, e.outside, e.count);
  }
  return {};
}

// unshare/nsenter spell the mount namespace "mount"; /proc spells it "mnt".
inline std::optional<NsKind> kind_from_option(std::string_view name) {
  if (name == "mount") return NsKind::mnt;
  if (name == "mnt") return std::nullopt;
  return nsenter::ns_kind_from_name(name);
}

}  // namespace detail

namespace detail {

// What the options said, and the passes that turn it into a RunRequest:
// read() takes the options one by one (getopt_long); resolve_namespaces()
// decides what to create and join (-t against the host, the default
// sandbox when nothing was asked); build_id_maps() writes the maps of a new
// user namespace and who writes them. Each returns a usage error or "".
struct RunFlags {
  RunRequest req;
  NsSet create;
  std::vector<nsenter::NsPath> joins;
  std::optional<pid_t> target;
  std::optional<std::uint64_t> target_inode;
  bool take_env = false, join_cgroup = false;
  bool map_current = false;  // --map-current-user
  bool keep_caps = false;    // --keep-caps
  std::optional<bool> setgroups_allowed;  // --setgroups
  bool map_root = false;
  std::optional<std::uint32_t> map_user, map_group;
  std::vector<nsenter::IdMapEntry> uid_ranges, gid_ranges;
  // --map-users/--map-groups=auto|subids|all (util-linux 2.39-2.41).
  enum class Special { None, Auto, Subids, All };
  Special users_special = Special::None, groups_special = Special::None;
  bool mount_proc = false;
  std::string propagation = "private";
  bool propagation_given = false;
  std::string root, wd;
  std::optional<std::uint32_t> setuid, setgid;
  bool help = false, version = false;

  bool maps_given() const {
    return map_root || map_user || map_group || map_current || !uid_ranges.empty() || !gid_ranges.empty() ||
           users_special != Special::None || groups_special != Special::None;
  }

  // Then help or version may end the parse.
  std::string read(int argc, char** argv, int first) {

    enum : int {
      kMapUser = 1000, kMapGroup, kMapUsers, kMapGroups, kMountProc, kMonotonic, kBoottime,
      kOom, kLogLevel, kTty, kNoTty, kDryRun, kNoReaper, kForwardSignals, kKillChild, kPreserveFds, kPropagation,
      kMapAuto, kMapSubids, kSetgroups, kMapCurrentUser, kKeepCaps,
    };
    // Long kind options take an optional =PATH (join instead of create);
    // short ones take nothing, so clusters like -Ur and -pm work as in
    // unshare.
    static const option longopts[] = {
        {"user", optional_argument, nullptr, 'U'},    {"pid", optional_argument, nullptr, 'p'},
        {"mount", optional_argument, nullptr, 'm'},   {"uts", optional_argument, nullptr, 'u'},
        {"ipc", optional_argument, nullptr, 'i'},     {"net", optional_argument, nullptr, 'n'},
        {"cgroup", optional_argument, nullptr, 'C'},  {"time", optional_argument, nullptr, 'T'},
        {"map-root-user", no_argument, nullptr, 'r'}, {"target", required_argument, nullptr, 't'},
        {"map-user", required_argument, nullptr, kMapUser},   {"map-group", required_argument, nullptr, kMapGroup},
        {"map-users", required_argument, nullptr, kMapUsers}, {"map-groups", required_argument, nullptr, kMapGroups},
        {"mount-proc", no_argument, nullptr, kMountProc},     {"monotonic", required_argument, nullptr, kMonotonic},
        {"boottime", required_argument, nullptr, kBoottime},  {"oom-score-adj", required_argument, nullptr, kOom},
        {"log-level", required_argument, nullptr, kLogLevel}, {"tty", no_argument, nullptr, kTty},
        {"no-tty", no_argument, nullptr, kNoTty},             {"dry-run", no_argument, nullptr, kDryRun},
        {"no-reaper", no_argument, nullptr, kNoReaper}, {"forward-signals", no_argument, nullptr, kForwardSignals},
        {"kill-child", optional_argument, nullptr, kKillChild}, {"preserve-fds", required_argument, nullptr, kPreserveFds},
        {"propagation", required_argument, nullptr, kPropagation}, {"root", required_argument, nullptr, 'R'},
        {"wd", required_argument, nullptr, 'w'},              {"setuid", required_argument, nullptr, 'S'},
        {"setgid", required_argument, nullptr, 'G'},        {"map-auto", no_argument, nullptr, kMapAuto},
        {"map-subids", no_argument, nullptr, kMapSubids},   {"env", no_argument, nullptr, 'e'},
        {"join-cgroup", no_argument, nullptr, 'c'},          {"map-current-user", no_argument, nullptr, kMapCurrentUser},
        {"keep-caps", no_argument, nullptr, kKeepCaps},          {"setgroups", required_argument, nullptr, kSetgroups},
        {"help", no_argument, nullptr, 'h'},                  {"version", no_argument, nullptr, 'V'},
        {nullptr, 0, nullptr, 0},
    };
    auto kind_of_flag = [](int c) -> std::optional<NsKind> {
      switch (c) {
        case 'U': return NsKind::user;
        case 'p': return NsKind::pid;
        case 'm': return NsKind::mnt;
        case 'u': return NsKind::uts;
        case 'i': return NsKind::ipc;
        case 'n': return NsKind::net;
        case 'C': return NsKind::cgroup;
        case 'T': return NsKind::time;
      }
      return std::nullopt;
    };

    // getopt keeps state in globals: reset it, and never let it print.
    optind = 0;
    opterr = 0;
    std::vector<char*> args{argv[0]};
    for (int i = first; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    const int n = static_cast<int>(args.size()) - 1;
    int c;
    while ((c = ::getopt_long(n, args.data(), "+UpmuinCTrt:R:w:S:G:echV", longopts, nullptr)) != -1) {
      const std::string_view arg = optarg != nullptr ? optarg : "";
      if (auto kind = kind_of_flag(c)) {
        if (optarg != nullptr) {
          const std::string option = "--" + std::string(nsenter::name(*kind) == "mnt" ? "mount" : nsenter::name(*kind));
          // nsenter 2.42 reads --KIND=:NSID as a namespace id (Linux 6.19).
          if (arg.starts_with(':'))
            return usage(option + "=:NSID (a namespace id, as nsenter 2.42 takes it) is not taken: give the namespace's path");
          if (arg.empty() || arg.front() != '/') return usage(option + "=PATH needs an absolute path");
          joins.push_back({*kind, std::string(arg)});
        } else {
          create.insert(*kind);
        }
        continue;
      }
      switch (c) {
        case 'r': map_root = true; break;
        case 't': {
          pid_t pid = 0;
          const auto colon = arg.find(':');
          if (!detail::parse_int(arg.substr(0, colon), pid) || pid <= 0)
            return usage("--target needs a pid, got '" + std::string(arg) + "'");
          target = pid;
          if (colon != std::string_view::npos) {
            std::uint64_t inode = 0;
            if (!detail::parse_int(arg.substr(colon + 1), inode) || inode == 0)
              return usage("--target PID:INODE needs the inode as a number, got '" + std::string(arg) + "'");
            target_inode = inode;
          }
          break;
        }
        case kMapUser:
          if (!(map_user = detail::user_id(arg, false))) return usage("--map-user: no such user '" + std::string(arg) + "'");
          break;
        case kMapGroup:
          if (!(map_group = detail::user_id(arg, true))) return usage("--map-group: no such group '" + std::string(arg) + "'");
          break;
        case 'e': take_env = true; break;
        case 'c': join_cgroup = true; break;
        case kSetgroups:
          if (arg != "allow" && arg != "deny") return usage("--setgroups takes allow or deny, got '" + std::string(arg) + "'");
          setgroups_allowed = arg == "allow";
          break;
        case kMapAuto: users_special = groups_special = Special::Auto; break;
        // unshare's -c; nsrun's -c is nsenter's (--join-cgroup).
        case kMapCurrentUser: map_current = true; break;
        case kKeepCaps: keep_caps = true; break;
        case kMapSubids: users_special = groups_special = Special::Subids; break;
        case kMapUsers:
        case kMapGroups: {
          const Special special = arg == "auto" ? Special::Auto : arg == "subids" ? Special::Subids
                                  : arg == "all" ? Special::All : Special::None;
          if (special != Special::None) {
            (c == kMapUsers ? users_special : groups_special) = special;
            break;
          }
          auto range = detail::id_range(arg);
          if (!range) return usage(std::string(c == kMapUsers ? "--map-users" : "--map-groups") +
                                   " takes INSIDE:OUTSIDE:COUNT (or unshare's older OUTSIDE,INSIDE,COUNT), auto, "
                                   "subids or all, got '" + std::string(arg) + "'");
          (c == kMapUsers ? uid_ranges : gid_ranges).push_back(*range);
          break;
        }
        case kMountProc: mount_proc = true; break;
        case kMonotonic:
        case kBoottime: {
          const auto clock = c == kMonotonic ? nsenter::Clock::monotonic : nsenter::Clock::boottime;
          auto offset = detail::time_offset(clock, arg);
          if (!offset) return usage("--" + std::string(nsenter::name(clock)) + " takes SECS[.FRACTION], got '" + std::string(arg) + "'");
          req.config.time_offsets.push_back(*offset);
          create.insert(NsKind::time);
          break;
        }
        case kOom: {
          int v = 0;
          if (!detail::parse_int(arg, v) || !nsenter::oom_score_adj_in_range(v))
            return usage("--oom-score-adj takes an integer in -1000..1000, got '" + std::string(arg) + "'");
          req.config.oom_score_adj = v;
          break;
        }
        case kLogLevel: {
          int v = -1;
          if (auto l = nsenter::level_from_name(arg)) req.log_level = *l;
          else if (detail::parse_int(arg, v) && v >= 0 && v <= 6) req.log_level = static_cast<nsenter::LogLevel>(v);
          else return usage("--log-level takes panic|fatal|error|warning|info|debug|trace or 0-6, got '" + std::string(arg) + "'");
          break;
        }
        case kTty: req.tty = TtyMode::Always; break;
        case kNoTty: req.tty = TtyMode::Never; break;
        case kDryRun: req.dry_run = true; break;
        case kNoReaper: req.reaper = false; break;
        case kForwardSignals: break;  // what nsrun always does (CommandRelay)
        case kKillChild:
          if (optarg == nullptr) req.kill_child = SIGKILL;
          else if (!(req.kill_child = detail::signal_number(arg)))
            return usage("--kill-child takes a signal name or number, got '" + std::string(arg) + "'");
          break;
        case kPreserveFds:
          if (!detail::parse_int(arg, req.preserve_fds) || req.preserve_fds < 0 || req.preserve_fds > 1000)
            return usage("--preserve-fds takes a count of fds (0..1000), got '" + std::string(arg) + "'");
          break;
        case kPropagation:
          if (arg != "private" && arg != "slave" && arg != "shared" && arg != "unchanged")
            return usage("--propagation takes private, slave, shared or unchanged, got '" + std::string(arg) + "'");
          propagation = arg;
          propagation_given = true;
          break;
        case 'R':
        case 'w':
          if (arg.empty() || arg.find('\0') != std::string_view::npos)
            return usage(std::string(c == 'R' ? "--root" : "--wd") + " needs a directory");
          (c == 'R' ? root : wd) = arg;
          break;
        case 'S':
          if (!(setuid = detail::user_id(arg, false))) return usage("--setuid: no such user '" + std::string(arg) + "'");
          break;
        case 'G':
          if (!(setgid = detail::user_id(arg, true))) return usage("--setgid: no such group '" + std::string(arg) + "'");
          break;
        case 'h': help = true; return {};
        case 'V': version = true; return {};
        default:
          if (optopt == 't') return usage("-t/--target needs a pid");
          if (optopt == 'R' || optopt == 'w' || optopt == 'S' || optopt == 'G')
            return usage(std::string("-") + static_cast<char>(optopt) + " needs a value");
          if (optopt != 0 && optopt < 256) return usage(std::string("unknown option '-") + static_cast<char>(optopt) + "'");
          return usage("unknown option '" + std::string(optind > 0 && optind <= n ? args[static_cast<std::size_t>(optind - 1)] : "?") + "'");
      }
    }
    for (int i = optind; i < n; ++i) req.command.emplace_back(args[static_cast<std::size_t>(i)]);
    return {};
  }

  std::string resolve_namespaces(const Host& host) {
    NsSet target_kinds;  // kind flags given together with -t
    const bool maps = maps_given();
    if (maps) create.insert(NsKind::user);
    if (target) {
      // With -t, kind flags say which of the target's namespaces to join.
      target_kinds = create;
      create = NsSet{};
      if (maps) return usage("id maps cannot be combined with --target (its user namespace has its maps)");
      if (!req.config.time_offsets.empty()) return usage("time offsets need a new time namespace, not --target");
      for (const auto& k : nsenter::kNsKinds) {
        if (!target_kinds.empty() && !target_kinds.contains(k.kind)) continue;
        const std::string path = "/proc/" + std::to_string(*target) + "/ns/" + std::string(k.name);
        const auto theirs = host.ns_inode(path);
        if (!theirs) {
          if (target_kinds.contains(k.kind) || k.kind == NsKind::user)
            return usage("cannot read " + path + " (no such process, or not yours)");
          continue;  // a kind this kernel lacks
        }
        // nsenter -a skips what we already share; setns into our own user
        // namespace would fail anyway.
        if (target_kinds.empty() && host.ns_inode("/proc/self/ns/" + std::string(k.name)) == theirs) continue;
        joins.push_back({k.kind, path});
        if (!req.target) req.target = RunRequest::Target{*target, {}, {}};
        req.target->joined.emplace_back(path, *theirs);
      }
      // The inode is checked even where nothing is joined: a stranger on
      // the pid is an error, not a command run in our own namespaces. So is
      // the process whose environment or cgroup is taken pinned.
      if (target_inode || take_env || join_cgroup) {
        if (!req.target) req.target = RunRequest::Target{*target, {}, {}};
        req.target->pidfd_inode = target_inode;
        req.target->take_env = take_env;
        req.target->join_cgroup = join_cgroup;
      }
    } else if (take_env || join_cgroup) {
      return usage(std::string(take_env ? "--env" : "--join-cgroup") + " takes what the --target process has: give -t PID");
    }
    for (std::size_t i = 0; i < joins.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (joins[i].kind == joins[j].kind)
          return usage("the " + std::string(nsenter::name(joins[i].kind)) + " namespace is joined twice");
    for (const auto& j : joins)
      if (create.contains(j.kind))
        return usage("the " + std::string(nsenter::name(j.kind)) + " namespace is both created and joined");

    // Only a command line that asked for no namespace at all gets the
    // default sandbox: `-t PID` of a process whose namespaces are all ours
    // runs the command in them (nsenter -a does), never in new ones.
    if (create.empty() && joins.empty() && !target) {
      // The default: everything a rootless user can have with no setup.
      req.defaults = true;
      create = NsSet{NsKind::user, NsKind::pid, NsKind::mnt, NsKind::uts, NsKind::ipc};
      map_root = true;
      mount_proc = true;
    }
    if (mount_proc && !(create.contains(NsKind::mnt) && create.contains(NsKind::pid)))
      return usage("--mount-proc needs new pid and mount namespaces (-p -m)");
    if (propagation_given && !create.contains(NsKind::mnt))
      return usage("--propagation needs a new mount namespace (-m)");
    // A fresh /proc mounted where / is shared (or left as it was, shared on
    // most hosts) would cover the host's own /proc.
    if (mount_proc && propagation != "private" && propagation != "slave")
      return usage("--mount-proc needs --propagation private or slave: with " + propagation +
                   " the new /proc would cover the host's");

    // User first, as runc orders NS_PATHS; the joiner orders the rest.
    std::stable_partition(joins.begin(), joins.end(), [](const auto& j) { return j.kind == NsKind::user; });
    req.config.ns_paths = joins;
    if (!create.empty()) req.config.clone_flags = create;

    return {};
  }

  // The ranges auto, subids and all stand for, added to the explicit ones.
  std::string resolve_special_maps(const Host& host) {
    if (map_current) {
      if (!map_user) map_user = host.euid;
      if (!map_group) map_group = host.egid;
    }
    for (const bool groups : {false, true}) {
      const Special special = groups ? groups_special : users_special;
      if (special == Special::None) continue;
      const char* flag = groups ? "--map-groups" : "--map-users";
      auto& ranges = groups ? gid_ranges : uid_ranges;
      const std::uint32_t own = groups ? host.egid : host.euid;
      if (special == Special::All) {
        // Every id of ours onto itself: what /proc/self/uid_map says we have.
        if (host.euid != 0) return usage(std::string(flag) + "=all needs root: newuidmap maps only your own ranges");
        const auto map = host.read_text(groups ? "/proc/self/gid_map" : "/proc/self/uid_map");
        detail::for_each_line(map.value_or(""), [&](std::string_view line) {
          const auto w = detail::words(line);
          std::uint32_t inside = 0, count = 0;
          if (w.size() == 3 && detail::parse_int(w[0], inside) && detail::parse_int(w[2], count))
            ranges.push_back({inside, inside, count});
        });
        if (ranges.empty()) return usage(std::string(flag) + "=all: cannot read our own id map");
        continue;
      }
      const char* file = groups ? "/etc/subgid" : "/etc/subuid";
      if (const std::string elsewhere = detail::subid_source_elsewhere(host.read_text("/etc/nsswitch.conf").value_or(""));
          !elsewhere.empty())
        return usage(std::string(flag) + ": /etc/nsswitch.conf takes subordinate ids from '" + elsewhere +
                     "', which nsrun (a static binary) cannot ask; give the range as INSIDE:OUTSIDE:COUNT");
      const std::string name = detail::login_name(host.read_text("/etc/passwd").value_or(""), host.euid);
      const auto range = detail::first_subid_range(host.read_text(file).value_or(""), name, host.euid);
      if (!range)
        return usage(std::string(flag) + ": " + file + " has no range for " + (name.empty() ? "uid" : name + ", uid") +
                     " " + std::to_string(host.euid));
      if (special == Special::Auto) {
        // From 0; the id --map-user or -r puts at 0 (or elsewhere in the
        // block) leaves a hole there, as unshare carves one.
        const std::optional<std::uint32_t> single =
            (groups ? (map_root || map_group) : (map_root || map_user))
                ? std::optional<std::uint32_t>((groups ? map_group : map_user).value_or(0))
                : std::nullopt;
        const std::uint32_t count = range->second;
        if (single && *single < count) {
          if (*single > 0) ranges.push_back({0, range->first, *single});
          if (*single + 1 < count) ranges.push_back({*single + 1, range->first + *single + 1, count - *single - 1});
        } else {
          ranges.push_back({0, range->first, count});
        }
      } else {
        // Onto itself, and you as yourself, so the stages have an id
        // (unless -r or --map-user/--map-group says where you are).
        ranges.push_back({range->first, range->first, range->second});
        const bool placed = groups ? (map_root || map_group.has_value()) : (map_root || map_user.has_value());
        if (!placed) (groups ? map_group : map_user) = own;
      }
    }
    return {};
  }

  std::string build_id_maps(const Host& host) {
    if (auto bad = resolve_special_maps(host); !bad.empty()) return bad;
    if (setgroups_allowed && !create.contains(NsKind::user)) return usage("--setgroups needs a new user namespace (-U)");
    if (create.contains(NsKind::user)) {
      const bool root = host.euid == 0;
      // The stages need a mapped uid and gid to become: an id nobody asked
      // to map otherwise is mapped to root (so -U alone is -r), unless ranges
      // were given for it (root mapping 0:100000:65536, say).
      if (map_root || map_user || uid_ranges.empty()) req.config.uid_map.push_back({map_user.value_or(0), host.euid, 1});
      if (map_root || map_group || gid_ranges.empty()) req.config.gid_map.push_back({map_group.value_or(0), host.egid, 1});
      for (const auto& r : uid_ranges) req.config.uid_map.push_back(r);
      for (const auto& r : gid_ranges) req.config.gid_map.push_back(r);
      if (auto bad = detail::check_id_map(req.config.uid_map, "--map-user/--map-users"); !bad.empty()) return usage(bad);
      if (auto bad = detail::check_id_map(req.config.gid_map, "--map-group/--map-groups"); !bad.empty()) return usage(bad);
      if (!root) {
        req.config.rootless_euid = true;
        // Only root may write more than one's own id; newuidmap/newgidmap
        // check /etc/subuid and /etc/subgid for everyone else.
        if (!uid_ranges.empty()) req.config.uid_map_helper = "/usr/bin/newuidmap";
        if (!gid_ranges.empty()) {
          req.config.gid_map_helper = "/usr/bin/newgidmap";
          req.config.setgroups = true;  // newgidmap needs setgroups allowed
        }
        for (const auto* helper : {&req.config.uid_map_helper, &req.config.gid_map_helper})
          if (!helper->empty() && !host.executable(*helper))
            return usage(*helper + " is missing: install the 'uidmap' package to map id ranges without root");
        if (setgroups_allowed == true && req.config.gid_map_helper.empty())
          return usage("--setgroups=allow without root needs a gid range (--map-groups): the kernel lets an "
                       "unprivileged process write its gid map only with setgroups denied");
      }
      // Deny is written by stage 0 before the maps where the container is
      // marked rootless and setgroups is off (runc's rule), as root too.
      if (setgroups_allowed == false) {
        req.config.setgroups = false;
        req.config.rootless_euid = true;
      }
      if (setgroups_allowed == true) req.config.setgroups = true;
    }
    return {};
  }

 private:
  static std::string usage(std::string msg) { return msg; }
};

}  // namespace detail

// Parses argv[first..argc). Stops at "--" or the first non-option word.
inline ParseResult parse_run_args(int argc, char** argv, int first, const Host& host) {
  ParseResult out;
  detail::RunFlags f;
  std::string error = f.read(argc, argv, first);
  if (error.empty() && !f.help && !f.version) error = f.resolve_namespaces(host);
  if (error.empty() && !f.help && !f.version) error = f.build_id_maps(host);
  if (!error.empty()) {
    out.error = std::move(error);
    return out;
  }
  out.help = f.help;
  out.version = f.version;
  if (out.help || out.version) return out;
  RunRequest& req = f.req;
  if (f.create.contains(NsKind::mnt)) req.init_flags.push_back("--propagation=" + f.propagation);
  if (f.mount_proc) req.init_flags.push_back("--mount-proc");
  // What the command runs in and as, applied by stage 2 in this order
  // (init.cc): the root, the working directory, then the ids.
  if (!f.root.empty()) req.init_flags.push_back("--root=" + f.root);
  if (!f.wd.empty()) req.init_flags.push_back("--wd=" + f.wd);
  if (f.setgid) req.init_flags.push_back(fmt::format("--setgid={}", *f.setgid));
  if (f.setuid) req.init_flags.push_back(fmt::format("--setuid={}", *f.setuid));
  if (f.keep_caps) req.init_flags.push_back("--keep-caps");
  if (!req.config.time_offsets.empty()) req.profile = nsenter::wire::Profile::Runc12;
  out.request = std::move(req);
  return out;
}

}  // namespace nsrun
