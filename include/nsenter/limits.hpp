// SPDX-License-Identifier: Apache-2.0
// nsenter: size limits of the bootstrap protocol, each with the reason for
// its value, so that no length read from the wire is trusted unchecked.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

// struct nlmsghdr and struct nlattr sizes (linux/netlink.h).
inline constexpr std::size_t kNlMsgHeaderBytes = 16;
inline constexpr std::size_t kNlAttrHeaderBytes = 4;
inline constexpr std::size_t kNlAlign = 4;

// Kinds of attribute the runc 1.1 profile knows (27281..27290).
inline constexpr std::size_t kKnownAttrCount = 10;

// nla_len is a u16, so one attribute occupies at most 65535 bytes, padded to
// 65536. Every known attribute may appear once, so no valid message is longer
// than the header plus ten padded maximal attributes (655376 bytes). A longer
// nlmsg_len is rejected before anything is allocated for the body.
inline constexpr std::size_t kMaxAttrBytes = 65535;
inline constexpr std::size_t kMaxMessageBytes =
    kNlMsgHeaderBytes + kKnownAttrCount * (kMaxAttrBytes + 1);

// The kernel keeps at most this many extents per id map
// (UID_GID_MAP_MAX_EXTENTS since Linux 4.15).
inline constexpr std::size_t kMaxIdMapLines = 340;

// One entry per namespace kind; each kind may be joined only once.
inline constexpr std::size_t kMaxNamespaces = 8;

// PATH_MAX counts the terminating NUL; open(2) fails with ENAMETOOLONG on
// longer paths, so rejecting them while parsing costs the caller nothing.
inline constexpr std::size_t kMaxPathBytes = 4095;

// Error::detail capacity (with its NUL): enough for a path prefix, one
// id-map line or an init's whole fatal message as the launcher receives it,
// small enough to keep Error trivially copyable on a stack.
inline constexpr std::size_t kErrorDetailBytes = 256;

NSENTER_END_NAMESPACE
