// SPDX-License-Identifier: Apache-2.0
// Process helpers the integration tests share: namespace links, this
// process's children (to find and end whatever a test left behind), and
// copies of binaries an unprivileged user can run.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace nsenter::test {

inline std::string ns_link(const std::string& proc, const char* kind) {
  char buf[128] = {};
  const ssize_t n = ::readlink((proc + "/ns/" + kind).c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("?");
}

// This process's live (non-zombie) children, from /proc.
inline std::vector<pid_t> live_children() {
  std::vector<pid_t> out;
  const pid_t self = ::getpid();
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
      if (pid <= 0) continue;
      std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
      std::string line;
      std::getline(stat, line);
      const auto close = line.rfind(')');
      if (close == std::string::npos || close + 2 >= line.size()) continue;
      std::istringstream rest(line.substr(close + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid == self && state != 'Z') out.push_back(pid);
    }
    ::closedir(d);
  }
  return out;
}

inline bool contains(const std::vector<pid_t>& v, pid_t pid) {
  return std::find(v.begin(), v.end(), pid) != v.end();
}

// Kills and reaps every child of this process except `keep` (children the
// test made on purpose, such as processes whose namespaces are joined).
// Returns how many had to be killed.
inline int kill_and_reap_children(const std::vector<pid_t>& keep = {}) {
  int killed = 0;
  for (pid_t pid : live_children())
    if (!contains(keep, pid)) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      ++killed;
    }
  return killed;
}

// A process parked in namespaces of its own, whose /proc/PID/ns/* an init
// joins. Killed and reaped on destruction.
class Target {
 public:
  // `flags`: namespaces to create; with CLONE_NEWUSER, maps 0..65535 to
  // 100000.. from outside, as a runtime would.
  // With `owner`: made by that unprivileged user (uid and gid), whose
  // user namespace maps its root to the owner, as a rootless runtime's.
  explicit Target(int flags, std::optional<uid_t> owner = std::nullopt) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error("Target: pipe2");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("Target: fork");
    if (pid_ == 0) {
      if (owner && (::setgroups(0, nullptr) != 0 || ::setresgid(*owner, *owner, *owner) != 0 ||
                    ::setresuid(*owner, *owner, *owner) != 0 || ::prctl(PR_SET_DUMPABLE, 1) != 0))
        ::_exit(1);  // dumpable again after the id change: /proc/self is then ours to write the maps
      if (::unshare(flags) != 0) ::_exit(1);
      if (owner) {
        const std::string map = "0 " + std::to_string(*owner) + " 1\n";
        auto put = [](const char* file, const std::string& text) {
          const int fd = ::open(file, O_WRONLY | O_CLOEXEC);
          const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
          if (fd >= 0) ::close(fd);
          return ok;
        };
        if (!put("/proc/self/setgroups", "deny") || !put("/proc/self/uid_map", map) || !put("/proc/self/gid_map", map))
          ::_exit(1);
      }
      (void)!::write(ready[1], "r", 1);
      ::pause();
      ::_exit(0);
    }
    ::close(ready[1]);
    char c = 0;
    const bool ready_said = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    if (!ready_said) {
      ::waitpid(pid_, nullptr, 0);
      throw std::runtime_error("Target: unshare failed");
    }
    if ((flags & CLONE_NEWUSER) && !owner) {
      std::ofstream(proc() + "/uid_map") << "0 100000 65536\n";
      std::ofstream(proc() + "/gid_map") << "0 100000 65536\n";
    }
  }
  ~Target() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;
  pid_t pid() const { return pid_; }
  std::string proc() const { return "/proc/" + std::to_string(pid_); }
  std::string ns(const char* kind) const { return proc() + "/ns/" + kind; }

 private:
  pid_t pid_ = -1;
};

// A copy of a binary in a private 0755 directory, so an unprivileged user
// can execute it (Bazel's runfiles live under root's home). Removed on
// destruction.
class WorldExecutable {
 public:
  explicit WorldExecutable(const std::string& source, const std::string& name = "nsrun") {
    char dir[] = "/tmp/nsenter-it.XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = dir;
    ::chmod(dir_.c_str(), 0755);
    path_ = dir_ + "/" + name;
    std::ifstream in(source, std::ios::binary);
    std::ofstream out(path_, std::ios::binary);
    out << in.rdbuf();
    out.close();
    ::chmod(path_.c_str(), 0755);
  }
  ~WorldExecutable() {
    for (const auto& f : extra_) ::unlink(f.c_str());
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

  // Writes an executable script beside the binary.
  std::string add_script(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), 0755);
    extra_.push_back(p);
    return p;
  }

 private:
  std::string dir_, path_;
  std::vector<std::string> extra_;
};

}  // namespace nsenter::test
