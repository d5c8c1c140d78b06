//! The client's address as the per-address limits count it. Cloudflare hands the address
//! over as text (`CF-Connecting-IP`), and one address has many spellings; one IPv6 host
//! has many addresses.

use std::net::{IpAddr, Ipv6Addr};

/// The key of the address `text`: an IPv4 address as itself (an IPv4-mapped IPv6
/// address, `::ffff:a.b.c.d`, is the IPv4 address it maps), an IPv6 address as its /64
/// in canonical form (`2001:db8:1:2::/64`). A /64 is what one IPv6 host or home is
/// normally given, and hands it 2^64 addresses: counting /128s would give every host an
/// endless supply of fresh limits, while counting /48s would make a whole site share one.
/// Text that is no address (only possible where the header is not Cloudflare's, as under
/// `wrangler dev`) is one key for all of it.
pub fn limit_key(text: Option<&str>) -> String {
    match text.map(str::trim).and_then(|text| text.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
        None => "unknown".into(),
    }
}

/// Who is calling, as far as limits and checks care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The client's address as the limits count it (`CF-Connecting-IP`, which Cloudflare
    /// always sets; see [`limit_key`]).
    pub ip: String,
    /// The address as it came, for checks that want the client's own (Turnstile's
    /// `remoteip`).
    pub address: Option<String>,
}

impl Caller {
    /// The caller at `address` (`CF-Connecting-IP`).
    pub fn at(address: Option<&str>) -> Caller {
        Caller { ip: limit_key(address), address: address.map(|text| text.trim().to_string()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> String {
        limit_key(Some(text))
    }

    #[test]
    fn spellings_of_one_ipv4_address_are_one_key() {
        for text in [
            "203.0.113.9",
            " 203.0.113.9 ",
            "::ffff:203.0.113.9",
            "::FFFF:cb00:7109",
            "0:0:0:0:0:ffff:cb00:7109",
        ] {
            assert_eq!(key(text), "203.0.113.9", "{text}");
        }
        assert_ne!(key("203.0.113.10"), key("203.0.113.9"));
    }

    #[test]
    fn an_ipv6_address_counts_by_its_64() {
        for text in
            ["2001:db8:1:2::1", "2001:DB8:1:2:0:0:0:1", "2001:0db8:0001:0002::5", "2001:db8:1:2:ffff:1:2:3"]
        {
            assert_eq!(key(text), "2001:db8:1:2::/64", "{text}");
        }
        assert_eq!(key("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(key("::1"), "::/64");
    }

    #[test]
    fn what_is_no_address_is_one_key() {
        for text in [None, Some(""), Some("not an address"), Some("1.2.3.4.5"), Some("[::1]")] {
            assert_eq!(limit_key(text), "unknown", "{text:?}");
        }
    }
}
