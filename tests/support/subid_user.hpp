// SPDX-License-Identifier: Apache-2.0
// A plain user with subordinate id ranges, as `useradd` and an admin would
// set one up for rootless containers (newuidmap/newgidmap), for tests that
// run as root. Created for the test and removed after it, /etc/subuid and
// /etc/subgid restored to what they were. Test programs run in parallel
// and every one of them rewrites those files: an flock(2) on /etc itself
// (a directory, so no lock file is left behind; shadow-utils locks with
// fcntl on files of its own, which this does not touch) makes the users
// one at a time, held for the object's life.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace nsenter::test {

class SubidUser {
 public:
  static constexpr const char* kName = "nsenter-it";
  static constexpr const char* kLock = "/etc";
  // The ranges every such user gets: 65536 ids from 300000.
  static constexpr unsigned kFirstSubid = 300000;
  static constexpr unsigned kSubids = 65536;

  SubidUser() : lock_(take_lock()), subuid_(slurp("/etc/subuid")), subgid_(slurp("/etc/subgid")) {
    try {
      create();
    } catch (...) {
      remove();  // a failed REQUIRE throws before the destructor could run
      throw;
    }
  }
  ~SubidUser() { remove(); }
  SubidUser(const SubidUser&) = delete;
  SubidUser& operator=(const SubidUser&) = delete;
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }

 private:
  static int take_lock() {
    const int fd = ::open(kLock, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE_MESSAGE(fd >= 0, "open " << kLock);
    while (::flock(fd, LOCK_EX) != 0) REQUIRE(errno == EINTR);
    return fd;
  }
  void create() {
    REQUIRE_MESSAGE(std::system("/usr/sbin/userdel nsenter-it >/dev/null 2>&1; /usr/sbin/useradd -M -s /usr/sbin/nologin nsenter-it") == 0,
                    "useradd failed");
    REQUIRE_MESSAGE(std::system("/usr/sbin/usermod --add-subuids 300000-365535 --add-subgids 300000-365535 nsenter-it") == 0,
                    "/usr/sbin/usermod --add-subuids failed");
    const passwd* pw = ::getpwnam(kName);
    REQUIRE(pw != nullptr);
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
  }
  void remove() {
    (void)std::system("/usr/sbin/userdel nsenter-it >/dev/null 2>&1");
    std::ofstream("/etc/subuid", std::ios::trunc) << subuid_;
    std::ofstream("/etc/subgid", std::ios::trunc) << subgid_;
    ::close(lock_);  // the next test's turn
  }
  static std::string slurp(const char* path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  int lock_;
  std::string subuid_, subgid_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

}  // namespace nsenter::test
