// SPDX-License-Identifier: Apache-2.0
// exe_rebase.hpp: this test binary moves itself, in a forked child each
// time, onto a read-only view of its own file, and the child reports what
// the kernel then shows; the parent checks the report. Root only: the view
// needs mount privileges and the move CAP_SYS_ADMIN. Nothing is written
// through any handle: the checks that a write fails open for writing and
// stop there.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <filesystem>
#include <thread>
#include <vector>

#include "nsenter/exe_rebase.hpp"
#include "nsenter/self_protection.hpp"
#include "support/root.hpp"
#include "support/test_util.hpp"

namespace {

using nsenter::UniqueFd;
using nsenter::test::require_root;


// Runs `body` in a forked child and returns what it printed (key=value
// lines); "exit=N" ends the report.
std::string in_child(const std::function<void(std::FILE*)>& body) {
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(out[0]);
    std::FILE* f = ::fdopen(out[1], "w");
    body(f);
    std::fclose(f);
    ::_exit(0);
  }
  ::close(out[1]);
  std::string report = nsenter::test::read_to_end_and_close(out[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  report += "exit=" + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) + "\n";
  return report;
}

bool has(const std::string& report, const std::string& line) { return report.find(line + "\n") != std::string::npos; }

// Every mapping of the file `st` names, as "perms path" lines.
std::string mappings_of(const struct stat& st) {
  std::ifstream maps("/proc/self/maps");
  std::string line, found;
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms, offset, dev, path;
    unsigned long inode = 0;
    in >> range >> perms >> offset >> dev >> inode >> path;
    const unsigned major = std::stoul(dev.substr(0, dev.find(':')), nullptr, 16);
    const unsigned minor = std::stoul(dev.substr(dev.find(':') + 1), nullptr, 16);
    if (inode == st.st_ino && makedev(major, minor) == st.st_dev) found += perms + " " + path + ";";
  }
  return found;
}

// The permissions of the mapping that holds `address`.
std::string perms_at(std::uintptr_t address) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) == 3 && start <= address && address < end) return perms;
  }
  return "unmapped";
}

std::string exe_link() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
}

}  // namespace

