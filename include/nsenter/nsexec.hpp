// SPDX-License-Identifier: Apache-2.0
// nsenter: Nsexec<...>, the pre-main pipeline of runc's init protocol (1.1,
// and 1.2 to 1.5, told apart by the sync pipe: bootstrap_reader.hpp).
// Run it from a constructor function; it returns nothing (at the cost of one
// getenv) in a process that is not an init, and an InitContext in stage 2.
// One of three topologies, chosen in setup():
//
// Three stages (runc's; the only one runc's own parent asks for):
//
//  runtime ──init pipe──> setup ── plan everything, before any clone
//                           │
//                        stage 0 (runc:[0:PARENT]) serves map writes and
//                           │ forwards pids; _exit(0) when both are done
//                           ├─ clone(CLONE_PARENT) ─> stage 1 (runc:[1:CHILD])
//                           │                          joins, unshares, maps;
//                           │                          _exit(0) after forking
//                           │   clone(CLONE_PARENT) <──┘
//                           └──────────────────────> stage 2 (runc:[2:INIT])
//                                                       returns to the program
//
// One clone (_NSENTER_START=one-clone, a container that needs no stage 1;
// start_plan.hpp): stage 0 makes the joins itself, then one
// clone(CLONE_PARENT | every CLONE_NEW*) makes stage 2 in all its new
// namespaces; the pid line names stage 2 twice.
//
//  runtime ──> setup ──> stage 0 ── clone(CLONE_PARENT|CLONE_NEW*) ──> stage 2
//
// Direct (_NSENTER_START=direct, checked): the runtime cloned this process into
// its namespaces and did stage 0's work; it is stage 2 from the start and
// says it is ready with a second NUL byte.
//
//  runtime ── clone(CLONE_NEW*) ──> setup = stage 2 ──> the program
//
// Sync channels: stage 0 holds one socketpair with stage 1 ("child") and one
// with stage 2 ("grandchild"), both created before the first clone. Each
// process closes the ends it does not use right after it is born, so when a
// process dies its peers read EOF (Code::PeerClosed) instead of hanging.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <concepts>
#include <cstring>
#include <optional>
#include <span>

#include "nsenter/bootstrap_reader.hpp"
#include "nsenter/bootstrap_view.hpp"
#include "nsenter/clone.hpp"
#include "nsenter/concepts.hpp"
#include "nsenter/detail/threads.hpp"
#include "nsenter/env.hpp"
#include "nsenter/error.hpp"
#include "nsenter/fd.hpp"
#include "nsenter/idmap.hpp"
#include "nsenter/log.hpp"
#include "nsenter/message_reader.hpp"
#include "nsenter/mount_sources.hpp"
#include "nsenter/namespaces.hpp"
#include "nsenter/pid_line.hpp"
#include "nsenter/result.hpp"
#include "nsenter/self_protection.hpp"
#include "nsenter/stage_names.hpp"
#include "nsenter/start_clock.hpp"
#include "nsenter/start_plan.hpp"
#include "nsenter/sync.hpp"
#include "nsenter/sys.hpp"
#include "nsenter/unwritable_exe.hpp"
#include "nsenter/version.hpp"
#include "nsenter/wire.hpp"

NSENTER_BEGIN_NAMESPACE

// ---- the plan ----------------------------------------------------------------

// Everything the stages need, checked and laid out in fixed storage before
// the first clone, so that no stage parses or allocates.
struct Plan {
  BootstrapView config;  // views into InitContext::message
  NsSet create;          // CLONE_FLAGS
  std::array<NsTarget, kMaxNamespaces> targets{};
  std::size_t target_count = 0;
  // NS_PATHS entries are ','-separated in the message; copied here so each
  // is a C string for open(2).
  std::array<std::array<char, kMaxPathBytes + 1>, kMaxNamespaces> paths{};
  std::string_view mount_fds;  // _LIBCONTAINER_MOUNT_FDS, checked against config.mount_sources
  ParentDeath parent_death;    // stage 2 arms it; stage 0 then checks the runtime is still there
  pid_t runtime = 0;           // stage 0's parent at setup: the runtime, watched while a map helper runs

  std::span<const NsTarget> join() const noexcept { return {targets.data(), target_count}; }
  bool joins() const noexcept { return target_count > 0; }
  bool joins_user() const noexcept {
    for (const NsTarget& t : join())
      if (t.kind == NsKind::user) return true;
    return false;
  }
  // Who stages 1 and 2 become: root of the new user namespace, as runc
  // does, unless its uid map leaves 0 out and maps the runtime's own id
  // (`nsrun --map-user=1000`); then that id, as unshare(1) does.
  std::uint32_t inside_uid = 0;
  std::uint32_t inside_gid = 0;

  // How this init starts (start_plan.hpp), as setup accepted it.
  StartPlan start;
  bool direct() const noexcept { return start.topology == Topology::Direct; }

  bool rootless() const noexcept { return config.rootless_euid.value_or(false); }
  bool setgroups() const noexcept { return config.setgroups.value_or(false); }
};

// The id a process with `outside` id has in a namespace with `map`: 0 when
// the map covers 0 (or is absent: runc's case), else wherever `outside`
// lands; 0 again if it lands nowhere, so the setresuid fails as runc's would.
inline std::uint32_t inside_id(const IdMapView& map, std::uint32_t outside) noexcept {
  bool maps_zero = map.empty();
  std::optional<std::uint32_t> self;
  map.for_each([&](const IdMapEntry& e) {
    if (e.inside == 0) maps_zero = true;
    if (outside >= e.outside && outside - e.outside < e.count) self = e.inside + (outside - e.outside);
  });
  return maps_zero || !self ? 0 : *self;
}

// The same for a process already in the namespace (a direct start), to
// which geteuid() shows `seen`: its id as the namespace maps it, or the
// overflow id where it maps it nowhere (the setresuid then fails).
inline std::uint32_t inside_id_seen_inside(const IdMapView& map, std::uint32_t seen) noexcept {
  bool maps_zero = map.empty();
  map.for_each([&](const IdMapEntry& e) {
    if (e.inside == 0) maps_zero = true;
  });
  return maps_zero ? 0 : seen;
}

// "uid 1000", on the stack, for error details in child stages.
struct IdText {
  char data[24];
};
inline IdText id_text(const char* what, std::uint32_t id) noexcept {
  IdText t{};
  fmt::format_to_n(t.data, sizeof t.data - 1, "{} {}", what, id);
  return t;
}

