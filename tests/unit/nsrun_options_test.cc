// SPDX-License-Identifier: Apache-2.0
// nsrun's flags against a fake machine: what each turns into in the
// Bootstrap, the defaults for root and for everyone else, --target's
// choice of namespaces, and every usage error.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "tools/nsrun/options.hpp"

using namespace nsenter;
using nsrun::Host;
using nsrun::ParseResult;

namespace {

// ns_inode answers from `inodes`; `missing` lists helpers that are absent.
Host fake_host(uid_t euid, std::map<std::string, ino_t> inodes = {}, std::vector<std::string> missing = {}) {
  Host h;
  h.euid = euid;
  h.egid = euid + 1;
  h.ns_inode = [inodes](const std::string& path) -> std::optional<ino_t> {
    auto it = inodes.find(path);
    if (it == inodes.end()) return std::nullopt;
    return it->second;
  };
  h.executable = [missing](const std::string& path) {
    return std::find(missing.begin(), missing.end(), path) == missing.end();
  };
  h.read_text = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return h;
}

// A host whose files say `files` (path -> text).
Host with_files(Host h, std::map<std::string, std::string> files) {
  h.read_text = [files](const std::string& path) -> std::optional<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
  return h;
}

ParseResult parse(std::vector<std::string> args, const Host& host) {
  std::vector<char*> argv{const_cast<char*>("nsrun")};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return nsrun::parse_run_args(static_cast<int>(argv.size()) - 1, argv.data(), 1, host);
}

Bootstrap config_of(std::vector<std::string> args, const Host& host) {
  const ParseResult r = parse(std::move(args), host);
  INFO(r.error);
  REQUIRE(r.request.has_value());
  return r.request->config;
}

std::string error_of(std::vector<std::string> args, const Host& host) {
  const ParseResult r = parse(std::move(args), host);
  CHECK_FALSE(r.request.has_value());
  return r.error;
}

const NsSet kDefault{NsKind::user, NsKind::pid, NsKind::mnt, NsKind::uts, NsKind::ipc};

}  // namespace

TEST_CASE("no namespace flags: rootless user+pid+mnt+uts+ipc with a fresh /proc") {
  const ParseResult r = parse({}, fake_host(1000));
  REQUIRE(r.request);
  CHECK(r.request->defaults);
  CHECK(r.request->config.clone_flags == kDefault);
  CHECK(r.request->config.uid_map == std::vector<IdMapEntry>{{0, 1000, 1}});
  CHECK(r.request->config.gid_map == std::vector<IdMapEntry>{{0, 1001, 1}});
  CHECK(r.request->config.rootless_euid == true);
  CHECK(r.request->init_flags == std::vector<std::string>{"--propagation=private", "--mount-proc"});
  CHECK(r.request->command.empty());
  // Root gets the same namespaces, written directly, not marked rootless.
  const Bootstrap root = config_of({}, fake_host(0));
  CHECK(root.clone_flags == kDefault);
  CHECK(root.uid_map == std::vector<IdMapEntry>{{0, 0, 1}});
  CHECK_FALSE(root.rootless_euid.has_value());
}

TEST_CASE("creation flags, short and long, and the command after them") {
  const ParseResult r = parse({"-p", "--net", "-u", "ls", "-l", "--net"}, fake_host(0));
  REQUIRE(r.request);
  CHECK(r.request->config.clone_flags == NsSet{NsKind::pid, NsKind::net, NsKind::uts});
  CHECK(r.request->command == std::vector<std::string>{"ls", "-l", "--net"});
  CHECK(r.request->config.uid_map.empty());  // no user namespace, no map
  CHECK(r.request->init_flags.empty());      // no mount namespace: nothing to make private
  CHECK(config_of({"-m", "--", "-x"}, fake_host(0)).clone_flags == NsSet{NsKind::mnt});
  CHECK(parse({"-m"}, fake_host(0)).request->init_flags == std::vector<std::string>{"--propagation=private"});
  CHECK(config_of({"-C", "-i", "-T"}, fake_host(0)).clone_flags == NsSet{NsKind::cgroup, NsKind::ipc, NsKind::time});
}

