// SPDX-License-Identifier: Apache-2.0
/* Exposes runc 1.1's static nl_parse() to the benchmark. Includes the C file
 * that Debian's golang-github-opencontainers-runc-dev installs; nothing of
 * runc is copied here. */
#include "nsexec.c"

#include "runc_nl_parse_shim.h"

unsigned runc_ref_nl_parse(int fd)
{
	struct nlconfig_t config = { 0 };
	unsigned flags;

	nl_parse(fd, &config); /* exits the process on a malformed message */
	flags = config.cloneflags + (unsigned)config.uidmap_len + (unsigned)config.mountsources_len;
	nl_free(&config);
	return flags;
}
