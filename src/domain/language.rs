//! The language of `msg` texts, chosen by `Accept-Language`. Chinese is the default, as
//! the original service; codes never change with the language.

/// A language the messages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    Chinese,
    English,
}

impl Language {
    /// The language an `Accept-Language` header prefers among those we have: the one with
    /// the highest quality (`q`), the earlier on a tie; Chinese when neither is named.
    pub fn negotiate(accept_language: Option<&str>) -> Language {
        let mut best: Option<(Language, u32)> = None;
        for entry in accept_language.unwrap_or("").split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| thousandths(q.trim()))
                .unwrap_or(1000);
            let language = match tag.split('-').next() {
                Some("en") => Language::English,
                Some("zh") => Language::Chinese,
                _ => continue,
            };
            if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((language, quality));
            }
        }
        best.map(|(language, _)| language).unwrap_or_default()
    }
}

/// A quality value (RFC 9110: `0.8`, `1`, `0.125`) in thousandths, digits after the third
/// decimal ignored; `None` when it is not a decimal number. By hand rather than with
/// `str::parse::<f32>`: the float parser's tables would be the largest thing this reads
/// in the wasm.
fn thousandths(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || whole.len() > 3 || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole: u32 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let fraction = fraction.bytes().chain(std::iter::repeat(b'0')).take(3);
    Some(fraction.fold(whole, |value, digit| value * 10 + u32::from(digit - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_chosen_when_preferred() {
        for header in ["en", "en-US", "en-GB,en;q=0.9", "zh;q=0.5, en;q=0.8", "fr, en-US;q=0.7", "EN"] {
            assert_eq!(Language::negotiate(Some(header)), Language::English, "{header}");
        }
    }

    #[test]
    fn chinese_is_the_default() {
        for header in ["", "zh-CN", "zh-CN,zh;q=0.9,en;q=0.8", "fr", "*", "en;q=0", "en;q=0.5, zh"] {
            assert_eq!(Language::negotiate(Some(header)), Language::Chinese, "{header}");
        }
        assert_eq!(Language::negotiate(None), Language::Chinese);
    }

    #[test]
    fn qualities_are_read_to_the_thousandth() {
        for (text, expected) in [
            ("1", Some(1000)),
            ("1.0", Some(1000)),
            ("0", Some(0)),
            ("0.8", Some(800)),
            ("0.125", Some(125)),
            ("0.1239", Some(123)),
            (".5", Some(500)),
            ("5.", Some(5000)),
            ("", None),
            (".", None),
            ("0.x", None),
            ("-1", None),
            ("1e3", None),
            ("1000", None),
        ] {
            assert_eq!(thousandths(text), expected, "{text:?}");
        }
        assert_eq!(Language::negotiate(Some("zh;q=0.899, en;q=0.9")), Language::English);
        assert_eq!(Language::negotiate(Some("zh;q=0.9001, en;q=0.9")), Language::Chinese);
    }
}
