// SPDX-License-Identifier: Apache-2.0
/* The reference side of bench/wire_bench.cc: runc 1.1's own message reader. */
#pragma once
#ifdef __cplusplus
extern "C" {
#endif
/* Reads and parses one bootstrap message from fd with runc's nl_parse(), then
 * frees it. Returns a value derived from the config so the work is not elided. */
unsigned runc_ref_nl_parse(int fd);
#ifdef __cplusplus
}
#endif
