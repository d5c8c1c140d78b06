//! The Unicode facts account names need ([`UnicodeFacts`]), answered by the JavaScript
//! runtime, which carries ICU anyway: `String.prototype.normalize`, `toLowerCase` and
//! `RegExp` property escapes cost no wasm, where the same tables compiled in would make
//! it much larger (docs/performance.md, "Unicode from the runtime"). Asked only for names
//! beyond printable ASCII (see `domain::username`), one or two calls per character.

use std::cell::OnceCell;

use js_sys::{JsString, RegExp};

use crate::domain::scripts::{ScriptSet, SCRIPT_CODES};
use crate::domain::username::{Category, Script, UnicodeFacts};

/// The expressions, compiled by an isolate's first name beyond printable ASCII (most
/// isolates never see one, and a cold start should not pay for them).
#[derive(Default)]
pub struct RuntimeUnicode(OnceCell<Expressions>);

struct Expressions {
    letter_or_digit: RegExp,
    unassigned: RegExp,
    control: RegExp,
    scripts: [(RegExp, Script); 5],
    /// One optional capture a script, in a lookahead each, so that one match (at the
    /// start, where every lookahead holds) tells every script of the character's
    /// Script_Extensions.
    script_extensions: RegExp,
}

impl RuntimeUnicode {
    fn expressions(&self) -> &Expressions {
        self.0.get_or_init(|| {
            let class = |pattern: &str| RegExp::new(&format!("^{pattern}$"), "u");
            Expressions {
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
                script_extensions: {
                    let each_code = RegExp::new(r"(\w{4}) ?", "g");
                    let lookaheads =
                        JsString::from(SCRIPT_CODES).replace_by_pattern(&each_code, r"(?=(\p{scx=$1})?)");
                    RegExp::new(&String::from(lookaheads), "u")
                },
            }
        })
    }
}

fn normalized(text: &str, form: &str) -> String {
    JsString::from(text).normalize(form).into()
}

impl UnicodeFacts for RuntimeUnicode {
    fn nfc(&self, text: &str) -> String {
        normalized(text, "NFC")
    }

    fn nfd(&self, text: &str) -> String {
        normalized(text, "NFD")
    }

    fn nfkc(&self, c: char) -> String {
        normalized(c.encode_utf8(&mut [0; 4]), "NFKC")
    }

    fn to_lowercase(&self, text: &str) -> String {
        JsString::from(text).to_lower_case().into()
    }

    fn category(&self, c: char) -> Category {
        let (c, expressions) = (c.encode_utf8(&mut [0; 4]).to_string(), self.expressions());
        if expressions.letter_or_digit.test(&c) {
            Category::LetterOrDigit
        } else if expressions.unassigned.test(&c) {
            Category::Unassigned
        } else if expressions.control.test(&c) {
            Category::Control
        } else {
            Category::Other
        }
    }

    fn script(&self, c: char) -> Script {
        let c = c.encode_utf8(&mut [0; 4]).to_string();
        self.expressions()
            .scripts
            .iter()
            .find(|(script, _)| script.test(&c))
            .map_or(Script::Other, |(_, script)| *script)
    }

    fn script_extensions(&self, c: char) -> ScriptSet {
        let c = c.encode_utf8(&mut [0; 4]).to_string();
        let Some(found) = self.expressions().script_extensions.exec(&c) else {
            return ScriptSet::default();
        };
        // The match, then each script's capture: the character, or empty where it has
        // not that script (a name's characters are letters, marks and digits, never a
        // comma).
        let (mut scripts, mut field) = (ScriptSet::default(), 0);
        for byte in String::from(found.join(",")).bytes() {
            if byte == b',' {
                field += 1;
            } else if field > 0 {
                scripts.insert(field - 1);
            }
        }
        scripts
    }
}
