// SPDX-License-Identifier: Apache-2.0
// nsenter: wiring a pipeline into the embedding program's constructor.
//
// The library never defines a constructor itself; the program does, in one
// translation unit, with this macro:
//
//   void on_init(nsenter::InitContext& ctx, int argc, char** argv) { ... }
//   NSENTER_INIT_CONSTRUCTOR(my_nsexec, 200, nsenter::RuncCompatNsexec, on_init)
//
// In a process that is not an init the constructor costs two getenvs. In an
// init it runs the stages before main(), and `on_init` runs in stage 2 with
// the context; if it returns, the program continues into main() as the
// container's init (as runc's Go code does after nsexec).
//
// Priority: 101..65535, lower runs earlier; 0..100 are reserved. Run before
// any constructor that starts a thread, since the stages need a single
// thread (user namespaces refuse multithreaded callers).
//
// A one-shot launcher in the same program can skip the exec of its own
// binary where no protection is needed: NSENTER_INIT_ENTRY below gives the
// function that LauncherConfig::in_process_init calls in a fork.
//
// Bazel: if the constructor lives in a cc_library rather than in the
// binary's own sources, give that library `alwayslink = True`; nothing
// references the constructor, so the linker would otherwise drop it.
#pragma once

#include <unistd.h>

#include "nsenter/nsexec.hpp"
#include "nsenter/pool_template.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail {

// What every wiring below does in a process: nothing unless it is an init
// (one getenv); else `before_pipeline`, the stages, and `on_init` in stage 2.
template <class Pipeline, class Before, class OnInit>
void enter_if_init(int argc, char** argv, Before before_pipeline, OnInit on_init) {
  Pipeline pipeline;
  if (!pipeline.is_init()) return;
  before_pipeline(argc, argv);
  if (auto ctx = pipeline.run()) on_init(*ctx, argc, argv);
}

inline void nothing_before_pipeline(int, char**) {}

[[noreturn]] inline void pool_init_returned() noexcept {
  constexpr std::string_view said =
      "nsenter: an init from the pool has no main() to continue into: on_init returned, or this was no init\n";
  (void)write_all_no_sigpipe(STDERR_FILENO, said.data(), said.size());
  ::_exit(127);
}

}  // namespace detail

// The `before_pipeline` of NSENTER_INIT_ENTRY for a program that needs none.
using detail::nothing_before_pipeline;

NSENTER_END_NAMESPACE

#define NSENTER_INIT_CONSTRUCTOR(name, priority, Pipeline, on_init) \
  NSENTER_INIT_CONSTRUCTOR_AFTER(name, priority, Pipeline, ::nsenter::detail::nothing_before_pipeline, on_init)

// The same, calling `before_pipeline(argc, argv)` first, in an init only
// (a process that is not one pays only the getenvs): for what must happen
// before any stage exists, such as blocking signals that stage 2, pid 1 of
// a new pid namespace from birth, would otherwise drop (nsrun does).
//
// Either also makes the binary an InitPool template (init_pool.hpp) when
// started as one: a second getenv in a process that is neither. An init
// forked from the template has no main() to continue into, so there
// `on_init` must not return (it execs the command); if it does, the
// process says so and exits 127.
#define NSENTER_INIT_CONSTRUCTOR_AFTER(name, priority, Pipeline, before_pipeline, on_init)           \
  [[noreturn]] static void name##_from_pool(int argc, char** argv) {                                \
    ::nsenter::detail::enter_if_init<Pipeline>(argc, argv, before_pipeline, on_init);               \
    ::nsenter::detail::pool_init_returned();                                                        \
  }                                                                                                 \
  __attribute__((constructor(priority))) static void name(int argc, char** argv, char**) {          \
    ::nsenter::detail::pool::serve_if_template(name##_from_pool);                                   \
    ::nsenter::detail::enter_if_init<Pipeline>(argc, argv, before_pipeline, on_init);               \
  }

// Defines `void name(int argc, char** argv)`, for
// LauncherConfig::in_process_init: the same work for an init the Launcher
// forks from this program instead of exec'ing it. There is no main() to
// continue into, so `on_init` must not return (it execs the command); if
// it does, or the process is not an init, the process exits 127.
#define NSENTER_INIT_ENTRY(name, Pipeline, before_pipeline, on_init)                \
  [[noreturn]] void name(int argc, char** argv) {                                  \
    ::nsenter::detail::enter_if_init<Pipeline>(argc, argv, before_pipeline, on_init); \
    ::_exit(127);                                                                   \
  }