TEST_CASE("short options cluster as in unshare") {
  CHECK(config_of({"-Ur"}, fake_host(1000)).clone_flags == NsSet{NsKind::user});
  CHECK(config_of({"-pm", "-Uu"}, fake_host(0)).clone_flags ==
        NsSet{NsKind::pid, NsKind::mnt, NsKind::user, NsKind::uts});
  CHECK(config_of({"-rp"}, fake_host(0)).clone_flags == NsSet{NsKind::user, NsKind::pid});
  const ParseResult r = parse({"-t42n"}, fake_host(0, {{"/proc/42n/ns/net", 1}}));
  CHECK_FALSE(r.request.has_value());  // -t takes the rest of the word, as getopt does: "42n" is no pid
}

TEST_CASE("id maps") {
  // -U alone maps you to root; so does -r.
  for (const char* flag : {"-U", "-r", "--map-root-user"}) {
    const Bootstrap b = config_of({flag}, fake_host(1000));
    CHECK(b.clone_flags == NsSet{NsKind::user});
    CHECK(b.uid_map == std::vector<IdMapEntry>{{0, 1000, 1}});
    CHECK(b.gid_map == std::vector<IdMapEntry>{{0, 1001, 1}});
  }
  const Bootstrap user = config_of({"--map-user=5", "--map-group=0"}, fake_host(1000));
  CHECK(user.uid_map == std::vector<IdMapEntry>{{5, 1000, 1}});
  CHECK(user.gid_map == std::vector<IdMapEntry>{{0, 1001, 1}});
  // The id not named maps to root.
  CHECK(config_of({"--map-user=5"}, fake_host(1000)).gid_map == std::vector<IdMapEntry>{{0, 1001, 1}});
  CHECK(config_of({"--map-user=root"}, fake_host(1000)).uid_map == std::vector<IdMapEntry>{{0, 1000, 1}});
  // Ranges: root writes them directly.
  const Bootstrap ranges = config_of({"--map-users=0:100000:65536", "--map-groups=0:200000:10"}, fake_host(0));
  CHECK(ranges.uid_map == std::vector<IdMapEntry>{{0, 100000, 65536}});
  CHECK(ranges.gid_map == std::vector<IdMapEntry>{{0, 200000, 10}});
  CHECK(ranges.uid_map_helper.empty());
  // Everyone else goes through newuidmap/newgidmap, with setgroups left allowed.
  const Bootstrap helped = config_of({"-r", "--map-users=1:100000:65536", "--map-groups=1:100000:65536"}, fake_host(1000));
  CHECK(helped.uid_map == std::vector<IdMapEntry>{{0, 1000, 1}, {1, 100000, 65536}});
  CHECK(helped.uid_map_helper == "/usr/bin/newuidmap");
  CHECK(helped.gid_map_helper == "/usr/bin/newgidmap");
  CHECK(helped.setgroups == true);
  CHECK(helped.rootless_euid == true);
  CHECK(error_of({"--map-users=1:100000:5"}, fake_host(1000, {}, {"/usr/bin/newuidmap"})).find("'uidmap' package") !=
        std::string::npos);
}

