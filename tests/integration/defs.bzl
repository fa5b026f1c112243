# SPDX-License-Identifier: Apache-2.0
"""The root integration tests' one rule."""

def nsenter_root_test(name, srcs, data = [], defines = [], deps = [], size = "small", doctest = ["//tests/support:doctest_main_lib", "@system//:doctest"]):
    """A test that needs the host's real root: namespaces, cgroups, host ids.

    no-sandbox: it maps arbitrary host ids (100000..), drops to the host's
    nobody user and joins other processes' /proc/PID/ns files, which needs
    the host's real root rather than Bazel's sandbox. exclusive: it changes
    and checks what the host shares (mounts, pids), so it runs alone. It
    fails, never skips, without root (tests/support/root.hpp). `doctest`:
    the doctest library and the main() the test gets; by default the
    test's own main() (a child subreaper, say).
    """
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs,
        data = data,
        includes = ["."],
        local_defines = defines,
        tags = [
            "no-sandbox",
            "exclusive",
            "root",
        ],
        deps = deps + doctest,
    )
