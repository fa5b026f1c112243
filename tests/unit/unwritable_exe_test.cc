// SPDX-License-Identifier: Apache-2.0
// unwritable_exe.hpp: when a container cannot write the init's binary, or
// reach a non-dumpable fork of it; for joins, read from the real /proc of
// namespaces this test makes (a user namespace mapping only root, which
// Bazel's sandbox also maps, and binaries owned by someone else).
#include "nsenter/unwritable_exe.hpp"

#include <doctest/doctest.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "nsenter/wire.hpp"

using nsenter::Bootstrap;
using nsenter::NsKind;
using nsenter::NsSet;

namespace {

// A config's view, with the bytes it points into.
struct Viewed {
  nsenter::wire::Bytes bytes;
  nsenter::BootstrapView view;
};

Viewed view_of(const Bootstrap& b) {
  Viewed v;
  v.bytes = *nsenter::wire::encode(b);
  v.view = *nsenter::wire::decode_view(v.bytes, nsenter::wire::Profile::Runc11);
  return v;
}

struct stat root_owned(mode_t mode = 0755) {
  struct stat st {};
  st.st_uid = 0;
  st.st_gid = 0;
  st.st_mode = S_IFREG | mode;
  return st;
}

Bootstrap own_userns(std::uint32_t outside) {
  Bootstrap b;
  b.clone_flags = NsSet{NsKind::user, NsKind::pid, NsKind::mnt};
  b.uid_map = {{0, outside, 1}};
  b.gid_map = {{0, outside, 1}};
  return b;
}

// A child in a user namespace of its own that maps only root (to root), and
// mount and uts namespaces that namespace owns, waiting to be looked at.
struct Holder {
  pid_t pid = -1;
  Holder() {
    int go[2], ready[2];
    REQUIRE(::pipe(go) == 0);
    REQUIRE(::pipe(ready) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(go[1]);
      ::close(ready[0]);
      if (::unshare(CLONE_NEWUSER) != 0) ::_exit(10);
      char c = 1;
      (void)!::write(ready[1], &c, 1);  // the parent writes our maps now
      if (::read(go[0], &c, 1) != 1) ::_exit(11);
      if (::unshare(CLONE_NEWNS | CLONE_NEWUTS) != 0) ::_exit(12);
      (void)!::write(ready[1], &c, 1);
      ::pause();
      ::_exit(0);
    }
    ::close(go[0]);
    ::close(ready[1]);
    char c;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    const std::string proc = "/proc/" + std::to_string(pid);
    for (const char* f : {"/uid_map", "/gid_map"}) {
      if (std::string(f) == "/gid_map") {
        const int s = ::open((proc + "/setgroups").c_str(), O_WRONLY);
        REQUIRE(s >= 0);
        REQUIRE(::write(s, "deny", 4) == 4);
        ::close(s);
      }
      const int fd = ::open((proc + f).c_str(), O_WRONLY);
      REQUIRE(fd >= 0);
      REQUIRE(::write(fd, "0 0 1\n", 6) == 6);
      ::close(fd);
    }
    REQUIRE(::write(go[1], "g", 1) == 1);
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(go[1]);
    ::close(ready[0]);
  }
  ~Holder() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  std::string ns(const char* kind) const { return "/proc/" + std::to_string(pid) + "/ns/" + kind; }
};

}  // namespace

TEST_CASE("a container that creates its user namespace: unwritable only with the owner unmapped and no g/o write bit") {
  using nsenter::why_container_could_write;
  CHECK(why_container_could_write(view_of(own_userns(65534)).view, root_owned()).empty());
  CHECK(why_container_could_write(view_of(own_userns(0)).view, root_owned()) ==
        "the binary's owner is mapped into its user namespace");
  CHECK(why_container_could_write(view_of(own_userns(65534)).view, root_owned(0775)) ==
        "the binary is writable by group or others");
  Bootstrap no_userns;
  no_userns.clone_flags = NsSet{NsKind::pid};
  CHECK(why_container_could_write(view_of(no_userns).view, root_owned()) == "no user namespace of its own");
  // Reach: only the user namespace and the joins count, not the maps.
  CHECK(nsenter::why_container_could_reach_init(view_of(own_userns(0)).view).empty());
  CHECK(nsenter::why_container_could_reach_init(view_of(no_userns).view) == "no user namespace of its own");
}

