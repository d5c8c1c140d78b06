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
        let mut best: Option<(Language, f32)> = None;
        for entry in accept_language.unwrap_or("").split(',') {
            let mut parts = entry.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let language = match tag.split('-').next() {
                Some("en") => Language::English,
                Some("zh") => Language::Chinese,
                _ => continue,
            };
            if quality > 0.0 && best.is_none_or(|(_, q)| quality > q) {
                best = Some((language, quality));
            }
        }
        best.map(|(language, _)| language).unwrap_or_default()
    }
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
}