// `Env`: the variable names (the mount-fd list's, in its errors).
template <class Env = RuncEnv>
Result<void> make_plan(const BootstrapView& config, const BootstrapSource& source, Plan& plan) noexcept {
  plan.config = config;
  plan.create = config.clone_flags.value_or(NsSet{});
  if (plan.create.contains(NsKind::user)) {
    const bool direct = source.start.topology == Topology::Direct;
    plan.inside_uid = direct ? inside_id_seen_inside(config.uid_map, ::geteuid()) : inside_id(config.uid_map, ::geteuid());
    plan.inside_gid = direct ? inside_id_seen_inside(config.gid_map, ::getegid()) : inside_id(config.gid_map, ::getegid());
  }
  // Offsets can only be set on a namespace nobody has entered yet, i.e.
  // one we create (runc >= 1.2 refuses the same configuration).
  if (!config.time_offsets.empty() && !plan.create.contains(NsKind::time))
    return make_error(Op::PlanBootstrap, Code::NoTimeNamespace, kNoOffset, config.time_offsets.text);
  if (config.mount_sources) {
    if (auto r = check_mount_fds(Env::mount_fds, source.mount_fds, *config.mount_sources, source.init_pipe,
                                 source.log_pipe);
        !r)
      return r;
    plan.mount_fds = source.mount_fds;
  }
  plan.parent_death = source.parent_death;
  plan.runtime = ::getppid();
  plan.start = source.start;  // accepted by setup (accept_start)
  for (const NsPathView& p : config.ns_paths) {
    auto& buf = plan.paths[plan.target_count];
    std::memcpy(buf.data(), p.path.data(), p.path.size());  // size <= kMaxPathBytes, checked by decode
    buf[p.path.size()] = '\0';
    plan.targets[plan.target_count++] = NsTarget{p.kind, buf.data()};
  }
  return {};
}

// What stage 2 hands back to the program.
struct InitContext {
  wire::Bytes message;   // the bootstrap message; `config` views into it
  BootstrapView config;  // the parsed config
  int init_pipe = -1;    // still open, for the embedder's own protocol
  int log_pipe = -1;     // -1 when none was given

  Bootstrap bootstrap() const { return to_bootstrap(config); }
};

// ---- the pipeline ------------------------------------------------------------

// Defined by tests/fuzz only: drives one stage's work in-process against a
// scripted peer (see "the stages" below).
struct StageHarness;

// The pipeline's policies, by name. An embedder derives and names only
// what changes:
//
//   struct MyPolicies : nsenter::RuncPolicies { using Joiner = MyJoiner; };
//   using MyNsexec = nsenter::Nsexec<MyPolicies>;
//
// Policy objects with state are passed to Nsexec's constructor.
struct RuncPolicies {
  using Env = RuncEnv;  // every variable name the pipeline reads or writes
  using Reader = InitPipeReader<Env>;
  using Protection = RuncSelfProtection<Env>;
  using Logger = RuncLogger;
  using Joiner = SetnsJoiner;
  using MapWriter = RuncIdMapWriter;
  using Clone = CloneParent;
  using Sys = LinuxSys;
  using Names = RuncStageNames;
  static constexpr wire::Profile profile = wire::Profile::Runc11;
};

// runc >= 1.2's attributes: time-namespace offsets in attribute 27290
// instead of mount sources.
struct Runc12Policies : RuncPolicies {
  static constexpr wire::Profile profile = wire::Profile::Runc12;
};

template <class Policies = RuncPolicies>
class Nsexec {
  friend struct StageHarness;

 public:
  using Env = typename Policies::Env;
  using Reader = typename Policies::Reader;
  using Protection = typename Policies::Protection;
  using Logger = typename Policies::Logger;
  using Joiner = typename Policies::Joiner;
  using MapWriter = typename Policies::MapWriter;
  using Clone = typename Policies::Clone;
  using SysCalls = typename Policies::Sys;
  using Names = typename Policies::Names;
  static constexpr wire::Profile kProfile = Policies::profile;

  // The reason first: GCC otherwise reports a constraint failure with the
  // cause a dozen lines down.
  static_assert(BootstrapReader<Reader>,
                "Policies::Reader needs is_init(), read_env(BootstrapSource&) and read(BootstrapSource&), each const "
                "noexcept, returning bool, Result<void>, Result<void> (concepts.hpp)");
  static_assert(LogSink<Logger>,
                "Policies::Logger needs configure(int, LogLevel) noexcept, and log(LogLevel, Stage, string_view) and "
                "fatal(const Error&), const noexcept (concepts.hpp)");
  static_assert(SelfProtection<Protection, Logger>,
                "Policies::Protection needs ensure_knowing(const Logger&, const StartPlan&, const BootstrapView&, "
                "span<const uint8_t>) const noexcept returning Result<void> (concepts.hpp)");
  static_assert(NamespaceJoiner<Joiner>,
                "Policies::Joiner needs join(span<const NsTarget>) const noexcept returning Result<void> (concepts.hpp)");
  static_assert(IdMapWriter<MapWriter>,
                "Policies::MapWriter needs write(const IdMapRequest&) const noexcept returning Result<void> "
                "(concepts.hpp)");
  static_assert(CloneStrategy<Clone>,
                "Policies::Clone needs spawn(Stage) const noexcept returning Result<pid_t> (concepts.hpp)");
  static_assert(Sys<SysCalls>,
                "Policies::Sys needs every call of concepts.hpp's Sys, each const noexcept returning an errno");
  static_assert(StageNames<Names>, "Policies::Names needs static parent, child and init names (concepts.hpp)");
  static_assert(OptionalMembersFit<Logger, Clone>,
                "an optional policy member has the wrong signature: Logger::enabled must be bool(LogLevel) const "
                "noexcept, Logger::set_clock void(const StartClock*) noexcept, Clone::spawn_into "
                "Result<pid_t>(Stage, NsSet) const noexcept (concepts.hpp)");

  Nsexec() = default;
  explicit Nsexec(Reader reader, Protection protection = {}, Logger logger = {}, Joiner joiner = {},
                  MapWriter writer = {}, Clone clone = {}, SysCalls sys = {})
      : reader_(std::move(reader)),
        protection_(protection),
        logger_(logger),
        joiner_(joiner),
        writer_(writer),
        clone_(clone),
        sys_(sys) {}

  // Whether this process is an init at all (the reader's cheap test: for
  // InitPipeReader, one getenv).
  bool is_init() const noexcept { return reader_.is_init(); }

