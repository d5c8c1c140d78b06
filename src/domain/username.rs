//! Account names as RFC 8265's UsernameCaseMapped profile (PRECIS) compares them: the
//! key that uniqueness and the login limits use, so that names differing only by width
//! (`Ｆｏｏ`), case (`FOO`, the Kelvin sign), composition, or an invisible character are
//! one account, and names with characters no username should hold (zero-width spaces
//! and joiners out of context, bidi controls, tags, fillers, ligatures, symbols, spaces)
//! are refused.
//!
//! The rules are here; the Unicode data they need comes through [`UnicodeFacts`]. The
//! worker answers those from the JavaScript runtime, which already carries ICU
//! (`String.prototype.normalize`, `toLowerCase`, `RegExp` property escapes): a crate
//! with its own tables (`precis-profiles`) would make the wasm much larger
//! (docs/performance.md, "Unicode from the runtime"). Native code (the tests) answers
//! them from Rust crates ([`native::NativeUnicode`]), and a test holds the result to
//! `precis-profiles` on every code point. What neither runtime exposes is small and kept
//! here: the Bidi class and joining type (two crates' data, in
//! [`super::unicode_tables`]), and short lists from the Unicode data files
//! (default-ignorable code points, old Hangul jamo, viramas) and from RFC 5892 (the
//! exceptions).

use super::scripts::ScriptSet;
use super::unicode_tables::{bidi_class, joining_type, Bidi, Joining};

/// The Unicode data the profile needs that the runtime has.
pub trait UnicodeFacts {
    /// Normalization Form C.
    fn nfc(&self, text: &str) -> String;
    /// Normalization Form D.
    fn nfd(&self, text: &str) -> String;
    /// Normalization Form KC, of one character.
    fn nfkc(&self, c: char) -> String;
    /// Unicode's toLowerCase (full case mapping, final sigma included).
    fn to_lowercase(&self, text: &str) -> String;
    /// The general category, as far as the profile tells them apart.
    fn category(&self, c: char) -> Category;
    /// The script, as far as the context rules ask.
    fn script(&self, c: char) -> Script;
    /// The scripts the character is used with (its Script_Extensions), for the
    /// look-alike rules of new names (`domain::look_alikes`).
    fn script_extensions(&self, c: char) -> ScriptSet;
}

/// General categories as the IdentifierClass groups them (RFC 8264 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Ll, Lu, Lo, Nd, Lm, Mn or Mc: the `LetterDigits` that may be valid.
    LetterOrDigit,
    /// Cn: not assigned (in the runtime's Unicode version).
    Unassigned,
    /// Cc.
    Control,
    /// Anything else (symbols, punctuation, spaces, Lt, Nl, No, Me, Cf, ...).
    Other,
}

/// The scripts RFC 5892's context rules ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Greek,
    Hebrew,
    Hiragana,
    Katakana,
    Han,
    Other,
}

/// Why a name has no key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameError {
    /// Nothing left (an empty name).
    Empty,
    /// A character the profile does not allow there.
    Disallowed(char),
    /// Right-to-left text that breaks the Bidi Rule (RFC 5893).
    Bidi,
}

/// The name's key, as the profile enforces it: width-mapped, checked against the
/// IdentifierClass, lower-cased, NFC, and held to the Bidi Rule when right-to-left.
/// `name` is already trimmed.
pub fn username_key(name: &str, facts: &dyn UnicodeFacts) -> Result<String, UsernameError> {
    // Printable ASCII without spaces (most names) is valid as it is, and every mapping
    // but case is a no-op on it: no call into the runtime.
    if !name.is_empty() && name.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Ok(name.to_ascii_lowercase());
    }
    let prepared = width_mapped(name, facts);
    if prepared.is_empty() {
        return Err(UsernameError::Empty);
    }
    let chars: Vec<char> = prepared.chars().collect();
    for (at, &c) in chars.iter().enumerate() {
        let allowed = match identifier_class(c, facts) {
            Class::Valid => true,
            Class::Contextual => context_allows(&chars, at, facts),
            Class::Disallowed => false,
        };
        if !allowed {
            return Err(UsernameError::Disallowed(c));
        }
    }
    let key = facts.nfc(&facts.to_lowercase(&prepared));
    if key.is_empty() {
        return Err(UsernameError::Empty);
    }
    if has_right_to_left(&key) && !satisfies_bidi_rule(&key) {
        return Err(UsernameError::Bidi);
    }
    Ok(key)
}