TEST_CASE("--target joins what differs, or only the kinds named") {
  std::map<std::string, ino_t> inodes;
  for (const auto& k : kNsKinds) {
    const std::string name(k.name);
    inodes["/proc/self/ns/" + name] = 100;
    inodes["/proc/42/ns/" + name] = 100;
  }
  inodes["/proc/42/ns/net"] = 200;
  inodes["/proc/42/ns/user"] = 201;
  inodes["/proc/42/ns/uts"] = 202;
  const Host host = fake_host(0, inodes);
  const Bootstrap all = config_of({"-t", "42"}, host);
  CHECK_FALSE(all.clone_flags.has_value());
  // user first, as runc orders NS_PATHS.
  CHECK(all.ns_paths == std::vector<NsPath>{{NsKind::user, "/proc/42/ns/user"},
                                            {NsKind::uts, "/proc/42/ns/uts"},
                                            {NsKind::net, "/proc/42/ns/net"}});
  // Named kinds are joined even when shared; the rest are left alone.
  CHECK(config_of({"--target=42", "-n", "-p"}, host).ns_paths ==
        std::vector<NsPath>{{NsKind::net, "/proc/42/ns/net"}, {NsKind::pid, "/proc/42/ns/pid"}});
  CHECK(error_of({"-t", "43"}, host).find("cannot read /proc/43/ns/") != std::string::npos);
  CHECK(error_of({"-t", "42", "-r"}, host).find("cannot be combined with --target") != std::string::npos);
  CHECK(error_of({"-t", "x"}, host).find("--target needs a pid") != std::string::npos);
}

TEST_CASE("--target of a process that shares every namespace of ours creates none") {
  std::map<std::string, ino_t> inodes;
  for (const auto& k : kNsKinds) {
    inodes["/proc/self/ns/" + std::string(k.name)] = 100;
    inodes["/proc/42/ns/" + std::string(k.name)] = 100;
  }
  const ParseResult r = parse({"-t", "42", "--", "true"}, fake_host(1000, inodes));
  REQUIRE(r.request);
  CHECK_FALSE(r.request->defaults);
  CHECK_FALSE(r.request->config.clone_flags.has_value());
  CHECK(r.request->config.ns_paths.empty());
  CHECK(r.request->config.uid_map.empty());
  CHECK(r.request->init_flags.empty());  // no --mount-proc: no new mount namespace
}

TEST_CASE("--target PID:INODE pins the process by its pidfd's inode, even where nothing is joined") {
  std::map<std::string, ino_t> inodes;
  for (const auto& k : kNsKinds) {
    inodes["/proc/self/ns/" + std::string(k.name)] = 100;
    inodes["/proc/42/ns/" + std::string(k.name)] = k.kind == NsKind::net ? 200 : 100;
  }
  const ParseResult joining = parse({"-t", "42:123456789012", "--", "true"}, fake_host(0, inodes));
  REQUIRE(joining.request);
  REQUIRE(joining.request->target);
  CHECK(joining.request->target->pid == 42);
  CHECK(joining.request->target->pidfd_inode == 123456789012u);
  CHECK(joining.request->config.ns_paths == std::vector<NsPath>{{NsKind::net, "/proc/42/ns/net"}});
  inodes["/proc/42/ns/net"] = 100;  // now it shares every namespace of ours
  const ParseResult sharing = parse({"--target=42:7", "--", "true"}, fake_host(0, inodes));
  REQUIRE(sharing.request);
  REQUIRE(sharing.request->target);
  CHECK(sharing.request->target->pidfd_inode == 7u);
  CHECK(sharing.request->config.ns_paths.empty());
  CHECK_FALSE(parse({"-t", "42", "--", "true"}, fake_host(0, inodes)).request->target);  // no inode, nothing joined
  CHECK(error_of({"-t", "42:"}, fake_host(0, inodes)) == "--target PID:INODE needs the inode as a number, got '42:'");
  CHECK(error_of({"-t", "42:x"}, fake_host(0, inodes)) == "--target PID:INODE needs the inode as a number, got '42:x'");
  CHECK(error_of({"-t", ":7"}, fake_host(0, inodes)) == "--target needs a pid, got ':7'");
}