TEST_CASE("exe_rebase: the process moves onto a read-only view of its own file, in place, and goes on") {
  require_root();
  const std::string original = exe_link();
  struct stat exe {};
  REQUIRE(::stat("/proc/self/exe", &exe) == 0);
  const std::string report = in_child([&](std::FILE* f) {
    UniqueFd view = nsenter::detail::detached_read_only_view("/proc/self/exe");
    std::fprintf(f, "view=%d\n", view ? 1 : 0);
    auto moved = nsenter::rebase_exe_onto(view.get());
    std::fprintf(f, "moved=%s\n", moved ? "ok" : nsenter::to_string(moved.error()).c_str());
    view.reset();  // the mappings hold the mount now
    struct statvfs fs {};
    struct stat now {};
    std::fprintf(f, "exe=%s\n", exe_link().c_str());
    std::fprintf(f, "exe_ro=%d\n", ::statvfs("/proc/self/exe", &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0);
    std::fprintf(f, "same_file=%d\n", ::stat("/proc/self/exe", &now) == 0 && now.st_ino == exe.st_ino && now.st_dev == exe.st_dev);
    const int w = ::open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
    std::fprintf(f, "open_for_write=%s\n", w >= 0 ? "opened" : strerrorname_np(errno));
    if (w >= 0) ::close(w);
    std::fprintf(f, "mappings=%s\n", mappings_of(exe).c_str());
    nsenter::detail::LoadedImage image;
    const std::string_view why = nsenter::detail::loaded_image(image);
    std::fprintf(f, "image=%s\n", why.empty() ? "ok" : std::string(why).c_str());
    std::fprintf(f, "relro=%s\n", image.relro_end > image.relro_start ? perms_at(image.relro_start).c_str() : "none");
    // The program still runs: its text (the same pages, mapped again),
    // its written data (copied), its unwind tables (an exception), and a
    // fork that execs.
    try {
      throw std::runtime_error("thrown after the move");
    } catch (const std::exception& e) {
      std::fprintf(f, "caught=%s\n", e.what());
    }
    const pid_t child = ::fork();
    if (child == 0) {
      ::execl("/bin/true", "true", nullptr);
      ::_exit(127);
    }
    int st = 0;
    ::waitpid(child, &st, 0);
    std::fprintf(f, "exec_after=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  });
  INFO(report);
  CHECK(has(report, "view=1"));
  CHECK(has(report, "moved=ok"));
  CHECK(has(report, "exe=/"));  // the view's mount is attached nowhere
  CHECK(has(report, "exe_ro=1"));
  CHECK(has(report, "same_file=1"));
  CHECK(has(report, "open_for_write=ETXTBSY"));
  // Every mapping of the file is the view's ("/"), none the original
  // path's; the written data is anonymous memory now, and the part the
  // loader made read-only after relocating (RELRO) is read-only again.
  const auto mappings = report.substr(report.find("mappings="));
  CHECK(mappings.find(original) == std::string::npos);
  CHECK(mappings.find("r-xp /;") != std::string::npos);
  CHECK(has(report, "image=ok"));
  CHECK(has(report, "relro=r--p"));
  CHECK(has(report, "caught=thrown after the move"));
  CHECK(has(report, "exec_after=0"));
  CHECK(has(report, "exit=0"));
  CHECK(exe_link() == original);  // the parent never moved
}

TEST_CASE("exe_rebase: a view of another file is refused before anything moves") {
  require_root();
  const std::string original = exe_link();
  const std::string report = in_child([&](std::FILE* f) {
    UniqueFd other = nsenter::detail::detached_read_only_view("/bin/true");
    auto moved = nsenter::rebase_exe_onto(other.get());
    std::fprintf(f, "moved=%s\n", moved ? "ok" : nsenter::to_string(moved.error()).c_str());
    std::fprintf(f, "exe=%s\n", exe_link().c_str());
  });
  INFO(report);
  CHECK(report.find("is not the file /proc/self/exe names: Invalid argument") != std::string::npos);
  CHECK(has(report, "exe=" + original));
  CHECK(has(report, "exit=0"));
}

TEST_CASE("exe_rebase: a process with a second thread is refused before anything moves") {
  require_root();
  const std::string original = exe_link();
  const std::string report = in_child([&](std::FILE* f) {
    UniqueFd view = nsenter::detail::detached_read_only_view("/proc/self/exe");
    int go[2];
    if (::pipe(go) != 0) ::_exit(10);
    std::thread second([&] {
      char c;
      (void)!::read(go[0], &c, 1);
    });
    auto moved = nsenter::rebase_exe_onto(view.get());
    (void)!::write(go[1], "x", 1);
    second.join();
    std::fprintf(f, "moved=%s\n", moved ? "ok" : nsenter::to_string(moved.error()).c_str());
    std::fprintf(f, "exe=%s\n", exe_link().c_str());
  });
  INFO(report);
  CHECK(report.find("2 threads: another could write a data page between its copy and its move: Invalid argument") !=
        std::string::npos);
  CHECK(has(report, "exe=" + original));
  CHECK(has(report, "exit=0"));
}

TEST_CASE("exe_rebase: without CAP_SYS_ADMIN the kernel refuses, and asking changes nothing") {
  require_root();
  const std::string original = exe_link();
  struct stat exe {};
  REQUIRE(::stat("/proc/self/exe", &exe) == 0);
  const std::string before = mappings_of(exe);
  const std::string report = in_child([&](std::FILE* f) {
    UniqueFd view = nsenter::detail::detached_read_only_view("/proc/self/exe");  // while still root
    constexpr uid_t kNobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 || ::setresuid(kNobody, kNobody, kNobody) != 0)
      ::_exit(10);
    std::fprintf(f, "refused=%s\n", strerrorname_np(nsenter::exe_rebase_refused()));
    auto moved = nsenter::rebase_exe_onto(view.get());
    std::fprintf(f, "moved=%s\n", moved ? "ok" : nsenter::to_string(moved.error()).c_str());
    std::fprintf(f, "exe=%s\n", exe_link().c_str());
    std::fprintf(f, "mappings=%s\n", mappings_of(exe).c_str());
  });
  INFO(report);
  CHECK(has(report, "refused=EPERM"));
  CHECK(report.find("PR_SET_MM_MAP: may this process name its executable?: Operation not permitted") != std::string::npos);
  CHECK(has(report, "exe=" + original));
  CHECK(has(report, "mappings=" + before));  // asked first: nothing was moved
  CHECK(has(report, "exit=0"));
  // Root may.
  CHECK(nsenter::exe_rebase_refused() == 0);
}

TEST_CASE("read_self_stat: the fields asked for, in order; a request it cannot serve is refused") {
  constexpr int kPpidThreads[] = {4, 20};
  unsigned long long v[2] = {};
  REQUIRE(nsenter::detail::read_self_stat(kPpidThreads, v));
  CHECK(v[0] == static_cast<unsigned long long>(::getppid()));
  CHECK(v[1] == nsenter::detail::thread_count());
  CHECK(v[1] >= 1);
  constexpr int kDescending[] = {20, 4};
  CHECK_FALSE(nsenter::detail::read_self_stat(kDescending, v));
  constexpr int kState[] = {3};  // a letter, not a number
  CHECK_FALSE(nsenter::detail::read_self_stat(kState, v));
  constexpr int kPastTheEnd[] = {400};
  CHECK_FALSE(nsenter::detail::read_self_stat(kPastTheEnd, v));
  unsigned long long one[1] = {};
  CHECK_FALSE(nsenter::detail::read_self_stat(kPpidThreads, one));  // no room
}

// ---- binaries of their own shape (rebase_probe.cc) ---------------------------
namespace {

// The dynamic loader the probe names in its PT_INTERP, run as a command.
#if defined(__x86_64__)
constexpr const char* kLoader = "/lib64/ld-linux-x86-64.so.2";
#elif defined(__aarch64__)
constexpr const char* kLoader = "/lib/ld-linux-aarch64.so.1";
#else
#error "exe_rebase_test: name this architecture's dynamic loader"
#endif

// Runs argv, returns its stdout and stderr with "exit=N" appended.
std::string run(const std::vector<std::string>& args) {
  int out[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string report = nsenter::test::read_to_end_and_close(out[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return report + "exit=" + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) + "\n";
}

std::string runfile(const char* path) { return std::filesystem::canonical(path).string(); }

}  // namespace

TEST_CASE("exe_rebase: a segment both writable and executable keeps both after the move, and its code still runs") {
  require_root();
  const std::string report = run({runfile("tests/integration/rebase_probe")});
  INFO(report);
  CHECK(has(report, "awx_before=rwxp"));  // else the probe tests nothing
  CHECK(has(report, "moved=ok"));
  CHECK(has(report, "awx_after=rwxp"));
  CHECK(has(report, "awx_call=5"));
  CHECK(has(report, "exit=0"));
}

TEST_CASE("exe_rebase: a program run through the dynamic loader is not moved: /proc/self/exe is the loader, not its image") {
  require_root();
  const std::string report = run({kLoader, runfile("tests/integration/rebase_probe")});
  INFO(report);
  CHECK(has(report, "view=1"));  // a view of the loader: the same file /proc/self/exe names
  CHECK(report.find("moved=protect /proc/self/exe (CVE-2019-5736): run through the dynamic loader") != std::string::npos);
  CHECK(has(report, "awx_call=5"));  // nothing moved: it goes on
  CHECK(has(report, "exit=0"));
  CHECK_FALSE(nsenter::detail::runs_through_dynamic_loader());  // this test, started by its path
}

TEST_CASE("Launcher: started through the dynamic loader, it refuses to exec the loader as its init, saying why") {
  require_root();
  for (const char* who : {"launcher", "pool"}) {
    CAPTURE(who);
    const std::string report = run({kLoader, runfile("tests/integration/sandbox_cell"), who});
    INFO(report);
    CHECK(report.find("error: spawn init: this program runs through the dynamic loader (/proc/self/exe is the loader)") !=
          std::string::npos);
    CHECK(has(report, "exit=1"));
  }
  // By its own path, the same program launches.
  CHECK(run({runfile("tests/integration/sandbox_cell"), "launcher"}).starts_with("ok "));
}
