// SPDX-License-Identifier: Apache-2.0
// The hook between "in its namespaces" and "go on". launch() returns once
// stage 2 is in the container's namespaces, with the init pipe still open;
// this init then waits for a word on it before it runs anything. In that
// window the runtime does what only it can do from outside, as runc's
// parent and nsjail's do:
//   (a) a veth pair, one end moved into the container's network namespace,
//       both ends addressed and up (iproute2's ip);
//   (b) a limit written into the container's cgroup (pids.max), which the
//       Launcher put it in at its clone.
// Then it says "go" (with the port it listens on), and the container sees
// its network and its limit from its first instruction on: it reports
// both and says hello to the runtime over the veth. Root only: a veth pair
// takes CAP_NET_ADMIN on the host.
//
//   bazel run //docs/examples:hooks
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "nsenter/embed.hpp"
#include "nsenter/launcher.hpp"

extern char** environ;

namespace {

constexpr const char* kHostAddress = "10.231.0.1";
constexpr const char* kContainerAddress = "10.231.0.2";

// What the container reports once it may go on: its eth0 (name, state,
// address), its cgroup's pids.max, and a hello to the runtime over the veth.
constexpr const char* kContainerReport =
    "ip -br -4 addr show dev eth0 | sed 's/@[^ ]*//' | awk '{print \"container: eth0\", $2, $3}'; "
    "dir=$(awk -F: '$2==\"pids\"{v1=$3} $1==\"0\"&&$2==\"\"{v2=$3} "
    "END{print (v1!=\"\" ? \"/sys/fs/cgroup/pids\" v1 : \"/sys/fs/cgroup\" v2)}' /proc/self/cgroup); "
    "echo \"container: pids.max $(cat \"$dir/pids.max\")\"; "
    "echo 'hello over the veth' >\"/dev/tcp/$RUNTIME_ADDRESS/$RUNTIME_PORT\"";

// The container's first process: stage 2, in its namespaces, waiting for
// the runtime's word ("go PORT") before it runs anything.
[[noreturn]] void container_main(nsenter::InitContext& ctx, int, char**) {
  char word[32] = {};
  std::size_t got = 0;
  while (got < sizeof word - 1 && (got == 0 || word[got - 1] != '\n')) {
    const ssize_t n = ::read(ctx.init_pipe, word + got, 1);
    if (n <= 0) ::_exit(3);  // the runtime gave up before the go: nothing ran
    got += static_cast<std::size_t>(n);
  }
  int port = 0;
  if (std::sscanf(word, "go %d", &port) != 1) ::_exit(3);
  ::setenv("RUNTIME_ADDRESS", kHostAddress, 1);
  ::setenv("RUNTIME_PORT", std::to_string(port).c_str(), 1);
  ::execl("/bin/bash", "bash", "-c", kContainerReport, static_cast<char*>(nullptr));
  ::_exit(127);
}

// `argv` run to its end (from $PATH); whether it exited 0. With `netns`,
// run in that network namespace (a child that joins it first).
bool run(std::vector<std::string> argv, const std::string& netns = "") {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (!netns.empty()) {
      const int fd = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(126);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return false;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  std::fprintf(stderr, "hooks: %s failed\n", argv[0].c_str());
  return false;
}

// `text` written to `path` in one write(2), as the kernel's cgroup files
// want it; whether it took.
bool write_file(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  const bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (!ok) std::perror(("hooks: " + path).c_str());
  if (fd >= 0) ::close(fd);
  return ok;
}

bool lists(const std::string& path, const std::string& word) {
  std::ifstream in(path);
  for (std::string w; in >> w;)
    if (w == word) return true;
  return false;
}

// The pids controller's hierarchy: cgroup v2's root where it has the
// controller (enabled for its children if it was not), else v1's pids
// hierarchy (a hybrid machine).
std::string pids_hierarchy() {
  if (!lists("/sys/fs/cgroup/cgroup.controllers", "pids")) return "/sys/fs/cgroup/pids";
  if (!lists("/sys/fs/cgroup/cgroup.subtree_control", "pids"))
    (void)write_file("/sys/fs/cgroup/cgroup.subtree_control", "+pids");
  return "/sys/fs/cgroup";
}

// What the hooks made, undone however the run ends: the host's end of the
// veth (its peer goes with it) and the container's cgroup.
struct Made {
  std::string link, cgroup;
  ~Made() {
    // The pair goes with the container's network namespace; not if the
    // container was never started.
    if (!link.empty() && ::if_nametoindex(link.c_str()) != 0) (void)run({"ip", "link", "del", link});
    if (!cgroup.empty()) ::rmdir(cgroup.c_str());
  }
};

}  // namespace

NSENTER_INIT_CONSTRUCTOR(hooks_init, 200, nsenter::RuncCompatNsexec, container_main)

int main() {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "hooks: needs root: a veth pair takes CAP_NET_ADMIN on the host\n");
    return 2;
  }
  using nsenter::NsKind;
  nsenter::Bootstrap config;
  config.clone_flags = nsenter::NsSet{NsKind::net, NsKind::pid, NsKind::uts, NsKind::ipc, NsKind::mnt};

  Made made;
  made.cgroup = pids_hierarchy() + "/nsenter-hooks-" + std::to_string(::getpid());
  if (::mkdir(made.cgroup.c_str(), 0755) != 0) {
    std::perror(("hooks: mkdir " + made.cgroup).c_str());
    made.cgroup.clear();
    return 1;
  }
  nsenter::LaunchOptions opt;
  opt.cgroup = made.cgroup;  // the init starts in it (clone3 on v2; cgroup.procs on v1)
  nsenter::Launcher launcher;  // the init is this program
  auto init = launcher.launch(config, opt);
  if (!init) {
    std::fprintf(stderr, "hooks: launch failed: %s\n", nsenter::to_string(init.error()).c_str());
    return 1;
  }
  // Stage 2 is in its namespaces and waits. The hooks:
  const std::string netns = "/proc/" + std::to_string(init->pid()) + "/ns/net";
  made.link = "nsh" + std::to_string(init->pid());
  const std::string host_cidr = std::string(kHostAddress) + "/30", container_cidr = std::string(kContainerAddress) + "/30";
  const bool hooked =
      run({"ip", "link", "add", made.link, "type", "veth", "peer", "name", "eth0", "netns", std::to_string(init->pid())}) &&
      run({"ip", "addr", "add", host_cidr, "dev", made.link}) && run({"ip", "link", "set", made.link, "up"}) &&
      run({"ip", "addr", "add", container_cidr, "dev", "eth0"}, netns) && run({"ip", "link", "set", "eth0", "up"}, netns) &&
      run({"ip", "link", "set", "lo", "up"}, netns) && write_file(made.cgroup + "/pids.max", "64\n");
  // Where the container will say hello.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::inet_pton(AF_INET, kHostAddress, &address.sin_addr);
  socklen_t length = sizeof address;
  const bool listening = hooked && listener >= 0 &&
                         ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                         ::listen(listener, 1) == 0 &&
                         ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  if (!listening) {
    std::fprintf(stderr, "hooks: the hooks failed; the container is ended before it ran anything\n");
    (void)init->signal(SIGKILL);
    (void)init->wait();
    return 1;
  }
  const std::string go = "go " + std::to_string(ntohs(address.sin_port)) + "\n";
  (void)!::write(init->init_pipe(), go.data(), go.size());

  std::string heard;
  pollfd p{listener, POLLIN, 0};
  if (::poll(&p, 1, 10000) == 1) {
    const int peer = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    char buf[128];
    for (ssize_t n; peer >= 0 && (n = ::read(peer, buf, sizeof buf)) > 0;) heard.append(buf, static_cast<std::size_t>(n));
    if (peer >= 0) ::close(peer);
  }
  ::close(listener);
  auto status = init->wait();
  std::printf("runtime: heard \"%s\"\n", heard.substr(0, heard.find('\n')).c_str());
  std::printf("runtime: the container %s\n",
              status ? nsenter::to_string(*status).c_str() : nsenter::to_string(status.error()).c_str());
  return status && status->success() && !heard.empty() ? 0 : 1;
}
