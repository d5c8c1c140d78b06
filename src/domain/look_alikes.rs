//! Which new account names may be registered. The PRECIS key ([`super::username`]) folds
//! width, case and composition, but not scripts: without more, `pаypal` with a Cyrillic
//! `а` registers beside `paypal`, `エ藤` (Katakana `エ`) beside `工藤`, `ı` under a
//! combining dot beside `i`, and `张三` with an ideographic tone mark, which most fonts
//! draw as nothing, beside `张三`. Registration refuses such names with the 9906 of a
//! character the profile refuses. Only new names are held to this: an account made before
//! keeps its key and logs in as before, so nothing here changes a key.
//!
//! The rules are Unicode's (UTS #39, Unicode Security Mechanisms):
//! - its "moderately restrictive" level of mixed scripts (§5.2), over each character's
//!   Script_Extensions (§5.1): one script, or Latin with Han and Hiragana and Katakana,
//!   Latin with Han and Bopomofo, Latin with Han and Hangul, or Latin with one other
//!   Recommended script (UAX #31's table) but Cyrillic or Greek, whose letters are the
//!   ones that pass for Latin (as do Cherokee's, which is not Recommended: `Ꭰavid`).
//!   Characters used with every script (Common, Inherited: digits, `_`, most marks) go
//!   with any;
//! - its optional checks on marks (§5.4): no combining mark on a dotless `ı` or `ȷ`
//!   (`ı` + U+0307 is `i`, `ı` + U+0301 is `í`), no dot above on a letter that has one
//!   already (`i` + U+0307 is `i` again), no mark twice in a row, and none of the marks
//!   that render as nothing which the profile lets through (the ideographic tone marks
//!   U+302A..U+302D, the Khitan filler U+16FE4; the rest, such as variation selectors,
//!   the profile refuses as default-ignorable);
//! - Japanese mixes Han and kana, and nine kana look like Han ideographs in Unicode's
//!   confusables data (`カ 力`, `エ 工`, `ロ 口`, `ニ 二`, `タ 夕`, `ハ 八`, `ト 卜`, `イ 亻`, and
//!   the prolonged sound mark `ー 一`). A name whose only kana are among those, beside Han
//!   or Latin letters, is refused: Japanese names that mix kanji and kana have other kana
//!   too (`田中さくら`, `ラーメン二郎`), while `张三カ` or `abcエ` stand for `张三力`, `abc工`.
//!   A name of kana alone (`タカ`) is allowed: it is a name of its own, however much it
//!   looks like `夕力` (docs/security.md says what is left).
//!
//! The one datum asked per character, its Script_Extensions, comes from the runtime's
//! `RegExp` in the worker and from `unicode-script` natively, through [`UnicodeFacts`].

use super::scripts::ScriptSet;
use super::username::{width_mapped, UnicodeFacts};

/// Why a new name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookAlike {
    /// Letters of scripts that do not go together at the moderately restrictive level.
    MixedScripts,
    /// Kana that stand for Han ideographs: the name has no other kana.
    KanaLikeHan(char),
    /// A mark on a dotless `ı` or `ȷ`, or a dot above on a letter that has one.
    DotlessWithMark(char),
    /// The same combining mark twice in a row.
    RepeatedMark(char),
    /// A mark that renders as nothing.
    InvisibleMark(char),
}

/// Whether `name` (trimmed, and already a valid name to the profile) may be registered
/// as a new account.
pub fn check_new_name(name: &str, facts: &dyn UnicodeFacts) -> Result<(), LookAlike> {
    // Printable ASCII is Latin and characters used with every script, with no marks:
    // no call into the runtime.
    if name.bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(());
    }
    let mapped = width_mapped(name, facts);
    check_marks(&facts.nfd(&mapped))?;
    let mut mix = Mix::new();
    for c in facts.nfc(&mapped).chars() {
        mix.add(c, facts.script_extensions(c));
    }
    mix.verdict()
}

/// The marks of UTS #39 §5.4, on the name's canonical decomposition (so that `é` + U+0301
/// is the acute twice).
fn check_marks(decomposed: &str) -> Result<(), LookAlike> {
    let mut before = None;
    for c in decomposed.chars() {
        if INVISIBLE_MARKS.contains(&c) {
            return Err(LookAlike::InvisibleMark(c));
        }
        if let Some(base) = before.filter(|_| is_combining_diacritic(c)) {
            if DOTLESS.contains(&base) || (c == DOT_ABOVE && DOTTED.contains(&base)) {
                return Err(LookAlike::DotlessWithMark(base));
            }
            if base == c {
                return Err(LookAlike::RepeatedMark(c));
            }
        }
        before = Some(c);
    }
    Ok(())
}

