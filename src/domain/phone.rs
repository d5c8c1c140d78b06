//! Phone numbers, normalized to E.164 so that `13911119999` and `+8613911119999` are one
//! phone everywhere: in D1, in KV keys and in the name of the phone's Durable Object.

use std::fmt;

/// A phone number in E.164 form (`+` and 8 to 15 digits, no leading zero).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts a mainland China mobile number (`^1[3-9]\d{9}$`, as in the original
    /// document) or an E.164 number. Surrounding white space is ignored.
    pub fn parse(input: &str) -> Option<Phone> {
        let input = input.trim();
        let bytes = input.as_bytes();
        let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
        if bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) && all_digits(bytes) {
            return Some(Phone(format!("+86{input}")));
        }
        if let Some(digits) = input.strip_prefix('+') {
            let d = digits.as_bytes();
            if (8..=15).contains(&d.len()) && all_digits(d) && d[0] != b'0' {
                // China's numbers (+86) must be mobile numbers: anything else there would
                // be another spelling of one (`+86013...`, `+860013...`) or no phone a
                // code can reach, each with a gate and a daily count of its own.
                if let Some(national) = digits.strip_prefix("86") {
                    return Phone::parse(national);
                }
                return Some(Phone(input.to_string()));
            }
        }
        None
    }

    /// The E.164 form, `+8613911119999`.
    pub fn e164(&self) -> &str {
        &self.0
    }
}

/// A phone in E.164 with the four digits before its last four hidden: `+86139****9999`.
/// Enough for a person to recognize their number, or to follow one through the log, and
/// for nothing else.
pub fn masked(e164: &str) -> String {
    let digits = e164.strip_prefix('+').unwrap_or(e164).as_bytes();
    let hidden = digits.len().saturating_sub(8)..digits.len().saturating_sub(4);
    let mut text = String::from("+");
    for (at, &byte) in digits.iter().enumerate() {
        // Anything but ASCII (never in a phone this worker stored) is hidden too.
        text.push(if hidden.contains(&at) || !byte.is_ascii() { '*' } else { byte as char });
    }
    text
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The country calling codes SMS may be sent to (`SMS_ALLOWED_COUNTRY_CODES`). Toll fraud
/// ("SMS pumping") sends codes to premium-rate ranges abroad and takes a share of what
/// they cost; a service whose users are in a few countries should send nowhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountryCodes {
    /// `*`: any country, for a service that really has users everywhere.
    Any,
    /// These codes, e.g. `86` and `1`.
    List(Vec<String>),
}

impl CountryCodes {
    /// A comma-separated list of 1 to 3 digit codes (`86,852,1`), or `*`.
    pub fn parse(text: &str) -> Result<CountryCodes, String> {
        if text.trim() == "*" {
            return Ok(CountryCodes::Any);
        }
        let mut codes = Vec::new();
        for code in text.split(',').map(|c| c.trim().trim_start_matches('+')).filter(|c| !c.is_empty()) {
            if !(1..=3).contains(&code.len())
                || !code.bytes().all(|b| b.is_ascii_digit())
                || code.starts_with('0')
            {
                return Err(format!("{code:?} is not a country calling code (1 to 3 digits)"));
            }
            codes.push(code.to_string());
        }
        Ok(CountryCodes::List(codes))
    }

    /// Whether `phone` is in one of the countries. Calling codes are a prefix code (no
    /// code begins another), so the number's leading digits name exactly one country.
    pub fn allows(&self, phone: &Phone) -> bool {
        match self {
            CountryCodes::Any => true,
            CountryCodes::List(codes) => {
                codes.iter().any(|code| phone.e164()[1..].starts_with(code.as_str()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_their_country_their_start_and_last_four() {
        assert_eq!(masked("+8613912349999"), "+86139****9999");
        assert_eq!(masked("+12025550123"), "+120****0123");
        assert_eq!(masked("+85291234567"), "+852****4567");
        assert_eq!(masked("+4412345"), "+***2345");
        assert_eq!(masked("+123"), "+123");
        assert_eq!(masked("+86139é"), "+***39**", "no panic, nothing but ASCII shown");
    }

    #[test]
    fn the_allow_list_matches_the_country_calling_code() {
        let china = CountryCodes::parse("86").unwrap();
        assert!(china.allows(&Phone::parse("13911119999").unwrap()));
        assert!(!china.allows(&Phone::parse("+14155550123").unwrap()));
        assert!(!china.allows(&Phone::parse("+8529123456").unwrap()), "Hong Kong is 852, not 86");
        let several = CountryCodes::parse(" +86, 1 ,852").unwrap();
        assert!(several.allows(&Phone::parse("+14155550123").unwrap()));
        assert!(several.allows(&Phone::parse("+85291234567").unwrap()));
        assert!(!several.allows(&Phone::parse("+447700900123").unwrap()));
        assert!(CountryCodes::parse("*").unwrap().allows(&Phone::parse("+447700900123").unwrap()));
        assert!(!CountryCodes::parse("").unwrap().allows(&Phone::parse("13911119999").unwrap()));
    }

    #[test]
    fn malformed_country_codes_are_refused() {
        for bad in ["8600", "CN", "0", "86;1"] {
            assert!(CountryCodes::parse(bad).is_err(), "{bad:?}");
        }
        assert!(CountryCodes::parse("8600").unwrap_err().contains("8600"));
    }

    #[test]
    fn a_mainland_number_is_normalized_to_e164() {
        assert_eq!(Phone::parse("13911119999").unwrap().e164(), "+8613911119999");
    }

    #[test]
    fn mainland_and_e164_forms_are_the_same_phone() {
        assert_eq!(Phone::parse("13911119999"), Phone::parse("+8613911119999"));
    }

    #[test]
    fn e164_numbers_of_8_to_15_digits_are_accepted() {
        for number in ["+14155550123", "+12345678", "+123456789012345"] {
            assert_eq!(Phone::parse(number).unwrap().e164(), number);
        }
    }

    #[test]
    fn a_plus_86_number_must_be_a_mobile_number() {
        for number in
            ["+86013368822062", "+860013368822062", "+86133688220620", "+8613368822", "+861012345678"]
        {
            assert_eq!(Phone::parse(number), None, "{number:?}");
        }
        assert_eq!(Phone::parse("+8613368822062").unwrap().e164(), "+8613368822062");
    }

    #[test]
    fn anything_else_is_refused() {
        for number in [
            "",
            "1391111999",
            "139111199990",
            "12911119999",
            "23911119999",
            "+1234567",
            "+1234567890123456",
            "+0123456789",
            "+86 139 1111 9999",
            "139-1111-9999",
            "１３９１１１１９９９９",
            "+",
            "++8613911119999",
        ] {
            assert_eq!(Phone::parse(number), None, "{number:?}");
        }
    }
}