TEST_CASE("id maps the kernel would refuse are usage errors naming the flag") {
  CHECK(error_of({"--map-users=0:100000:10", "--map-users=5:200000:10"}, fake_host(0)) ==
        "--map-user/--map-users: '5:200000:10' overlaps another range");
  CHECK(error_of({"--map-users=0:100000:0"}, fake_host(0)) ==
        "--map-user/--map-users: id map range has a zero count in '0:100000:0'");
  CHECK(error_of({"--map-user=4294967295"}, fake_host(0)) ==
        "--map-user/--map-users: id map range overflows 32 bits in '4294967295:0:1'");
  CHECK(error_of({"--map-groups=0:1:5", "--map-groups=3:100:5"}, fake_host(0)) ==
        "--map-group/--map-groups: '3:100:5' overlaps another range");
}

TEST_CASE("--kill-child and --preserve-fds") {
  CHECK(parse({"--kill-child"}, fake_host(0)).request->kill_child == SIGKILL);
  CHECK(parse({"--kill-child=TERM"}, fake_host(0)).request->kill_child == SIGTERM);
  CHECK(parse({"--kill-child=SIGHUP"}, fake_host(0)).request->kill_child == SIGHUP);
  CHECK(parse({"--kill-child=10"}, fake_host(0)).request->kill_child == 10);
  CHECK(parse({}, fake_host(0)).request->kill_child == 0);
  CHECK(error_of({"--kill-child=0"}, fake_host(0)) == "--kill-child takes a signal name or number, got '0'");
  CHECK(error_of({"--kill-child=BOGUS"}, fake_host(0)) == "--kill-child takes a signal name or number, got 'BOGUS'");
  CHECK(parse({"--preserve-fds=3"}, fake_host(0)).request->preserve_fds == 3);
  CHECK(error_of({"--preserve-fds=-1"}, fake_host(0)) == "--preserve-fds takes a count of fds (0..1000), got '-1'");
  CHECK(error_of({"--preserve-fds=x"}, fake_host(0)) == "--preserve-fds takes a count of fds (0..1000), got 'x'");
}

TEST_CASE("--KIND=PATH joins a namespace file, alongside created ones") {
  const Bootstrap b = config_of({"--net=/run/netns/x", "--user=/proc/9/ns/user", "-u"}, fake_host(0));
  CHECK(b.clone_flags == NsSet{NsKind::uts});
  CHECK(b.ns_paths == std::vector<NsPath>{{NsKind::user, "/proc/9/ns/user"}, {NsKind::net, "/run/netns/x"}});
  CHECK(config_of({"--mount=/proc/9/ns/mnt"}, fake_host(0)).ns_paths ==
        std::vector<NsPath>{{NsKind::mnt, "/proc/9/ns/mnt"}});
  CHECK(error_of({"--net=relative"}, fake_host(0)) == "--net=PATH needs an absolute path");
  CHECK(error_of({"--mount=:7"}, fake_host(0)) ==
        "--mount=:NSID (a namespace id, as nsenter 2.42 takes it) is not taken: give the namespace's path");
  CHECK(error_of({"--mount=x"}, fake_host(0)) == "--mount=PATH needs an absolute path");
  CHECK(error_of({"--net=/a", "-n"}, fake_host(0)) == "the net namespace is both created and joined");
  CHECK(error_of({"--net=/a", "--net=/b"}, fake_host(0)) == "the net namespace is joined twice");
}

TEST_CASE("time offsets switch to runc 1.2's profile") {
  const ParseResult r = parse({"--monotonic=1.5", "--boottime=-86400"}, fake_host(0));
  REQUIRE(r.request);
  CHECK(r.request->profile == wire::Profile::Runc12);
  CHECK(r.request->config.clone_flags == NsSet{NsKind::time});
  CHECK(r.request->config.time_offsets ==
        std::vector<TimeOffset>{{Clock::monotonic, 1, 500000000}, {Clock::boottime, -86400, 0}});
  CHECK(parse({"-T"}, fake_host(0)).request->profile == wire::Profile::Runc11);
  for (const char* bad : {"--monotonic=x", "--monotonic=1.", "--monotonic=1.1234567891", "--boottime=-1.5"})
    CHECK(error_of({bad}, fake_host(0)).find("takes SECS[.FRACTION]") != std::string::npos);
}