const WITH_ANY: ScriptSet = ScriptSet::of(&["Zyyy", "Zinh"]);
const LATIN: ScriptSet = ScriptSet::of(&["Latn"]);
const HAN: ScriptSet = ScriptSet::of(&["Hani"]);
const KANA: ScriptSet = ScriptSet::of(&["Hira", "Kana"]);
const HAN_OR_LATIN: ScriptSet = ScriptSet::of(&["Hani", "Latn"]);
const PASSING_FOR_LATIN: ScriptSet = ScriptSet::of(&["Cyrl", "Grek"]);
/// UAX #31's Recommended scripts (Table 5), those in common use today.
const RECOMMENDED: ScriptSet = ScriptSet::of(&[
    "Arab", "Armn", "Beng", "Bopo", "Cyrl", "Deva", "Ethi", "Geor", "Grek", "Gujr", "Guru", "Hani", "Hang",
    "Hebr", "Hira", "Knda", "Kana", "Khmr", "Laoo", "Latn", "Mlym", "Mymr", "Orya", "Sinh", "Taml", "Telu",
    "Thaa", "Thai", "Tibt",
]);
/// §5.2's sets of the highly restrictive level: Japanese, Chinese, Korean, with Latin.
const WITH_HAN: [ScriptSet; 3] = [
    ScriptSet::of(&["Latn", "Hani", "Hira", "Kana"]),
    ScriptSet::of(&["Latn", "Hani", "Bopo"]),
    ScriptSet::of(&["Latn", "Hani", "Hang"]),
];

/// What the name's characters tell, one at a time.
struct Mix {
    /// The scripts every letter has (a single script, where not empty).
    common: ScriptSet,
    /// The scripts every letter that is not Latin has.
    beside_latin: ScriptSet,
    /// Which of [`WITH_HAN`] cover every letter so far.
    covered: [bool; 3],
    /// The first kana that looks like Han, and whether there are other kana.
    kana_like_han: Option<char>,
    other_kana: bool,
    /// A Han or Latin letter.
    han_or_latin: bool,
}

impl Mix {
    fn new() -> Mix {
        Mix {
            common: ScriptSet::ALL,
            beside_latin: ScriptSet::ALL,
            covered: [true; 3],
            kana_like_han: None,
            other_kana: false,
            han_or_latin: false,
        }
    }

    fn add(&mut self, c: char, scripts: ScriptSet) {
        // Characters used with every script (digits, `_`, most marks) go with any.
        if scripts.meets(WITH_ANY) {
            return;
        }
        self.common = self.common.intersection(scripts);
        if !scripts.meets(LATIN) {
            self.beside_latin = self.beside_latin.intersection(scripts);
        }
        for (covered, cover) in self.covered.iter_mut().zip(WITH_HAN) {
            *covered &= scripts.meets(cover);
        }
        // The katakana middle dot and the like go with Han as well: neither kana nor Han.
        if scripts.meets(KANA) && !scripts.meets(HAN) {
            if KANA_LIKE_HAN.contains(&c) {
                self.kana_like_han.get_or_insert(c);
            } else {
                self.other_kana = true;
            }
        }
        self.han_or_latin |= scripts.meets(HAN_OR_LATIN) && !scripts.meets(KANA);
    }

    /// UTS #39 §5.2's moderately restrictive level: one script, one of the Han sets, or
    /// Latin and one other Recommended script but Cyrillic and Greek; then the kana that
    /// stand for Han.
    fn verdict(self) -> Result<(), LookAlike> {
        let one_script = !self.common.is_empty();
        let latin_and_one = self.beside_latin.intersection(RECOMMENDED).without(PASSING_FOR_LATIN);
        let latin_and_one = !latin_and_one.is_empty();
        if !(one_script || latin_and_one || self.covered.contains(&true)) {
            return Err(LookAlike::MixedScripts);
        }
        match self.kana_like_han {
            Some(c) if !self.other_kana && self.han_or_latin => Err(LookAlike::KanaLikeHan(c)),
            _ => Ok(()),
        }
    }
}

/// The kana that confusables.txt (UTS #39) takes for Han ideographs: カ 力, エ 工, ロ 口,
/// ニ 二, タ 夕, ハ 八, ト 卜, イ 亻, ー 一.
const KANA_LIKE_HAN: [char; 9] = ['カ', 'エ', 'ロ', 'ニ', 'タ', 'ハ', 'ト', 'イ', 'ー'];

/// Marks that the profile allows and most fonts draw as nothing: the ideographic tone
/// marks and the Khitan small script filler.
const INVISIBLE_MARKS: [char; 5] = ['\u{302A}', '\u{302B}', '\u{302C}', '\u{302D}', '\u{16FE4}'];

const DOT_ABOVE: char = '\u{307}';

/// Dotless i and j: with a mark above they are i and j with it.
const DOTLESS: [char; 2] = ['ı', 'ȷ'];

/// Letters whose dot a dot above hides in (the Soft_Dotted letters a name is likely to
/// hold: Latin i, j, į, ɨ, ị, Cyrillic і, ј, Greek ϳ).
const DOTTED: [char; 8] = ['i', 'j', 'į', 'ɨ', 'ị', 'і', 'ј', 'ϳ'];

