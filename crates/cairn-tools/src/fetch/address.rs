//! Which IP addresses the fetcher may connect to.
//!
//! Written out here because std's `is_global` is still unstable, and because the rule is
//! the security boundary: it should be read in one place. IPv4 is a deny-list of the
//! special-purpose ranges (IANA's registry); IPv6 is an allow-list (global unicast,
//! 2000::/3) minus its special ranges, with the forms that embed an IPv4 address
//! (mapped, NAT64, 6to4) judged by the address they embed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::ToolError;

/// IPv4 ranges that are not public, as (first address, prefix length).
const NOT_PUBLIC_V4: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network", 0.0.0.0 (connects to the local host)
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // carrier-grade NAT (shared address space)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, including the cloud metadata 169.254.169.254
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1)
    ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2)
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3)
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and the broadcast 255.255.255.255
];

/// Special ranges inside IPv6 global unicast (2000::/3), as (first 16-bit groups, prefix length).
const NOT_PUBLIC_V6: &[([u16; 2], u8)] = &[
    ([0x2001, 0x0000], 23), // IETF protocol assignments: Teredo, benchmarking, ORCHID...
    ([0x2001, 0x0db8], 32), // documentation
    ([0x3fff, 0x0000], 20), // documentation (RFC 9637)
];

/// Whether `ip` is a public unicast address, the only kind the fetcher connects to unless
/// the operator allowed its network.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let ip = u32::from(ip);
    !NOT_PUBLIC_V4.iter().any(|&(first, prefix)| {
        let mask = u32::MAX << (32 - prefix);
        ip & mask == u32::from_be_bytes(first)
    })
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // ::ffff:a.b.c.d reaches a.b.c.d.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let groups = ip.segments();
    let bits = u128::from(ip);
    // NAT64's well-known prefix 64:ff9b::/96 reaches the IPv4 address in its last 32 bits.
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        return is_public_v4(Ipv4Addr::from(bits as u32));
    }
    // 6to4, 2002::/16, reaches the IPv4 address in its next 32 bits.
    if groups[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    // Everything outside 2000::/3 is loopback, unspecified, IPv4-compatible, local NAT64,
    // discard, unique local (fc00::/7), link-local (fe80::/10), site-local or multicast.
    if groups[0] & 0xe000 != 0x2000 {
        return false;
    }
    let top = (u32::from(groups[0]) << 16) | u32::from(groups[1]);
    !NOT_PUBLIC_V6.iter().any(|&([high, low], prefix)| {
        let mask = u32::MAX << (32 - prefix);
        top & mask == (u32::from(high) << 16) | u32::from(low)
    })
}

/// Refuses `ip` unless it is public or inside one of the operator's `allow_networks`.
/// An IPv4-mapped IPv6 address is matched against the networks in both of its forms.
pub(crate) fn check(host: &str, ip: IpAddr, allow_networks: &[IpNet]) -> Result<(), ToolError> {
    let canonical = ip.to_canonical();
    let allowed = allow_networks
        .iter()
        .any(|net| net.contains(&ip) || net.contains(&canonical));
    if allowed || is_public(ip) {
        Ok(())
    } else {
        Err(ToolError::AddressNotAllowed {
            host: host.to_string(),
            addr: ip,
        })
    }
}
