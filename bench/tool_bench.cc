// SPDX-License-Identifier: Apache-2.0
// The nsrun tool against util-linux, whole commands as a user runs them:
// each system is forked, exec'd and reaped, ending in the exec of
// /bin/true, every system of a config once per round in an order shuffled
// each round (3 warm-up rounds dropped).
//
//   new sandbox      unshare -Urpmui --fork --mount-proc /bin/true
//                    nsrun -U -r -p -m -u -i --mount-proc -- /bin/true
//                    floor_sandbox new /bin/true
//   join 5 namespaces of a live process (user, pid, mnt, uts, ipc)
//                    nsenter -t PID -a /bin/true (as nobody: -U
//                      --preserve-credentials -p -m -u -i, the same five)
//                    nsrun -t PID -- /bin/true
//                    floor_sandbox join PID /bin/true
// each as root and as nobody (rootless: the target is nobody's too).
// Prints min / median / p90 and the ratio of medians to util-linux; with
// NSENTER_BENCH_SAMPLES=FILE, appends every sample to FILE (for the plot).
//
//   tool_bench ROUNDS NSRUN FLOOR      (as root)
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr uid_t kNobody = 65534;

double now_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) / 1e3;
}

// Becomes nobody (in a forked child only).
bool drop_to_nobody() {
  return setgroups(0, nullptr) == 0 && setresgid(kNobody, kNobody, kNobody) == 0 &&
         setresuid(kNobody, kNobody, kNobody) == 0;
}

// Starts argv (as nobody if asked) with stdin and stdout on /dev/null, and
// stderr too if quiet.
pid_t start(const std::vector<std::string>& argv, bool rootless, bool quiet = false) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  const int null = open("/dev/null", O_RDWR);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || (quiet && dup2(null, 2) < 0) ||
      (rootless && !drop_to_nobody()))
    _exit(126);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

// One whole command: microseconds, or -1 if it failed.
double run_once(const std::vector<std::string>& argv, bool rootless) {
  const double t0 = now_us();
  const pid_t pid = start(argv, rootless);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  const double t = now_us() - t0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

// A live process in its own user, pid, mnt, uts and ipc namespaces: the
// `sleep` that `unshare --fork` runs as pid 1 there. Returns its pid (in
// ours) and the unshare's, to end both.
std::pair<pid_t, pid_t> start_target(bool rootless) {
  // Quiet: the unshare complains when its sleep is killed at the end.
  const pid_t unshare = start({"unshare", "-Urpmui", "--fork", "sleep", "100000"}, rootless, true);
  const std::string children = "/proc/" + std::to_string(unshare) + "/task/" + std::to_string(unshare) + "/children";
  for (int i = 0; i < 2000; ++i) {
    std::ifstream in(children);
    pid_t sleep_pid = 0;
    if (in >> sleep_pid && sleep_pid > 0) {
      // Its namespaces are in place once it runs sleep.
      std::ifstream comm("/proc/" + std::to_string(sleep_pid) + "/comm");
      std::string name;
      if (comm >> name && name == "sleep") return {sleep_pid, unshare};
    }
    usleep(1000);
  }
  std::fprintf(stderr, "tool_bench: the join target did not start\n");
  std::exit(1);
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * double(v.size() - 1))];
}

struct System {
  std::string name;
  std::vector<std::string> argv;
};

struct Config {
  std::string name;
  bool rootless;
  std::vector<System> systems;  // the first is the reference
  std::vector<std::vector<double>> times;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 || geteuid() != 0) {
    std::fprintf(stderr, "usage (as root): tool_bench ROUNDS NSRUN FLOOR\n");
    return 2;
  }
  const int rounds = std::atoi(argv[1]);
  const std::string nsrun = argv[2], floor = argv[3];
  // nobody runs them too: the caller passes copies nobody can reach.
  std::vector<std::pair<pid_t, pid_t>> targets;
  std::vector<Config> configs;
  for (const bool rootless : {false, true}) {
    const std::string who = rootless ? ", as nobody" : ", as root";
    configs.push_back({"new sandbox" + who,
                       rootless,
                       {{"unshare", {"unshare", "-Urpmui", "--fork", "--mount-proc", "/bin/true"}},
                        {"nsrun", {nsrun, "--no-tty", "-U", "-r", "-p", "-m", "-u", "-i", "--mount-proc", "--", "/bin/true"}},
                        {"floor", {floor, "new", "/bin/true"}}},
                       {}});
    targets.push_back(start_target(rootless));
    const std::string pid = std::to_string(targets.back().first);
    configs.push_back({"join 5 namespaces" + who,
                       rootless,
                       // As nobody, -a would also try the host's cgroup namespace, which
                       // nobody may not enter; and setgroups is denied in the target.
                       {{"nsenter", rootless ? std::vector<std::string>{"nsenter", "-t", pid, "-U", "--preserve-credentials",
                                                                         "-p", "-m", "-u", "-i", "/bin/true"}
                                             : std::vector<std::string>{"nsenter", "-t", pid, "-a", "/bin/true"}},
                        {"nsrun", {nsrun, "--no-tty", "-t", pid, "--", "/bin/true"}},
                        {"floor", {floor, "join", pid, "/bin/true"}}},
                       {}});
  }
  std::vector<std::pair<std::size_t, std::size_t>> order;
  for (std::size_t c = 0; c < configs.size(); ++c) {
    configs[c].times.resize(configs[c].systems.size());
    for (std::size_t s = 0; s < configs[c].systems.size(); ++s) order.emplace_back(c, s);
  }
  std::mt19937 rng(20261201);
  int status = 0;
  for (int round = 0; round < rounds + 3 && status == 0; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    for (const auto& [c, s] : order) {
      Config& config = configs[c];
      const double t = run_once(config.systems[s].argv, config.rootless);
      if (t < 0) {
        std::fprintf(stderr, "tool_bench: %s failed on '%s'\n", config.systems[s].name.c_str(), config.name.c_str());
        status = 1;
        break;
      }
      if (round >= 3) config.times[s].push_back(t);
    }
  }
  for (const auto& [target, unshare] : targets) {
    kill(target, SIGKILL);
    waitpid(unshare, nullptr, 0);
  }
  if (status != 0) return status;
  // Every sample, for bench/plot_latency.py, if asked.
  if (const char* path = std::getenv("NSENTER_BENCH_SAMPLES")) {
    if (std::FILE* f = std::fopen(path, "a")) {
      for (const Config& config : configs)
        for (std::size_t s = 0; s < config.systems.size(); ++s)
          for (double t : config.times[s]) std::fprintf(f, "tool\t%s\t%s\t%.0f\n", config.name.c_str(), config.systems[s].name.c_str(), t);
      std::fclose(f);
    }
  }
  std::printf("%d rounds, each system and config once per round in shuffled order.\n\n", rounds);
  std::printf("| config | system | min (us) | median (us) | p90 (us) | median / util-linux's |\n|---|---|---|---|---|---|\n");
  for (const Config& config : configs) {
    const double base = quantile(config.times[0], 0.5);
    for (std::size_t s = 0; s < config.systems.size(); ++s) {
      const auto& v = config.times[s];
      std::printf("| %s | %s | %.0f | %.0f | %.0f | %.2f |\n", config.name.c_str(), config.systems[s].name.c_str(),
                  quantile(v, 0), quantile(v, 0.5), quantile(v, 0.9), quantile(v, 0.5) / base);
    }
  }
  return 0;
}