/// Fullwidth and halfwidth characters (the `<wide>` and `<narrow>` decompositions: the
/// ideographic space and the Halfwidth and Fullwidth Forms block) to their decompositions.
pub(super) fn width_mapped(name: &str, facts: &dyn UnicodeFacts) -> String {
    let mut mapped = String::with_capacity(name.len());
    for c in name.chars() {
        if c == '\u{3000}' || ('\u{FF01}'..='\u{FFEE}').contains(&c) {
            let decomposed = facts.nfkc(c);
            let mut single = decomposed.chars();
            match (single.next(), single.next()) {
                (Some(one), None) => mapped.push(one),
                _ => mapped.push(c),
            }
        } else {
            mapped.push(c);
        }
    }
    mapped
}

enum Class {
    Valid,
    Contextual,
    Disallowed,
}

/// The IdentifierClass's derived property of `c` (RFC 8264 §8), in its order.
fn identifier_class(c: char, facts: &dyn UnicodeFacts) -> Class {
    let cp = c as u32;
    if let Some(class) = exception(cp) {
        return class;
    }
    if (0x21..=0x7e).contains(&cp) {
        return Class::Valid;
    }
    let category = facts.category(c);
    if category == Category::Unassigned {
        return Class::Disallowed;
    }
    if cp == 0x200c || cp == 0x200d {
        return Class::Contextual;
    }
    if in_ranges(cp, OLD_HANGUL_JAMO) || in_ranges(cp, DEFAULT_IGNORABLE) || is_noncharacter(cp) {
        return Class::Disallowed;
    }
    if category == Category::Control || facts.nfkc(c).chars().ne(std::iter::once(c)) {
        return Class::Disallowed;
    }
    if category == Category::LetterOrDigit {
        Class::Valid
    } else {
        Class::Disallowed
    }
}

/// RFC 5892 §2.6 (which the PRECIS framework takes over).
fn exception(cp: u32) -> Option<Class> {
    match cp {
        0x00df | 0x03c2 | 0x06fd | 0x06fe | 0x0f0b | 0x3007 => Some(Class::Valid),
        0x00b7 | 0x0375 | 0x05f3 | 0x05f4 | 0x30fb | 0x0660..=0x0669 | 0x06f0..=0x06f9 => {
            Some(Class::Contextual)
        }
        0x0640 | 0x07fa | 0x302e | 0x302f | 0x3031..=0x3035 | 0x303b => Some(Class::Disallowed),
        _ => None,
    }
}

/// RFC 5892 Appendix A: where a contextual character may stand.
fn context_allows(chars: &[char], at: usize, facts: &dyn UnicodeFacts) -> bool {
    let before = at.checked_sub(1).map(|i| chars[i]);
    let after = chars.get(at + 1).copied();
    match chars[at] {
        // ZERO WIDTH NON-JOINER: after a virama, or between joining letters.
        '\u{200c}' => before.is_some_and(is_virama) || joins_across(chars, at),
        // ZERO WIDTH JOINER: after a virama.
        '\u{200d}' => before.is_some_and(is_virama),
        // MIDDLE DOT: in Catalan's l·l.
        '\u{00b7}' => before == Some('l') && after == Some('l'),
        // GREEK LOWER NUMERAL SIGN: before Greek.
        '\u{0375}' => after.is_some_and(|c| facts.script(c) == Script::Greek),
        // HEBREW GERESH and GERSHAYIM: after Hebrew.
        '\u{05f3}' | '\u{05f4}' => before.is_some_and(|c| facts.script(c) == Script::Hebrew),
        // KATAKANA MIDDLE DOT: in a name with Japanese or Han characters.
        '\u{30fb}' => chars
            .iter()
            .any(|&c| matches!(facts.script(c), Script::Hiragana | Script::Katakana | Script::Han)),
        // The two kinds of Arabic-Indic digits do not mix.
        '\u{0660}'..='\u{0669}' => !chars.iter().any(|c| ('\u{06f0}'..='\u{06f9}').contains(c)),
        '\u{06f0}'..='\u{06f9}' => !chars.iter().any(|c| ('\u{0660}'..='\u{0669}').contains(c)),
        _ => false,
    }
}

/// `(Joining_Type:{L,D})(Joining_Type:T)*\u200C(Joining_Type:T)*(Joining_Type:{R,D})`
/// around the non-joiner at `at`.
fn joins_across(chars: &[char], at: usize) -> bool {
    let left = chars[..at].iter().rev().map(|&c| joining_type(c)).find(|&t| t != Joining::Transparent);
    let right = chars[at + 1..].iter().map(|&c| joining_type(c)).find(|&t| t != Joining::Transparent);
    matches!(left, Some(Joining::Left | Joining::Dual))
        && matches!(right, Some(Joining::Right | Joining::Dual))
}