  // Returns nullopt at once when the reader says this is no init (for
  // InitPipeReader: one getenv). In an init, returns only in stage 2;
  // stages 0 and 1 end in _exit, and every error ends in a fatal log record
  // and _exit(1).
  std::optional<InitContext> run() noexcept {
    if (!reader_.is_init()) return std::nullopt;
    BootstrapSource source;
    auto env = reader_.read_env(source);
    if (source.log_pipe >= 0) logger_.configure(source.log_pipe, source.log_level);
    if (!env) die(env.error());
    if (debug_enabled()) start_timing(source.spawned_ns, monotonic_ns());
    // runc's own records, which runc's tests and tools look for.
    logger_.log(LogLevel::Debug, Stage::Setup, "=> nsexec container setup");
    debug(Stage::Setup, "protocol {}: {}", wire::profile_name(source.profile.value_or(kProfile)),
          source.profile ? source.profile_reason : "no _LIBCONTAINER_SYNCPIPE (runc 1.1), the pipeline's own profile");
    clock_.mark(StartStep::Protected);
    if (auto r = read_message(source); !r) die(r.error());
    clock_.mark(StartStep::MessageRead);
    if (source.profile.value_or(kProfile) == wire::Profile::Runc12) log_affinity();
    InitContext ctx;
    ctx.init_pipe = source.init_pipe;
    ctx.log_pipe = source.log_pipe;
    ctx.message = std::move(source.message);
    Plan plan;
    if (auto r = setup(ctx, source, plan); !r) die(r.error());
    clock_.mark(StartStep::Planned);
    switch (plan.start.topology) {
      case Topology::Direct: run_direct(plan, ctx.init_pipe); break;
      case Topology::OneClone: run_one_clone(plan, ctx.init_pipe); break;
      case Topology::ThreeStages: run_three_stages(plan, ctx.init_pipe); break;
    }
    return ctx;  // in stage 2 only: the others _exit
  }

 private:
  // ---- the three topologies (start_plan.hpp) -------------------------------------
  // Each returns only in stage 2.

  // The runtime made this process stage 2.
  void run_direct(const Plan& plan, int init_pipe) noexcept { stage_init_direct(plan, init_pipe); }

  // Stage 0 makes stage 1's joins itself, then clones stage 2 into every
  // new namespace (start_plan.hpp says why stage 0 may).
  void run_one_clone(const Plan& plan, int init_pipe) noexcept {
    if constexpr (CloneIntoNamespaces<Clone>) {
      int grandchild_pair[2];
      if (int err = sys_.socketpair(grandchild_pair)) die(stage_error(Op::Socketpair, err, "stage 2", Stage::Setup));
      UniqueFd grandchild_parent_end(grandchild_pair[0]), grandchild_end(grandchild_pair[1]);
      enter_stage0();
      if (auto r = make_joins(plan, Stage::Parent); !r) die(r.error());
      NsSet created = plan.create;
      created.erase(NsKind::cgroup);  // by stage 2, as in the three stages
      auto stage2 = clone_.spawn_into(Stage::Parent, created);
      if (!stage2) die(stage2.error());
      if (*stage2 == 0) {
        grandchild_parent_end.reset();
        stage_init(plan, grandchild_end.get());
        return;
      }
      grandchild_end.reset();
      stage_parent_one_clone(plan, init_pipe, *stage2, grandchild_parent_end.get());
    } else {
      // accept_start never lets a policy without spawn_into get here.
      die(make_error(Op::PlanBootstrap, Code::BadEnv, kNoOffset, "one clone, but the clone policy has no spawn_into"));
    }
  }

  // runc's: stage 0 clones stage 1, which clones stage 2. Both sync
  // socketpairs exist before the first clone, so that stage 2 can inherit
  // its end through stage 1.
  void run_three_stages(const Plan& plan, int init_pipe) noexcept {
    int child_pair[2], grandchild_pair[2];
    if (int err = sys_.socketpair(child_pair)) die(stage_error(Op::Socketpair, err, "stage 1", Stage::Setup));
    if (int err = sys_.socketpair(grandchild_pair)) die(stage_error(Op::Socketpair, err, "stage 2", Stage::Setup));
    UniqueFd child_parent_end(child_pair[0]), child_end(child_pair[1]);
    UniqueFd grandchild_parent_end(grandchild_pair[0]), grandchild_end(grandchild_pair[1]);
    // Stage 1 puts mount-source fds on the numbers the runtime named; ours
    // go above them, so that none of those numbers is a sync socket.
    if (!plan.mount_fds.empty()) {
      const int highest = highest_mount_fd(plan.mount_fds);
      for (UniqueFd* fd : {&child_parent_end, &child_end, &grandchild_parent_end, &grandchild_end})
        if (auto r = lift_above(*fd, highest); !r) die(r.error());
    }
    enter_stage0();
    auto stage1 = clone_.spawn(Stage::Parent);
    if (!stage1) die(stage1.error());
    if (*stage1 == 0) {
      child_parent_end.reset();
      grandchild_parent_end.reset();
      stage_child(plan, child_end.get(), grandchild_end);  // returns only in stage 2
      child_end.reset();
      stage_init(plan, grandchild_end.get());
      return;
    }
    child_end.reset();
    grandchild_end.reset();
    stage_parent(plan, init_pipe, *stage1, child_parent_end.get(), grandchild_parent_end.get());
  }

  const char* init_name() const noexcept { return names_.given ? names_.init.data() : Names::init; }

  void enter_stage0() const noexcept {
    (void)sys_.set_name(names_.given ? names_.parent.data() : Names::parent);
    logger_.log(LogLevel::Debug, Stage::Parent, "~> nsexec stage-0");
  }

  // ---- timings (log level debug only) -------------------------------------------
  bool debug_enabled() const noexcept {
    if constexpr (requires(const Logger& l) { { l.enabled(LogLevel::Debug) } -> std::same_as<bool>; })
      return logger_.enabled(LogLevel::Debug);
    else
      return false;
  }

  // Whether the logger says it drops debug records (one that cannot say is
  // given them all).
  bool drops_debug() const noexcept {
    if constexpr (requires(const Logger& l) { { l.enabled(LogLevel::Debug) } -> std::same_as<bool>; })
      return !logger_.enabled(LogLevel::Debug);
    else
      return false;
  }