TEST_CASE("other options and usage errors") {
  const ParseResult r = parse({"--oom-score-adj=-1000", "--log-level=debug", "--tty", "--dry-run", "-p"}, fake_host(0));
  REQUIRE(r.request);
  CHECK(r.request->config.oom_score_adj == -1000);
  CHECK(r.request->log_level == LogLevel::Debug);
  CHECK(r.request->tty == nsrun::TtyMode::Always);
  CHECK(r.request->dry_run);
  CHECK(parse({"--log-level=3"}, fake_host(0)).request->log_level == LogLevel::Warning);
  CHECK(parse({"--no-tty"}, fake_host(0)).request->tty == nsrun::TtyMode::Never);
  CHECK(parse({"-p"}, fake_host(0)).request->reaper);
  CHECK_FALSE(parse({"-p", "--no-reaper"}, fake_host(0)).request->reaper);
  CHECK(parse({"-h"}, fake_host(0)).help);
  CHECK(parse({"--version"}, fake_host(0)).version);
  CHECK(error_of({"--oom-score-adj=1001"}, fake_host(0)).find("-1000..1000") != std::string::npos);
  CHECK(error_of({"--log-level=loud"}, fake_host(0)).find("--log-level takes") != std::string::npos);
  CHECK(error_of({"--bogus"}, fake_host(0)) == "unknown option '--bogus'");
  CHECK(error_of({"-t"}, fake_host(0)) == "-t/--target needs a pid");
  CHECK(error_of({"--target"}, fake_host(0)) == "-t/--target needs a pid");
  CHECK(error_of({"-px"}, fake_host(0)) == "unknown option '-x'");
  CHECK(error_of({"-U", "--mount-proc"}, fake_host(0)) == "--mount-proc needs new pid and mount namespaces (-p -m)");
  CHECK(error_of({"--map-users=1:2"}, fake_host(0)).find("INSIDE:OUTSIDE:COUNT") != std::string::npos);
  CHECK(error_of({"--map-user=no-such-user-here"}, fake_host(0)).find("no such user") != std::string::npos);
  // Parsing twice in one process works (getopt's globals are reset).
  CHECK(parse({"-n"}, fake_host(0)).request->config.clone_flags == NsSet{NsKind::net});
}

TEST_CASE("the command's root, directory and ids, and the propagation of a new mount namespace, as unshare and nsenter take them") {
  auto flags = [](std::vector<std::string> args) {
    const ParseResult r = parse(std::move(args), fake_host(0));
    REQUIRE_MESSAGE(r.request, r.error);
    return r.request->init_flags;
  };
  // Stage 2 applies them in this order: propagation, /proc, root, directory, gid, uid.
  CHECK(flags({"-m", "-R", "/srv/root", "-w", "/work", "-S", "1000", "-G", "100", "--", "id"}) ==
        std::vector<std::string>{"--propagation=private", "--root=/srv/root", "--wd=/work", "--setgid=100",
                                 "--setuid=1000"});
  CHECK(flags({"-n", "--root=/r", "--wd=rel", "--setuid=0", "--setgid=0"}) ==
        std::vector<std::string>{"--root=/r", "--wd=rel", "--setgid=0", "--setuid=0"});
  CHECK(flags({"-m", "--propagation=slave"}) == std::vector<std::string>{"--propagation=slave"});
  CHECK(flags({"-n", "-S", "1", "--keep-caps"}) == std::vector<std::string>{"--setuid=1", "--keep-caps"});
  CHECK(flags({"-m", "--propagation", "unchanged"}) == std::vector<std::string>{"--propagation=unchanged"});
  CHECK(flags({"-pm", "--mount-proc", "--propagation=slave"}) ==
        std::vector<std::string>{"--propagation=slave", "--mount-proc"});
  CHECK(flags({"-S", "root", "-G", "root"}).back() == "--setuid=0");  // names from /etc/passwd and /etc/group
  CHECK(error_of({"--propagation=rshared"}, fake_host(0)) ==
        "--propagation takes private, slave, shared or unchanged, got 'rshared'");
  CHECK(error_of({"-n", "--propagation=slave"}, fake_host(0)) == "--propagation needs a new mount namespace (-m)");
  CHECK(error_of({"-pm", "--mount-proc", "--propagation=shared"}, fake_host(0)) ==
        "--mount-proc needs --propagation private or slave: with shared the new /proc would cover the host's");
  CHECK(error_of({"-pm", "--mount-proc", "--propagation=unchanged"}, fake_host(0)).find("with unchanged") !=
        std::string::npos);
  CHECK(error_of({"-S", "no-such-user-here"}, fake_host(0)) == "--setuid: no such user 'no-such-user-here'");
  CHECK(error_of({"-G", "no-such-group-here"}, fake_host(0)) == "--setgid: no such group 'no-such-group-here'");
  CHECK(error_of({"-R"}, fake_host(0)) == "-R needs a value");
  CHECK(error_of({"-w"}, fake_host(0)) == "-w needs a value");
  CHECK(error_of({"--wd="}, fake_host(0)) == "--wd needs a directory");
}