fn is_virama(c: char) -> bool {
    VIRAMAS.binary_search(&(c as u32)).is_ok()
}

fn is_noncharacter(cp: u32) -> bool {
    (0xfdd0..=0xfdef).contains(&cp) || cp & 0xfffe == 0xfffe
}

fn in_ranges(cp: u32, ranges: &[(u32, u32)]) -> bool {
    ranges.iter().any(|&(first, last)| (first..=last).contains(&cp))
}

fn has_right_to_left(text: &str) -> bool {
    text.chars().any(|c| matches!(bidi_class(c), Bidi::R | Bidi::AL | Bidi::AN))
}

/// RFC 5893 §2, the six conditions, for a name with right-to-left characters.
fn satisfies_bidi_rule(text: &str) -> bool {
    use Bidi::*;
    let classes: Vec<Bidi> = text.chars().map(bidi_class).collect();
    let Some(&first) = classes.first() else { return true };
    // The last class that is not a nonspacing mark.
    let last = classes.iter().rev().find(|&&class| class != NSM).copied();
    match first {
        R | AL => {
            let allowed =
                classes.iter().all(|c| matches!(c, R | AL | AN | EN | ES | CS | ET | ON | BN | NSM));
            let ends_well = matches!(last, Some(R | AL | EN | AN));
            let one_kind_of_digit = !(classes.contains(&EN) && classes.contains(&AN));
            allowed && ends_well && one_kind_of_digit
        }
        L => {
            let allowed = classes.iter().all(|c| matches!(c, L | EN | ES | CS | ET | ON | BN | NSM));
            allowed && matches!(last, Some(L | EN))
        }
        _ => false,
    }
}

/// Default_Ignorable_Code_Point (DerivedCoreProperties.txt).
const DEFAULT_IGNORABLE: &[(u32, u32)] = &[
    (0x00ad, 0x00ad),
    (0x034f, 0x034f),
    (0x061c, 0x061c),
    (0x115f, 0x1160),
    (0x17b4, 0x17b5),
    (0x180b, 0x180f),
    (0x200b, 0x200f),
    (0x202a, 0x202e),
    (0x2060, 0x206f),
    (0x3164, 0x3164),
    (0xfe00, 0xfe0f),
    (0xfeff, 0xfeff),
    (0xffa0, 0xffa0),
    (0xfff0, 0xfff8),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0000, 0xe0fff),
];

/// Hangul_Syllable_Type L, V or T (the conjoining jamo; RFC 8264's OldHangulJamo).
const OLD_HANGUL_JAMO: &[(u32, u32)] =
    &[(0x1100, 0x11ff), (0xa960, 0xa97c), (0xd7b0, 0xd7c6), (0xd7cb, 0xd7fb)];

/// Canonical_Combining_Class 9 (Virama), sorted; a test holds it to the Unicode data.
const VIRAMAS: &[u32] = &[
    0x94D, 0x9CD, 0xA4D, 0xACD, 0xB4D, 0xBCD, 0xC4D, 0xCCD, 0xD3B, 0xD3C, 0xD4D, 0xDCA, 0xE3A, 0xEBA, 0xF84,
    0x1039, 0x103A, 0x1714, 0x1715, 0x1734, 0x17D2, 0x1A60, 0x1B44, 0x1BAA, 0x1BAB, 0x1BF2, 0x1BF3, 0x2D7F,
    0xA806, 0xA82C, 0xA8C4, 0xA953, 0xA9C0, 0xAAF6, 0xABED, 0x10A3F, 0x11046, 0x11070, 0x1107F, 0x110B9,
    0x11133, 0x11134, 0x111C0, 0x11235, 0x112EA, 0x1134D, 0x113CE, 0x113CF, 0x113D0, 0x11442, 0x114C2,
    0x115BF, 0x1163F, 0x116B6, 0x1172B, 0x11839, 0x1193D, 0x1193E, 0x119E0, 0x11A34, 0x11A47, 0x11A99,
    0x11C3F, 0x11D44, 0x11D45, 0x11D97, 0x11F41, 0x11F42, 0x1612F,
];

/// The facts from Rust crates, for native code: the tests, and tools run outside the
/// worker.
#[cfg(not(target_arch = "wasm32"))]
pub mod native {
    use unicode_general_category::{get_general_category, GeneralCategory as Gc};
    use unicode_normalization::UnicodeNormalization;

    use super::{Category, Script, UnicodeFacts};
    use crate::domain::scripts::ScriptSet;

    pub struct NativeUnicode;