TEST_CASE("uid_map text as the kernel pads it: a uid is mapped when a range holds it; unreadable text counts as mapped") {
  using nsenter::detail::uid_map_text_maps;
  const std::string_view padded = "         0      65534          1\n      1000     100000      65536\n";
  CHECK(uid_map_text_maps(padded, 65534));
  CHECK(uid_map_text_maps(padded, 100000));
  CHECK(uid_map_text_maps(padded, 165535));
  CHECK_FALSE(uid_map_text_maps(padded, 165536));
  CHECK_FALSE(uid_map_text_maps(padded, 0));
  CHECK_FALSE(uid_map_text_maps("", 0));
  CHECK(uid_map_text_maps("0 x 1\n", 5));
  CHECK(uid_map_text_maps("0 1\n", 5));
}

TEST_CASE("a container that joins: unwritable only through its own user namespace, which maps the owner nowhere") {
  using nsenter::why_container_could_write;
  REQUIRE_MESSAGE(::geteuid() == 0, "writes another process's maps; run as root");
  Holder holder;
  auto joining = [&](std::vector<std::pair<NsKind, std::string>> paths, bool create_user = false) {
    Bootstrap b;
    if (create_user) {
      b.clone_flags = NsSet{NsKind::user};
      b.uid_map = {{0, 65534, 1}};
      b.gid_map = {{0, 65534, 1}};
    }
    for (auto& [kind, path] : paths) b.ns_paths.push_back({kind, path});
    return b;
  };
  const std::string user = holder.ns("user"), mnt = holder.ns("mnt"), uts = holder.ns("uts");
  struct stat someones = root_owned();  // a binary owned by uid 1234, mapped nowhere there
  someones.st_uid = 1234;
  CHECK(why_container_could_write(view_of(joining({{NsKind::user, user}, {NsKind::mnt, mnt}, {NsKind::uts, uts}})).view,
                                  someones)
            .empty());
  // Their map holds root: root's binary is theirs to write.
  CHECK(why_container_could_write(view_of(joining({{NsKind::user, user}, {NsKind::mnt, mnt}})).view, root_owned()) ==
        "the binary's owner is mapped into the user namespace it joins");
  struct stat group_writable = someones;
  group_writable.st_mode = S_IFREG | 0775;
  CHECK(why_container_could_write(view_of(joining({{NsKind::user, user}})).view, group_writable) ==
        "the binary is writable by group or others");
  CHECK(why_container_could_write(view_of(joining({{NsKind::mnt, mnt}})).view, someones) ==
        "it joins namespaces, but no user namespace");
  CHECK(why_container_could_write(view_of(joining({{NsKind::user, user}}, true)).view, someones) ==
        "it joins namespaces and creates a user namespace");
  // A namespace our own user namespace owns, next to theirs.
  CHECK(why_container_could_write(view_of(joining({{NsKind::user, user}, {NsKind::net, "/proc/self/ns/net"}})).view,
                                  someones) == "it joins a namespace its user namespace does not own");
  // A FIFO named as a namespace neither hangs the look nor passes.
  char dir[] = "/tmp/nsenter-unwritable.XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(why_container_could_write(view_of(joining({{NsKind::user, user}, {NsKind::net, fifo}})).view, someones) ==
        "it joins a namespace its user namespace does not own");
  ::unlink(fifo.c_str());
  ::rmdir(dir);
  // Ours maps root.
  const std::string ours = "/proc/" + std::to_string(::getpid()) + "/ns/user";
  CHECK(why_container_could_write(view_of(joining({{NsKind::user, ours}})).view, root_owned()) ==
        "the binary's owner is mapped into the user namespace it joins");
  // Named another way (even /proc/self), its map is not looked for.
  for (const char* other : {"/run/userns/x", "/proc/self/ns/user"}) {
    CAPTURE(other);
    CHECK(why_container_could_write(view_of(joining({{NsKind::user, other}})).view, someones) ==
          "it joins a user namespace not named /proc/PID/ns/user");
  }
}