TEST_CASE("subordinate ids: auto, subids and all, from /etc/subuid and /etc/subgid, and unshare's older order") {
  const std::map<std::string, std::string> files = {
      {"/etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"},
      {"/etc/subuid", "# comment\nbob:200000:65536\nalice:100000:65536\nalice:300000:10\n"},
      {"/etc/subgid", "1000:500000:1000\n"},  // by uid, as shadow allows
      {"/proc/self/uid_map", "         0          0 4294967295\n"},
      {"/proc/self/gid_map", "         0          0 4294967295\n"},
  };
  const Host alice = with_files(fake_host(1000), files);
  // auto: the first range, from 0; newuidmap/newgidmap write it.
  Bootstrap b = config_of({"--map-auto"}, alice);
  CHECK(b.uid_map == std::vector<IdMapEntry>{{0, 100000, 65536}});
  CHECK(b.gid_map == std::vector<IdMapEntry>{{0, 500000, 1000}});
  CHECK(b.uid_map_helper == "/usr/bin/newuidmap");
  CHECK(b.gid_map_helper == "/usr/bin/newgidmap");
  // -r with auto: you at 0, a hole there in the block, as unshare carves it.
  b = config_of({"-r", "--map-users=auto"}, alice);
  CHECK(b.uid_map == std::vector<IdMapEntry>{{0, 1000, 1}, {1, 100001, 65535}});
  b = config_of({"--map-user=5", "--map-users=auto"}, alice);
  CHECK(b.uid_map == std::vector<IdMapEntry>{{5, 1000, 1}, {0, 100000, 5}, {6, 100006, 65530}});
  // subids: the block onto itself, and you as yourself (the stages need an id).
  b = config_of({"--map-subids"}, alice);
  CHECK(b.uid_map == std::vector<IdMapEntry>{{1000, 1000, 1}, {100000, 100000, 65536}});
  CHECK(b.gid_map == std::vector<IdMapEntry>{{1001, 1001, 1}, {500000, 500000, 1000}});
  // all: every id of ours onto itself; root only.
  b = config_of({"--map-users=all", "--map-groups=all"}, with_files(fake_host(0), files));
  CHECK(b.uid_map == std::vector<IdMapEntry>{{0, 0, 4294967295u}});
  CHECK(error_of({"--map-users=all"}, alice) == "--map-users=all needs root: newuidmap maps only your own ranges");
  // unshare before 2.39: OUTSIDE,INSIDE,COUNT, taken in its own order.
  CHECK(config_of({"--map-users=100000,1,65536", "-r"}, alice).uid_map ==
        std::vector<IdMapEntry>{{0, 1000, 1}, {1, 100000, 65536}});
  // No range for the caller, or ranges nsrun cannot read: said, not guessed.
  CHECK(error_of({"--map-auto"}, with_files(fake_host(1001), files)) == "--map-users: /etc/subuid has no range for uid 1001");
  std::map<std::string, std::string> sss = files;
  sss["/etc/nsswitch.conf"] = "passwd: files\nsubid:   sss\n";
  CHECK(error_of({"--map-auto"}, with_files(fake_host(1000), sss)) ==
        "--map-users: /etc/nsswitch.conf takes subordinate ids from 'sss', which nsrun (a static binary) cannot ask; "
        "give the range as INSIDE:OUTSIDE:COUNT");
  sss["/etc/nsswitch.conf"] = "subid: files\n";
  CHECK(config_of({"--map-auto"}, with_files(fake_host(1000), sss)).uid_map == std::vector<IdMapEntry>{{0, 100000, 65536}});
  CHECK(error_of({"--map-users=some"}, alice).find("auto, subids or all, got 'some'") != std::string::npos);
  CHECK(error_of({"--map-users=1,2"}, alice).find("OUTSIDE,INSIDE,COUNT") != std::string::npos);
  CHECK(error_of({"-t", "1", "--map-auto"}, alice) == "id maps cannot be combined with --target (its user namespace has its maps)");
}

