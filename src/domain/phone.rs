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

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
