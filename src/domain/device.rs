//! What a session's entry in "your devices" says of the device that opened it: enough for
//! a user to recognise it, little enough to keep (the address only to its network).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The `User-Agent` is kept to its first 256 characters.
pub const USER_AGENT_CHARS: usize = 256;

/// The device behind a login, as its session records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    /// The `User-Agent`, cut to [`USER_AGENT_CHARS`] characters; empty without one.
    pub user_agent: String,
    /// The country Cloudflare placed the client in (`request.cf.country`, ISO 3166 alpha-2
    /// or `XX`/`T1`); empty when unknown.
    pub country: String,
    /// The client's address masked: see [`masked_address`].
    pub address: String,
}

impl Device {
    /// The device of a request with these headers' values (`User-Agent`,
    /// `CF-Connecting-IP`) and this country.
    pub fn describe(user_agent: Option<&str>, country: Option<&str>, address: Option<&str>) -> Device {
        let printable = |text: &str| text.chars().filter(|c| !c.is_control()).collect::<String>();
        Device {
            user_agent: printable(user_agent.unwrap_or_default().trim())
                .chars()
                .take(USER_AGENT_CHARS)
                .collect(),
            country: printable(country.unwrap_or_default().trim()).chars().take(8).collect(),
            address: masked_address(address),
        }
    }
}

/// The address as "your devices" shows it: an IPv4 address as its /24 (`203.0.113.0/24`;
/// an IPv4-mapped IPv6 address as the IPv4 address it maps), an IPv6 address as its /48
/// (`2001:db8:1::/48`): the network, which a user recognises ("home", "the office"),
/// not the host. Empty for text that is no address.
pub fn masked_address(text: Option<&str>) -> String {
    let v4 = |v4: Ipv4Addr| {
        let [a, b, c, _] = v4.octets();
        format!("{}/24", Ipv4Addr::new(a, b, c, 0))
    };
    match text.map(str::trim).and_then(|text| text.parse::<IpAddr>().ok()) {
        Some(IpAddr::V4(address)) => v4(address),
        Some(IpAddr::V6(address)) => match address.to_ipv4_mapped() {
            Some(address) => v4(address),
            None => {
                let [a, b, c, ..] = address.segments();
                format!("{}/48", Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0))
            }
        },
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_kept_only_to_its_network() {
        let cases = [
            ("203.0.113.9", "203.0.113.0/24"),
            (" 198.51.100.255 ", "198.51.100.0/24"),
            ("::ffff:203.0.113.9", "203.0.113.0/24"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
            ("2001:DB8:0001:ffff::1", "2001:db8:1::/48"),
            ("::1", "::/48"),
            ("not an address", ""),
            ("", ""),
        ];
        for (text, masked) in cases {
            assert_eq!(masked_address(Some(text)), masked, "{text}");
        }
        assert_eq!(masked_address(None), "");
    }

    #[test]
    fn a_user_agent_is_cut_to_256_characters_and_control_characters_dropped() {
        let long = "浏".repeat(300);
        let device = Device::describe(Some(&long), Some("CN"), Some("1.2.3.4"));
        assert_eq!(device.user_agent.chars().count(), USER_AGENT_CHARS);
        assert_eq!((device.country.as_str(), device.address.as_str()), ("CN", "1.2.3.0/24"));
        let device = Device::describe(Some("curl/8\r\n\u{0}x"), None, None);
        assert_eq!(
            device,
            Device { user_agent: "curl/8x".into(), country: String::new(), address: String::new() }
        );
    }
}