TEST_CASE("--setgroups in a new user namespace; --env and --join-cgroup take the --target process's") {
  // deny: stage 0 writes it before the maps, as for a rootless container.
  Bootstrap b = config_of({"-U", "--setgroups=deny"}, fake_host(0));
  CHECK(b.setgroups == false);
  CHECK(b.rootless_euid == true);
  CHECK(config_of({"-U", "--setgroups=allow"}, fake_host(0)).setgroups == true);
  CHECK_FALSE(config_of({"-U"}, fake_host(0)).setgroups.has_value());  // root: the kernel's default, allow
  CHECK(error_of({"-U", "--setgroups=allow"}, fake_host(1000)) ==
        "--setgroups=allow without root needs a gid range (--map-groups): the kernel lets an unprivileged process "
        "write its gid map only with setgroups denied");
  CHECK(config_of({"-r", "--map-groups=1:100000:10", "--setgroups=allow"}, fake_host(1000)).setgroups == true);
  CHECK(error_of({"-n", "--setgroups=deny"}, fake_host(0)) == "--setgroups needs a new user namespace (-U)");
  CHECK(error_of({"-U", "--setgroups=maybe"}, fake_host(0)) == "--setgroups takes allow or deny, got 'maybe'");
  std::map<std::string, ino_t> inodes;
  for (const auto& k : kNsKinds) inodes["/proc/self/ns/" + std::string(k.name)] = inodes["/proc/42/ns/" + std::string(k.name)] = 100;
  const ParseResult r = parse({"-t", "42", "-e", "-c", "--", "env"}, fake_host(0, inodes));
  REQUIRE(r.request);
  REQUIRE(r.request->target);  // pinned though nothing is joined: its environment and cgroup are read
  CHECK(r.request->target->take_env);
  CHECK(r.request->target->join_cgroup);
  CHECK(error_of({"--env"}, fake_host(0)) == "--env takes what the --target process has: give -t PID");
  CHECK(error_of({"-c"}, fake_host(0)) == "--join-cgroup takes what the --target process has: give -t PID");
}

TEST_CASE("--map-current-user maps you to yourself, as unshare -c (nsrun's -c is nsenter's --join-cgroup)") {
  const Bootstrap b = config_of({"--map-current-user"}, fake_host(1000));
  CHECK(b.clone_flags == NsSet{NsKind::user});
  CHECK(b.uid_map == std::vector<IdMapEntry>{{1000, 1000, 1}});
  CHECK(b.gid_map == std::vector<IdMapEntry>{{1001, 1001, 1}});
  CHECK(config_of({"--map-current-user", "--map-user=5"}, fake_host(1000)).uid_map == std::vector<IdMapEntry>{{5, 1000, 1}});
}
