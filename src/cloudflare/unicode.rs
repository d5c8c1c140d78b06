//! The Unicode facts account names need ([`UnicodeFacts`]), answered by the JavaScript
//! runtime, which carries ICU anyway: `String.prototype.normalize`, `toLowerCase` and
//! `RegExp` property escapes cost no wasm, where the same tables compiled in would cost
//! about 95 KB gzipped. Asked only for names beyond printable ASCII (see
//! `domain::username`), one or two calls per character.

use js_sys::{JsString, RegExp};

use crate::domain::username::{Category, Script, UnicodeFacts};

/// The expressions, compiled once per isolate.
pub struct RuntimeUnicode {
    letter_or_digit: RegExp,
    unassigned: RegExp,
    control: RegExp,
    scripts: [(RegExp, Script); 5],
}

impl RuntimeUnicode {
    pub fn new() -> RuntimeUnicode {
        let class = |pattern: &str| RegExp::new(&format!("^{pattern}$"), "u");
        RuntimeUnicode {
            letter_or_digit: class(r"[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]"),
            unassigned: class(r"\p{Cn}"),
            control: class(r"\p{Cc}"),
            scripts: [
                (class(r"\p{Script=Greek}"), Script::Greek),
                (class(r"\p{Script=Hebrew}"), Script::Hebrew),
                (class(r"\p{Script=Hiragana}"), Script::Hiragana),
                (class(r"\p{Script=Katakana}"), Script::Katakana),
                (class(r"\p{Script=Han}"), Script::Han),
            ],
        }
    }
}

fn normalized(text: &str, form: &str) -> String {
    JsString::from(text).normalize(form).into()
}

impl UnicodeFacts for RuntimeUnicode {
    fn nfc(&self, text: &str) -> String {
        normalized(text, "NFC")
    }

    fn nfkc(&self, c: char) -> String {
        normalized(c.encode_utf8(&mut [0; 4]), "NFKC")
    }

    fn to_lowercase(&self, text: &str) -> String {
        JsString::from(text).to_lower_case().into()
    }

    fn category(&self, c: char) -> Category {
        let c = c.encode_utf8(&mut [0; 4]).to_string();
        if self.letter_or_digit.test(&c) {
            Category::LetterOrDigit
        } else if self.unassigned.test(&c) {
            Category::Unassigned
        } else if self.control.test(&c) {
            Category::Control
        } else {
            Category::Other
        }
    }

    fn script(&self, c: char) -> Script {
        let c = c.encode_utf8(&mut [0; 4]).to_string();
        self.scripts.iter().find(|(script, _)| script.test(&c)).map_or(Script::Other, |(_, script)| *script)
    }
}