  // A formatted debug record, on the stack; not formatted at all when the
  // logger drops debug records.
  template <class... Args>
  void debug(Stage stage, fmt::format_string<Args...> f, Args&&... args) const noexcept {
    if (drops_debug()) return;
    char text[256];
    const auto r = fmt::format_to_n(text, sizeof text, f, std::forward<Args>(args)...);
    logger_.log(LogLevel::Debug, stage, {text, std::min(r.size, sizeof text)});
  }

  // runc >= 1.3's record of the CPUs the init may run on, which its parent
  // set before it wrote the message (execCPUAffinity; runc's tests read
  // it): "affinity: 0x" and the mask in hex, CPU 0 the lowest bit.
  void log_affinity() const noexcept {
    if (drops_debug()) return;
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (::sched_getaffinity(0, sizeof cpus, &cpus) != 0) return debug(Stage::Setup, "affinity: unknown: {}", detail::errno_text(errno));
    int top = CPU_SETSIZE - 1;
    while (top > 0 && !CPU_ISSET(top, &cpus)) --top;
    char hex[CPU_SETSIZE / 4 + 1];
    std::size_t n = 0;
    for (int nibble = top / 4; nibble >= 0; --nibble) {
      unsigned digit = 0;
      for (int bit = 3; bit >= 0; --bit) digit = digit << 1 | (CPU_ISSET(nibble * 4 + bit, &cpus) ? 1u : 0u);
      hex[n++] = "0123456789abcdef"[digit];
    }
    debug(Stage::Setup, "affinity: 0x{}", std::string_view(hex, n));
  }

  // The stages' shared clock, from when the pipeline first began: before
  // self-protection's re-exec, which carries that time in the environment.
  void start_timing(std::uint64_t spawned, std::uint64_t began) noexcept {
    if (const std::uint64_t carried = env_ns(Env::began_ns)) {
      began = carried;
    } else {
      char text[24];
      const auto r = fmt::format_to_n(text, sizeof text - 1, "{}", began);
      *r.out = '\0';
      (void)::setenv(Env::began_ns, text, 1);  // before any clone: may allocate
    }
    clock_.enable(spawned, began);
    if constexpr (requires { logger_.set_clock(&clock_); }) logger_.set_clock(&clock_);
  }

  // By stage 0, or by stage 2 of a direct start (there is no stage 0).
  void log_breakdown(Stage stage = Stage::Parent) const noexcept {
    if (!clock_.enabled()) return;
    char text[256];
    const std::size_t n = format_breakdown(clock_.breakdown(), text, sizeof text);
    logger_.log(LogLevel::Debug, stage, {text, n});
  }

  // The message: the one our own re-exec carried, or the reader's.
  Result<void> read_message(BootstrapSource& source) const noexcept {
    auto carried = detail::take_carried_message<Env>(source.message);
    if (!carried) return carried.error();
    if (*carried) return {};
    return reader_.read(source);
  }

  // ---- setup: the original process, before any clone --------------------------
  // Decodes and plans the message the reader delivered.
  Result<void> setup(InitContext& ctx, const BootstrapSource& source, Plan& plan) noexcept {
    if (auto r = check_single_threaded(); !r) return r;
    names_ = source.stage_names;
    auto config = wire::decode_view(ctx.message, source.profile.value_or(kProfile));
    if (!config) return config.error();
    ctx.config = *config;
    if (auto r = make_plan<Env>(ctx.config, source, plan); !r) return r;
    if (auto r = accept(plan); !r) return r;
    if (plan.direct()) return check_direct_start(plan);
    // Nothing has changed this process yet: a re-exec starts it afresh.
    // The runtime's view is ours to close, whatever the policy did with it.
    {
      const UniqueFd view(plan.start.guard == BinaryGuard::MoveOntoView ? plan.start.view_fd : -1);
      if (auto r = protection_.ensure_knowing(logger_, plan.start, ctx.config, ctx.message); !r) return r;
    }
    if (plan.start.guard == BinaryGuard::Unwritable)
      if (auto r = check_exe_unwritable(plan); !r) return r;
    if (plan.start.guard == BinaryGuard::Unreachable)
      if (auto r = check_exe_unreachable(plan); !r) return r;
    // Stage 0 dies with the runtime; and if the runtime is already gone,
    // nobody would reap or supervise what we start.
    if (plan.parent_death.signal != 0) {
      if (int err = sys_.set_parent_death_signal(plan.parent_death.signal))
        return make_sys_error(Op::ParentDeathSignal, err, detail::detail_text("signal {}", plan.parent_death.signal));
      if (auto r = check_parent(plan); !r) return r;
    }
    if (plan.config.oom_score_adj) {
      // Before anything drops privileges or dumpability: a process may
      // always raise its own oom_score_adj while it is still dumpable.
      char text[16];
      const auto r = fmt::format_to_n(text, sizeof text, "{}", *plan.config.oom_score_adj);
      if (int err = sys_.write_file("/proc/self/oom_score_adj", {text, r.size}))
        return make_sys_error(Op::OomScoreAdj, err, {text, r.size});
    }
    // Joining foreign namespaces: non-dumpable, so processes already in them
    // cannot ptrace us or read our /proc files (runc does the same).
    if (plan.joins())
      if (int err = sys_.set_dumpable(false)) return make_sys_error(Op::SetDumpable, err, "0");
    return {};
  }

  // The runtime's plan, accepted against the message (accept_start), and
  // its one record: the plan, and why it is not the one asked for where it
  // is not.
  Result<void> accept(Plan& plan) const noexcept {
    std::string_view why;
    const StartPlan asked = plan.start;
    auto accepted = accept_start(asked, plan.config, CloneIntoNamespaces<Clone>, Env::start, why);
    if (!accepted) return accepted.error();
    plan.start = *accepted;
    if (why.empty())
      debug(Stage::Setup, "start: {}{}", format_start(plan.start).view(),
            asked.is_runcs() ? " (runc's; the runtime named none)" : "");
    else
      debug(Stage::Setup, "start: {} (asked for {}, but {})", format_start(plan.start).view(), format_start(asked).view(),
            why);
    return {};
  }

  // "_NSENTER_START=...", for the claims' refusals.
  static detail::DetailText claim(const Plan& plan, std::string_view why) noexcept {
    return detail::detail_text("{}={}, but {}", Env::start, format_start(plan.start).view(), why);
  }