/// The combining diacritical marks, in their blocks (the marks a Latin, Greek or Cyrillic
/// letter takes).
fn is_combining_diacritic(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::username::native::NativeUnicode;

    fn check(name: &str) -> Result<(), LookAlike> {
        check_new_name(name, &NativeUnicode)
    }

    #[test]
    fn a_latin_name_with_a_cyrillic_or_greek_letter_is_refused() {
        for name in
            ["p\u{430}ypal", "\u{440}aypal", "Ρaypal", "paypal\u{3bf}", "g\u{43e}\u{43e}gle", "ΡАYPAL"]
        {
            assert_eq!(check(name), Err(LookAlike::MixedScripts), "{name:?}");
        }
        // Cyrillic beside Greek, Han beside Arabic: no level allows them. Nor Latin beside
        // Cherokee, whose letters pass for Latin too, or another script not Recommended.
        for name in ["кириллицαβ", "张三محمد", "ελληνικά한국어", "\u{13A0}avid", "abcꆈꌠ"]
        {
            assert_eq!(check(name), Err(LookAlike::MixedScripts), "{name:?}");
        }
    }

    #[test]
    fn han_names_with_kana_that_look_like_han_are_refused() {
        for (name, kana) in [
            ("エ藤", 'エ'),
            ("张三カ", 'カ'),
            ("ロ红", 'ロ'),
            ("ニ郎", 'ニ'),
            ("タ阳", 'タ'),
            ("ハ百", 'ハ'),
            ("卜ト", 'ト'),
            ("イ也", 'イ'),
            ("张ー", 'ー'),
            ("abcエ", 'エ'),
            ("ｶ力", 'カ'), // halfwidth, as the key maps it
        ] {
            assert_eq!(check(name), Err(LookAlike::KanaLikeHan(kana)), "{name:?}");
        }
    }

    #[test]
    fn marks_that_hide_or_render_nothing_are_refused() {
        assert_eq!(check("\u{131}\u{307}van"), Err(LookAlike::DotlessWithMark('ı')), "ı and a dot is i");
        assert_eq!(check("ben\u{237}\u{307}amin"), Err(LookAlike::DotlessWithMark('ȷ')));
        assert_eq!(check("\u{131}\u{301}ngrid"), Err(LookAlike::DotlessWithMark('ı')), "ı and an acute is í");
        assert_eq!(check("i\u{307}van"), Err(LookAlike::DotlessWithMark('i')), "the dot on the dot");
        assert_eq!(check("Jos\u{E9}\u{301}"), Err(LookAlike::RepeatedMark('\u{301}')), "é and an acute");
        for mark in ['\u{302A}', '\u{302B}', '\u{302C}', '\u{302D}'] {
            assert_eq!(check(&format!("张三{mark}")), Err(LookAlike::InvisibleMark(mark)), "{mark:?}");
        }
        assert_eq!(check("a\u{16FE4}"), Err(LookAlike::InvisibleMark('\u{16FE4}')));
    }

    #[test]
    fn names_of_one_script_or_of_mixes_people_use_are_allowed() {
        let allowed = [
            "张三abc",
            "张三ａｂｃ",
            "José",
            "Jose\u{301}",
            "Müller",
            "Łukasz_Żółć",
            "Nguyễn",
            "İstanbul",
            "ıvan",
            "Ørsted",
            "田中さくら",
            "田中カタカナ",
            "ラーメン二郎",
            "山田タロウ",
            "タカ",
            "ア\u{30FB}イ",
            "Tanaka太郎",
            "한국어",
            "김철수kim",
            "張ㄅㄆ",
            "محمد",
            "محمد١٢",
            "שלום",
            "Ελληνικά",
            "Кириллица",
            "Иван_1990",
            "नमस्ते",
            "abcनमस्ते",
            "ᠮᠣᠩᠭᠣᠯ",
            "ꆈꌠ",
            "user_42",
            "١٢٣",
        ];
        for name in allowed {
            assert_eq!(check(name), Ok(()), "{name:?}");
        }
    }

    /// Every name the keys test of the end-to-end suite registers stays registrable:
    /// the new rules refuse none of the profile's own examples.
    #[test]
    fn the_recommended_scripts_are_uax_31s() {
        use unicode_script::UnicodeScript;
        let recommended = ScriptSet::of_codes(
            (0..=0x10FFFFu32)
                .filter_map(char::from_u32)
                .map(|c| c.script())
                .filter(|script| script.is_recommended())
                .map(|script| script.short_name()),
        );
        assert_eq!(recommended.without(WITH_ANY), RECOMMENDED);
    }

    #[test]
    fn the_profiles_examples_stay_registrable() {
        for name in ["Müller", "ΣΑΣ", "Ǆemal", "Straße", "ﾊﾝｶｸ", "ｶﾞｷ", "日本語テスト", "col\u{B7}lecció"]
        {
            assert_eq!(check(name), Ok(()), "{name:?}");
        }
    }
}