    impl UnicodeFacts for NativeUnicode {
        fn nfc(&self, text: &str) -> String {
            text.nfc().collect()
        }

        fn nfd(&self, text: &str) -> String {
            text.nfd().collect()
        }

        fn nfkc(&self, c: char) -> String {
            std::iter::once(c).nfkc().collect()
        }

        fn to_lowercase(&self, text: &str) -> String {
            text.to_lowercase()
        }

        fn category(&self, c: char) -> Category {
            match get_general_category(c) {
                Gc::LowercaseLetter
                | Gc::UppercaseLetter
                | Gc::OtherLetter
                | Gc::DecimalNumber
                | Gc::ModifierLetter
                | Gc::NonspacingMark
                | Gc::SpacingMark => Category::LetterOrDigit,
                Gc::Unassigned => Category::Unassigned,
                Gc::Control => Category::Control,
                _ => Category::Other,
            }
        }

        fn script(&self, c: char) -> Script {
            use unicode_script::{Script as S, UnicodeScript};
            match c.script() {
                S::Greek => Script::Greek,
                S::Hebrew => Script::Hebrew,
                S::Hiragana => Script::Hiragana,
                S::Katakana => Script::Katakana,
                S::Han => Script::Han,
                _ => Script::Other,
            }
        }

        fn script_extensions(&self, c: char) -> ScriptSet {
            use unicode_script::UnicodeScript;
            ScriptSet::of_codes(c.script_extension().iter().map(|script| script.short_name()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::native::NativeUnicode;
    use super::*;
    use precis_core::profile::Profile;
    use precis_core::{DerivedPropertyValue, IdentifierClass, StringClass};
    use precis_profiles::UsernameCaseMapped;
    use proptest::prelude::*;

    fn key(name: &str) -> Result<String, UsernameError> {
        username_key(name, &NativeUnicode)
    }

    #[test]
    fn look_alikes_of_one_name_are_one_key() {
        for name in ["foo", "FOO", "Ｆｏｏ", "ＦＯＯ", "F\u{FF4F}o"] {
            assert_eq!(key(name), Ok("foo".into()), "{name:?}");
        }
        // é composed or not is one é.
        assert_eq!(key("Jose\u{301}"), key("José"));
        // Unicode's toLowerCase, final sigma included (precis-profiles maps each
        // character alone, so its key of this name is "σασ").
        assert_eq!(key("ΣΑΣ"), Ok("σας".into()));
        assert_eq!(key("张三"), Ok("张三".into()));
        // Dotless ı is a letter of its own (Turkish), not i.
        assert_eq!(key("ıvan"), Ok("ıvan".into()));
    }

    #[test]
    fn invisible_and_look_alike_characters_are_refused() {
        let refused = [
            "fo\u{200B}o",    // zero-width space
            "fo\u{200D}o",    // zero-width joiner, not after a virama
            "fo\u{200C}o",    // zero-width non-joiner between Latin letters
            "\u{FEFF}foo",    // byte order mark
            "fo\u{AD}o",      // soft hyphen
            "foo\u{E0041}",   // a tag character
            "\u{3164}foo",    // Hangul filler
            "foo\u{202E}",    // right-to-left override
            "\u{FB01}ne",     // the ligature ﬁ
            "\u{212A}elvin",  // the Kelvin sign (a compatibility character)
            "foo bar",        // a space
            "foo\u{3000}bar", // an ideographic space, which maps to a space
            "a\u{B7}b",       // a middle dot outside l·l
            "☃",              // a symbol
        ];
        for name in refused {
            assert!(matches!(key(name), Err(UsernameError::Disallowed(_))), "{name:?}: {:?}", key(name));
        }
        assert_eq!(key(""), Err(UsernameError::Empty));
    }

    #[test]
    fn context_rules_allow_what_the_languages_need() {
        assert!(key("col\u{B7}lecció").is_ok(), "Catalan l·l");
        assert!(key("क\u{94D}\u{200D}ष").is_ok(), "a joiner after a virama");
        assert!(key("می\u{200C}خواهم").is_ok(), "Persian non-joiner between joining letters");
        assert!(key("ア\u{30FB}イ").is_ok(), "katakana middle dot");
        assert!(key("a\u{30FB}b").is_err());
        assert!(key("\u{660}\u{6F0}").is_err(), "the two Arabic-Indic digits do not mix");
    }

    #[test]
    fn right_to_left_names_follow_the_bidi_rule() {
        assert!(key("שלום").is_ok());
        assert!(key("محمد").is_ok());
        assert_eq!(key("1שלום"), Err(UsernameError::Bidi), "starts with a digit");
        assert_eq!(key("abcשלום"), Err(UsernameError::Bidi), "mixed directions");
    }

    #[test]
    fn the_virama_list_is_canonical_combining_class_9() {
        let all: Vec<u32> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|&c| unicode_normalization::char::canonical_combining_class(c) == 9)
            .map(|c| c as u32)
            .collect();
        assert_eq!(VIRAMAS, all.as_slice());
    }

    /// Every code point, alone, gets what `precis-profiles` gives it, where both know it:
    /// that crate keeps to the Unicode 6.3 of IANA's PRECIS registry (later characters
    /// are unassigned there), the runtimes know a later version.
    #[test]
    fn every_code_point_agrees_with_precis_profiles() {
        let profile = UsernameCaseMapped::new();
        let mut disagree = Vec::new();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let unknown_to_precis =
                IdentifierClass::default().get_value_from_char(c) == DerivedPropertyValue::Unassigned;
            if unknown_to_precis || NativeUnicode.category(c) == Category::Unassigned {
                continue;
            }
            let text = c.to_string();
            let ours = key(&text).ok();
            let theirs = profile.enforce(text.as_str()).ok().map(|k| k.into_owned());
            if ours != theirs {
                disagree.push(format!("U+{:04X}: ours {ours:?}, precis {theirs:?}", c as u32));
            }
        }
        assert!(
            disagree.is_empty(),
            "{} disagree:\n{}",
            disagree.len(),
            disagree[..disagree.len().min(40)].join("\n")
        );
    }

    #[test]
    fn names_agree_with_precis_profiles() {
        let profile = UsernameCaseMapped::new();
        let names = [
            "Foo",
            "Ｆｏｏ",
            "fo\u{200B}o",
            "col\u{B7}lecció",
            "a\u{B7}b",
            "क\u{94D}\u{200D}ष",
            "می\u{200C}خواهم",
            "a\u{200C}b",
            "ア\u{30FB}イ",
            "a\u{30FB}b",
            "\u{660}\u{661}",
            "\u{660}\u{6F0}",
            "\u{375}α",
            "\u{375}a",
            "א\u{5F3}",
            "a\u{5F3}",
            "שלום",
            "1שלום",
            "abcשלום",
            "محمد١٢",
            "محمد12",
            "محمد١2",
            "ǅemal",
            "Ⅻ",
            "ﾊﾝｶｸ",
            "ｶﾞ",
            "Straße",
            "İstanbul",
            "ǈ",
            "x\u{301}",
            "\u{301}x",
            "ﬁ",
            "㍿",
            "①",
        ];
        for name in names {
            let ours = key(name).ok();
            let theirs = profile.enforce(name).ok().map(|k| k.into_owned());
            assert_eq!(ours, theirs, "{name:?}");
        }
    }

    /// Letters of a few scripts, digits, marks, and characters that must never pass.
    fn name_char() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::char::range('a', 'z'),
            prop::char::range('A', 'Z'),
            prop::char::range('0', '9'),
            prop::char::range('α', 'ω'),
            prop::char::range('а', 'я'),
            prop::char::range('一', '丨'),
            prop::char::range('\u{300}', '\u{304}'),
            Just('_'),
            Just('é'),
            Just('ß'),
        ]
    }