  // A runtime's claim that the container cannot write our binary, on which
  // self-protection skipped its copy: checked against what we will create
  // and the binary itself, before anything is created.
  static Result<void> check_exe_unwritable(const Plan& plan) noexcept {
    struct stat exe {};
    if (::stat("/proc/self/exe", &exe) != 0) return make_sys_error(Op::SelfProtect, errno, "stat /proc/self/exe");
    if (const std::string_view why = why_container_could_write(plan.config, exe); !why.empty())
      return make_error(Op::SelfProtect, Code::NotProtected, kNoOffset,
                        claim(plan, detail::detail_text("the container could write the binary: {}", why)));
    return {};
  }

  // A runtime's claim that it forked us non-dumpable for a container that
  // cannot reach a non-dumpable process of ours: checked the same way.
  // Nothing later makes us dumpable again: only joins do, and the claim
  // excludes them.
  static Result<void> check_exe_unreachable(const Plan& plan) noexcept {
    if (const std::string_view why = why_container_could_reach_init(plan.config); !why.empty())
      return make_error(Op::SelfProtect, Code::NotProtected, kNoOffset,
                        claim(plan, detail::detail_text("the container could reach us: {}", why)));
    if (const int dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); dumpable != 0)
      return make_error(Op::SelfProtect, Code::NotProtected, kNoOffset,
                        claim(plan, detail::detail_text("this process is dumpable ({})", dumpable)));
    return {};
  }

  // The direct start's claim, checked before anything relies on it: a
  // container it cannot serve, or a process that was not born in the new
  // namespaces its message names (a runtime that sent a direct plan and
  // forked it plainly would otherwise have it run in the runtime's own).
  // Self-protection cannot happen here: a re-exec would start a second
  // pipeline in namespaces this one is already in, and from inside them
  // stat(2) shows the binary's owner as seen there, not as the runtime
  // sees it. So the binary must be protected already (a sealed memfd: an
  // InitPool's template) or the runtime must have said why it needs no
  // protection, which is checked as far as it can be from here (the
  // unwritable claim once we are the container's root, stage_init_direct).
  Result<void> check_direct_start(const Plan& plan) const noexcept {
    auto refuse = [&plan](std::string_view why) {
      return make_error(Op::PlanBootstrap, Code::BadEnv, kNoOffset, claim(plan, why));
    };
    if (plan.start.guard == BinaryGuard::Unreachable) {
      if (auto r = check_exe_unreachable(plan); !r) return r;
      logger_.log(LogLevel::Debug, Stage::Setup,
                  "no re-exec: the runtime forked us non-dumpable, out of the container's reach (0 bytes copied; checked)");
    } else if (plan.start.guard == BinaryGuard::Unwritable) {
      logger_.log(LogLevel::Debug, Stage::Setup,
                  "no re-exec: the runtime says the container cannot write /proc/self/exe (0 bytes copied; checked as "
                  "the container's root)");
    } else if (exe_is_sealed_memfd()) {
      logger_.log(LogLevel::Debug, Stage::Setup, "no re-exec: /proc/self/exe is a sealed memfd (0 bytes copied)");
    } else {
      return refuse("the binary is neither a sealed memfd nor said to need no protection");
    }
    if (plan.parent_death.signal != 0) return refuse("a parent-death signal needs stage 0 to check it was armed in time");
    if (plan.create.contains(NsKind::pid) && ::getpid() != 1) return refuse("this process is not pid 1 of a new pid namespace");
    if (plan.create.contains(NsKind::user)) {
      // The initial user namespace maps every id to itself; a new one
      // maps only what its runtime wrote before sending the message.
      char map[64] = {};
      UniqueFd fd(::open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC));
      const ssize_t n = fd ? ::read(fd.get(), map, sizeof map - 1) : -1;
      if (n < 0) return make_sys_error(Op::PlanBootstrap, errno, "/proc/self/uid_map");
      if (std::string_view(map, static_cast<std::size_t>(n)).find("4294967295") != std::string_view::npos)
        return refuse("this process is in the initial user namespace");
      if (const std::string_view why = why_not_in_a_user_namespace_of_its_own(); !why.empty()) return refuse(why);
    }
    return {};
  }

  // Why this process is not in a user namespace other than its runtime's
  // (the runtime may itself run in one: rootless Podman, a CI sandbox), or
  // empty. The runtime is our parent as /proc sees it (/proc/self/stat's
  // ppid is counted in the pid namespace of the /proc mount, which a direct
  // start has not replaced yet: getppid() is 0 in a new pid namespace).
  // Its namespace link opens for a process of the same user namespace that
  // holds every capability (as root of it we would); from a new one the
  // kernel refuses it (ptrace access needs CAP_SYS_PTRACE where the
  // runtime lives), so a refusal while we hold every capability says we
  // are elsewhere.
  static std::string_view why_not_in_a_user_namespace_of_its_own() noexcept {
    constexpr int kPpid[] = {4};
    unsigned long long ppid[1] = {};
    if (!detail::read_self_stat(kPpid, ppid) || ppid[0] == 0)
      return "its runtime is not in sight in /proc (no parent there) to tell its user namespace from ours";
    struct stat ours {}, theirs {};
    char path[48];
    *fmt::format_to_n(path, sizeof path - 1, "/proc/{}/ns/user", ppid[0]).out = '\0';
    if (::stat("/proc/self/ns/user", &ours) != 0) return "/proc/self/ns/user cannot be read";
    if (::stat(path, &theirs) == 0)
      return theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev ? "this process is in its runtime's user namespace"
                                                                          : std::string_view();
    if (errno != EACCES && errno != EPERM) return "its runtime's /proc/PID/ns/user cannot be read";
    if (!detail::holds_every_capability())
      return "its runtime's user namespace is hidden from it, and without every capability that does not prove it is another";
    return {};
  }

  // user_namespaces(7): setns/unshare of a user namespace fails with EINVAL
  // in a multithreaded process. Say so clearly instead.
  static Result<void> check_single_threaded() noexcept {
    const unsigned long threads = detail::thread_count();  // 0: no /proc; the later steps report their own errors
    if (threads > 1) return make_error(Op::CheckThreads, Code::MultiThreaded, kNoOffset, detail::detail_text("{}", threads));
    return {};
  }

  // ---- the stages --------------------------------------------------------------
  // Each stage's work returns its error instead of dying, so that one place
  // (the [[noreturn]] wrappers and run()) turns an error into the fatal
  // record, the kill of what the stage spawned and _exit(1); and so that
  // StageHarness (tests/fuzz) can drive one stage against a scripted peer.

  // Stage 0: the original process, the runtime's child. Privileges: the
  // caller's. Owns both parent ends of the sync sockets. Kills what it
  // spawned on any error.
  [[noreturn]] void stage_parent(const Plan& plan, int init_pipe, pid_t stage1, int child_fd,
                                 int grandchild_fd) noexcept {
    if (auto r = serve_stage1(plan, init_pipe, stage1, child_fd); !r) die(r.error());
    if (auto r = release_stage2(plan, grandchild_fd); !r) die(r.error());
    log_breakdown();
    logger_.log(LogLevel::Debug, Stage::Parent, "<~ nsexec stage-0");
    ::_exit(0);
  }

  // Stage 0 of the one-clone plan: stage 2 is its clone, already in every
  // new namespace; stage 0 writes its maps and reports it twice in the pid
  // line, there being no stage 1, then releases it.
  [[noreturn]] void stage_parent_one_clone(const Plan& plan, int init_pipe, pid_t stage2, int grandchild_fd) noexcept {
    if (auto r = serve_one_clone(plan, init_pipe, stage2); !r) die(r.error());
    if (auto r = release_stage2(plan, grandchild_fd); !r) die(r.error());
    log_breakdown();
    logger_.log(LogLevel::Debug, Stage::Parent, "<~ nsexec stage-0");
    ::_exit(0);
  }

  Result<void> serve_one_clone(const Plan& plan, int init_pipe, pid_t stage2) noexcept {
    kill_on_error_[1] = stage2;
    debug(Stage::Parent, "one clone: stage-2 ({}) made in the new namespaces", stage2);
    if (plan.create.contains(NsKind::user))
      if (auto r = write_maps(plan, init_pipe, stage2); !r) return r;
    clock_.mark(StartStep::Unshared);
    return send_pid_line(init_pipe, stage2, stage2);
  }

  // The id maps of the new user namespace `pid` is in; a helper that
  // writes them is given up on if the runtime dies meanwhile.
  Result<void> write_maps(const Plan& plan, int init_pipe, pid_t pid) noexcept {
    clock_.mark(StartStep::MapsAsked);
    if (auto r = write_user_namespace_maps(pid, plan.config, writer_, sys_, RuntimeWatch{init_pipe, plan.runtime}); !r)
      return r;
    clock_.mark(StartStep::MapsWritten);
    return {};
  }

  Result<void> send_pid_line(int init_pipe, pid_t stage1, pid_t stage2) noexcept {
    const PidLine line = format_pid_line(stage1, stage2);
    if (init_pipe >= 0)
      if (auto r = detail::write_exact(init_pipe, line.data, line.size, Stage::Parent, Op::WritePidLine, sys_); !r) return r;
    debug(Stage::Parent, "forward stage-1 ({}) and stage-2 ({}) pids to runc", stage1, stage2);
    return {};
  }

  // Stage 0 serves stage 1 (map writes, pids, time offsets, mount sources)
  // until its CHILD_FINISH.
  Result<void> serve_stage1(const Plan& plan, int init_pipe, pid_t stage1, int child_fd) noexcept {
    kill_on_error_[0] = stage1;
    const SyncChannel child(child_fd, Stage::Parent, sys_);
    for (;;) {
      auto msg = child.receive();
      if (!msg) return msg.error();
      switch (static_cast<SyncMsg>(*msg)) {
        case SyncMsg::UsermapPls: {
          logger_.log(LogLevel::Debug, Stage::Parent, "stage-1 requested userns mappings");
          if (auto r = write_maps(plan, init_pipe, stage1); !r) return r;
          if (auto r = child.send(SyncMsg::UsermapAck); !r) return r;
          break;
        }
        case SyncMsg::RecvpidPls: {
          auto stage2 = child.receive_pid();
          if (!stage2) return stage2.error();
          kill_on_error_[1] = *stage2;
          if (auto r = child.send(SyncMsg::RecvpidAck); !r) return r;
          if (auto r = send_pid_line(init_pipe, stage1, *stage2); !r) return r;
          break;
        }
        case SyncMsg::TimeoffsetsPls: {
          logger_.log(LogLevel::Debug, Stage::Parent, "stage-1 requested timens offsets");
          const std::string_view text = plan.config.time_offsets.text;
          const detail::ProcPath path(stage1, "timens_offsets");
          if (int err = sys_.write_file(path.data, text)) return stage_error(Op::WriteTimeOffsets, err, path.data, Stage::Parent);
          if (auto r = child.send(SyncMsg::TimeoffsetsAck); !r) return r;
          break;
        }
        case SyncMsg::MountsourcesPls: {
          if (!plan.config.mount_sources) return child.unexpected(SyncMsg::ChildFinish, *msg);
          logger_.log(LogLevel::Debug, Stage::Parent, "stage-1 requested mount sources");
          if (auto r = send_mount_sources(child_fd, stage1, *plan.config.mount_sources, sys_); !r) return r;
          if (auto r = child.send(SyncMsg::MountsourcesAck); !r) return r;
          break;
        }
        case SyncMsg::ChildFinish:
          logger_.log(LogLevel::Debug, Stage::Parent, "stage-1 complete");
          // Stage 1 exits now and the runtime may reap it at once: its pid
          // is no longer ours to kill.
          kill_on_error_[0] = -1;
          return {};
        default:
          return child.unexpected(SyncMsg::ChildFinish, *msg);
      }
    }
  }

  // Stage 0 releases stage 2 and waits for its CHILD_FINISH.
  Result<void> release_stage2(const Plan& plan, int grandchild_fd) noexcept {
    const SyncChannel grandchild(grandchild_fd, Stage::Parent, sys_);
    if (auto r = grandchild.send(SyncMsg::Grandchild); !r) return r;
    clock_.mark(StartStep::Released);
    if (auto r = grandchild.expect(SyncMsg::ChildFinish); !r) return r;
    clock_.mark(StartStep::Done);
    // Stage 2 armed its parent-death signal before it finished; a runtime
    // that died before that (we were reparented) sent it nothing. Stage 2
    // waits for our word: should we die first (our own parent-death
    // signal), it reads EOF instead and dies too.
    if (plan.parent_death.signal != 0) {
      if (auto r = check_parent(plan); !r) return in_stage(r.error(), Stage::Parent);
      if (auto r = grandchild.send(SyncMsg::RuntimeAlive); !r) return r;
    }
    return {};
  }

  // Stage 1: clone of stage 0, child of the runtime. Returns only in
  // stage 2; exits after reporting stage 2's pid.
  void stage_child(const Plan& plan, int sync_fd, UniqueFd& grandchild_end) noexcept {
    auto stage2 = enter_namespaces(plan, sync_fd);
    if (!stage2) die(stage2.error());
    if (*stage2 == 0) return;  // stage 2
    grandchild_end.reset();
    if (auto r = report_stage2(sync_fd, *stage2); !r) die(r.error());
    logger_.log(LogLevel::Debug, Stage::Child, "<~ nsexec stage-1");
    ::_exit(0);
  }

  // Stage 1 joins the given namespaces, creates the user namespace alone
  // first (its maps are written from outside by stage 0), then the rest but
  // the cgroup namespace, then clones stage 2 (a new pid namespace is
  // entered only by a new process). Returns the clone's result: 0 in stage 2.
  Result<pid_t> enter_namespaces(const Plan& plan, int sync_fd) noexcept {
    (void)sys_.set_name(names_.given ? names_.child.data() : Names::child);
    logger_.log(LogLevel::Debug, Stage::Child, "~> nsexec stage-1");
    const SyncChannel parent(sync_fd, Stage::Child, sys_);
    if (auto r = make_joins(plan, Stage::Child); !r) return r.error();
    NsSet rest = plan.create;
    if (rest.contains(NsKind::user)) {
      // Alone first: the remaining namespaces are then created owned by the
      // new user namespace, where we will be root.
      if (int err = sys_.unshare(CLONE_NEWUSER)) return stage_error(Op::Unshare, err, "user", Stage::Child);
      rest.erase(NsKind::user);
      // Stage 0 writes our maps through /proc/PID, which needs us dumpable
      // if setup made us non-dumpable for joining.
      if (plan.joins())
        if (int err = sys_.set_dumpable(true)) return stage_error(Op::SetDumpable, err, "1", Stage::Child);
      if (auto r = parent.send(SyncMsg::UsermapPls); !r) return r.error();
      if (auto r = parent.expect(SyncMsg::UsermapAck); !r) return r.error();
      if (plan.joins())
        if (int err = sys_.set_dumpable(false)) return stage_error(Op::SetDumpable, err, "0", Stage::Child);
      if (int err = sys_.setresuid_to(plan.inside_uid))
        return stage_error(Op::Setresuid, err, id_text("uid", plan.inside_uid).data, Stage::Child);
    }
    // The cgroup namespace is created last, by stage 2, so that its root is
    // the cgroup the runtime has placed the init in by then.
    rest.erase(NsKind::cgroup);
    if (!rest.empty())
      if (auto r = unshare_retrying(rest.clone_flags()); !r) return r.error();
    // A new time namespace takes effect for our children: its clocks must
    // be set now, before stage 2, its first process, enters it. Stage 0
    // writes them: our setresuid made us non-dumpable, so our own /proc
    // files now belong to root and we could not open timens_offsets.
    if (!plan.config.time_offsets.empty()) {
      if (auto r = parent.send(SyncMsg::TimeoffsetsPls); !r) return r.error();
      if (auto r = parent.expect(SyncMsg::TimeoffsetsAck); !r) return r.error();
    }
    // Bind-mount sources are opened by stage 0 (host privileges) inside our
    // new mount namespace and land on the fd numbers the runtime chose.
    if (plan.config.mount_sources) {
      if (auto r = parent.send(SyncMsg::MountsourcesPls); !r) return r.error();
      if (auto r = receive_mount_sources(sync_fd, plan.mount_fds, sys_); !r) return r.error();
      if (auto r = parent.expect(SyncMsg::MountsourcesAck); !r) return r.error();
    }
    clock_.mark(StartStep::Unshared);
    auto stage2 = clone_.spawn(Stage::Child);
    if (stage2 && *stage2 > 0) kill_on_error_[0] = *stage2;
    return stage2;
  }

  // Root of a user namespace just joined, before any namespace is created:
  // what is created next (a new IPC namespace's mqueue, say) is then owned
  // by the namespace's root rather than by the id our host id maps to
  // there, often none (runc 1.2.1 does the same, runc issue 4466). Under
  // runc 1.1 too: its parent never sees the ids stages 0 and 1 hold, and
  // stage 2 becomes 0 in that namespace anyway, so a namespace without a 0
  // fails the same start, only earlier.
  // The joins, by stage 1 or, in one clone, by stage 0; then root of a
  // joined user namespace before anything is created in it.
  Result<void> make_joins(const Plan& plan, Stage stage) noexcept {
    if (plan.joins())
      if (auto r = joiner_.join(plan.join()); !r) return in_stage(r.error(), stage);
    if (auto r = become_root_of_joined_user_namespace(plan, stage); !r) return r;
    clock_.mark(StartStep::Joined);
    return {};
  }

  Result<void> become_root_of_joined_user_namespace(const Plan& plan, Stage stage) noexcept {
    if (!plan.joins_user()) return {};
    // setgid(2) sets all three ids with CAP_SETGID, which setns(2) gave us
    // in the namespace.
    if (int err = sys_.setgid_to(0)) return stage_error(Op::Setgid, err, "gid 0 of the joined user namespace", stage);
    if (int err = sys_.setresuid_to(0))
      return stage_error(Op::Setresuid, err, "uid 0 of the joined user namespace", stage);
    return {};
  }

  // Stage 1 hands stage 2's pid to stage 0, which forwards it to the runtime.
  Result<void> report_stage2(int sync_fd, pid_t stage2) noexcept {
    const SyncChannel parent(sync_fd, Stage::Child, sys_);
    if (auto r = parent.send(SyncMsg::RecvpidPls); !r) return r;
    if (auto r = parent.send_pid(stage2); !r) return r;
    if (auto r = parent.expect(SyncMsg::RecvpidAck); !r) return r;
    return parent.send(SyncMsg::ChildFinish);
  }

  // unshare(2) can fail with EINVAL on older kernels racing a concurrent
  // exit in the same namespace; runc retries a few times.
  Result<void> unshare_retrying(std::uint32_t flags) noexcept {
    for (int attempt = 0;; ++attempt) {
      const int err = sys_.unshare(static_cast<int>(flags));
      if (err == 0) return {};
      if (err != EINVAL || attempt == 4) {
        return stage_error(Op::Unshare, err, detail::detail_text("flags {:#x}", flags), Stage::Child);
      }
    }
  }

  // Stage 2: clone of stage 1, child of the runtime, the container init.
  // Waits for stage 0's go, becomes session leader and root of its
  // namespaces, creates the cgroup namespace, reports and returns.
  void stage_init(const Plan& plan, int sync_fd) noexcept {
    if (auto r = become_init(plan, sync_fd); !r) die(r.error());
    logger_.log(LogLevel::Debug, Stage::Init, "<= nsexec stage-2");
    logger_.log(LogLevel::Debug, Stage::Init, "<= nsexec container setup");
  }

  Result<void> become_init(const Plan& plan, int sync_fd) noexcept {
    (void)sys_.set_name(init_name());
    kill_on_error_ = {-1, -1};
    logger_.log(LogLevel::Debug, Stage::Init, "~> nsexec stage-2");
    const SyncChannel parent(sync_fd, Stage::Init, sys_);
    if (auto r = parent.expect(SyncMsg::Grandchild); !r) return r;
    if (auto r = become_root_of_namespaces(plan); !r) return r;
    // After the id changes above, which would clear it (prctl(2)); before
    // CHILD_FINISH, after which stage 0 checks that the runtime is alive.
    if (plan.parent_death.signal != 0)
      if (int err = sys_.set_parent_death_signal(plan.parent_death.signal))
        return stage_error(Op::ParentDeathSignal, err, detail::detail_text("signal {}", plan.parent_death.signal), Stage::Init);
    if (auto r = parent.send(SyncMsg::ChildFinish); !r) return r;
    if (plan.parent_death.signal != 0)
      if (auto r = parent.expect(SyncMsg::RuntimeAlive); !r) return r;
    return {};
  }

  // Stage 2 of the direct start: the runtime's clone, born in its
  // namespaces, its maps written before the message came. Becomes their
  // root and tells the runtime it is ready with a second NUL byte.
  void stage_init_direct(const Plan& plan, int init_pipe) noexcept {
    (void)sys_.set_name(init_name());
    logger_.log(LogLevel::Debug, Stage::Init, "~> nsexec stage-2, started directly by the runtime");
    clock_.mark(StartStep::Joined);  // nothing to join or create: the runtime's clone did
    clock_.mark(StartStep::Unshared);
    if (auto r = become_root_of_namespaces(plan); !r) die(r.error());
    if (plan.start.guard == BinaryGuard::Unwritable)
      if (auto r = check_exe_unwritable_as_container(plan); !r) die(r.error());
    clock_.mark(StartStep::Done);
    log_breakdown(Stage::Init);
    if (auto r = detail::write_exact(init_pipe, "", 1, Stage::Init, Op::Handshake, sys_); !r) die(r.error());
    logger_.log(LogLevel::Debug, Stage::Init, "<= nsexec stage-2");
    logger_.log(LogLevel::Debug, Stage::Init, "<= nsexec container setup");
  }

  // The runtime's word that the container cannot write our binary, asked
  // of the kernel as the container's root (which we now are, with its ids,
  // groups and capabilities): may it open the binary for writing?
  static Result<void> check_exe_unwritable_as_container(const Plan& plan) noexcept {
    if (::faccessat(AT_FDCWD, "/proc/self/exe", W_OK, AT_EACCESS) == 0)
      return make_error(Op::SelfProtect, Code::NotProtected, kNoOffset,
                        claim(plan, "the container could write the binary: its root may open it for writing"));
    return {};
  }

  // Session leader, root (or the caller's id) of the new user namespace,
  // and the cgroup namespace made last.
  Result<void> become_root_of_namespaces(const Plan& plan) noexcept {
    if (int err = sys_.setsid()) return stage_error(Op::Setsid, err, {}, Stage::Init);
    if (int err = sys_.setuid_to(plan.inside_uid))
      return stage_error(Op::Setuid, err, id_text("uid", plan.inside_uid).data, Stage::Init);
    if (int err = sys_.setgid_to(plan.inside_gid))
      return stage_error(Op::Setgid, err, id_text("gid", plan.inside_gid).data, Stage::Init);
    if (!plan.rootless() && plan.setgroups())
      if (int err = sys_.clear_groups()) return stage_error(Op::Setgroups, err, {}, Stage::Init);
    if (plan.create.contains(NsKind::cgroup))
      if (int err = sys_.unshare(CLONE_NEWCGROUP)) return stage_error(Op::Unshare, err, "cgroup", Stage::Init);
    return {};
  }

  // ---- helpers -------------------------------------------------------------
  static Error stage_error(Op op, int err, std::string_view what, Stage stage) noexcept {
    return in_stage(make_sys_error(op, err, what), stage);
  }

  Result<void> check_parent(const Plan& plan) const noexcept {
    if (sys_.parent_pid() == plan.parent_death.parent) return {};
    return make_error(Op::ParentDeathSignal, Code::ParentGone, kNoOffset,
                      detail::detail_text("pid {}", plan.parent_death.parent));
  }

  // `fd` moved to a number above `floor`, if it is not there already.
  static Result<void> lift_above(UniqueFd& fd, int floor) noexcept {
    if (fd.get() > floor) return {};
    UniqueFd lifted(::fcntl(fd.get(), F_DUPFD_CLOEXEC, floor + 1));
    if (!lifted) return stage_error(Op::MoveFd, errno, detail::detail_text("sync socket {} above mount-source fd {}", fd.get(), floor), Stage::Setup);
    fd = std::move(lifted);
    return {};
  }

  // Logs the error as a fatal record, kills what this process spawned (they
  // would otherwise wait for a peer that is gone), and exits 1 without
  // running the embedder's atexit handlers or static destructors.
  [[noreturn]] void die(const Error& e) noexcept {
    logger_.fatal(e);
    for (pid_t pid : kill_on_error_)
      if (pid > 0) (void)sys_.kill(pid);
    ::_exit(1);
  }

  [[no_unique_address]] Reader reader_{};
  [[no_unique_address]] Protection protection_{};
  [[no_unique_address]] Logger logger_{};
  [[no_unique_address]] Joiner joiner_{};
  [[no_unique_address]] MapWriter writer_{};
  [[no_unique_address]] Clone clone_{};
  [[no_unique_address]] SysCalls sys_{};
  std::array<pid_t, 2> kill_on_error_{-1, -1};
  StartClock clock_;      // enabled at log level debug only
  StageNameTexts names_;  // the runtime's names for the stages, if it gave any (else Names)
};

// The common case in one line: runc 1.1's protocol, names and behaviour.
using RuncCompatNsexec = Nsexec<>;

// The same, speaking runc >= 1.2's attributes.
using Runc12Nsexec = Nsexec<Runc12Policies>;

NSENTER_END_NAMESPACE