    const INVISIBLES: [char; 8] =
        ['\u{200B}', '\u{200D}', '\u{FEFF}', '\u{AD}', '\u{E0041}', '\u{3164}', '\u{202E}', '\u{2060}'];

    proptest! {
        #[test]
        fn a_key_is_its_own_key(name in prop::collection::vec(name_char(), 1..20)) {
            let name: String = name.into_iter().collect();
            if let Ok(k) = key(&name) {
                prop_assert_eq!(key(&k), Ok(k.clone()));
            }
        }

        #[test]
        fn case_and_width_do_not_change_a_key(name in "[a-zA-Z0-9_]{1,20}") {
            let fullwidth: String = name.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
            prop_assert_eq!(key(&name.to_ascii_uppercase()), key(&name));
            prop_assert_eq!(key(&fullwidth), key(&name));
        }

        #[test]
        fn an_invisible_character_anywhere_is_refused(
            name in "[a-z]{1,12}", at in 0usize..13, invisible in 0usize..INVISIBLES.len()
        ) {
            let mut chars: Vec<char> = name.chars().collect();
            chars.insert(at.min(chars.len()), INVISIBLES[invisible]);
            let name: String = chars.into_iter().collect();
            prop_assert!(key(&name).is_err(), "{:?}", name);
        }
    }
}
