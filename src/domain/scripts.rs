//! Sets of scripts: what a character's Script_Extensions property holds, as the
//! look-alike rules for new account names compare them ([`super::look_alikes`]).
//!
//! The scripts are named by their ISO 15924 codes, the names the JavaScript runtime's
//! `\p{Script_Extensions=...}` takes and `unicode-script` gives natively. The list is
//! every script of Unicode 17, the version of the runtime's ICU: a name the runtime does
//! not know would make its expression a syntax error, and the scripts added since
//! (Unicode 18's Jurchen, Proto-Cuneiform and Seal) have no letter the runtime allows in
//! a name yet (to it they are unassigned). A native test holds the list to `unicode-script`.

/// The ISO 15924 codes, one bit of a [`ScriptSet`] each, in this order. `Zyyy` (Common)
/// and `Zinh` (Inherited) are the sets of characters used with any script.
pub const SCRIPT_CODES: &str = "\
    Adlm Aghb Ahom Arab Armi Armn Avst Bali Bamu Bass Batk Beng Berf Bhks Bopo Brah \
    Brai Bugi Buhd Cakm Cans Cari Cham Cher Chrs Copt Cpmn Cprt Cyrl Deva Diak Dogr \
    Dsrt Dupl Egyp Elba Elym Ethi Gara Geor Glag Gong Gonm Goth Gran Grek Gujr Gukh \
    Guru Hang Hani Hano Hatr Hebr Hira Hluw Hmng Hmnp Hung Ital Java Kali Kana Kawi \
    Khar Khmr Khoj Kits Knda Krai Kthi Lana Laoo Latn Lepc Limb Lina Linb Lisu Lyci \
    Lydi Mahj Maka Mand Mani Marc Medf Mend Merc Mero Mlym Modi Mong Mroo Mtei Mult \
    Mymr Nagm Nand Narb Nbat Newa Nkoo Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr \
    Palm Pauc Perm Phag Phli Phlp Phnx Plrd Prti Rjng Rohg Runr Samr Sarb Saur Sgnw \
    Shaw Shrd Sidd Sidt Sind Sinh Sogd Sogo Sora Soyo Sund Sunu Sylo Syrc Tagb Takr \
    Tale Talu Taml Tang Tavt Tayo Telu Tfng Tglg Thaa Thai Tibt Tirh Tnsa Todr Tols \
    Toto Tutg Ugar Vaii Vith Wara Wcho Xpeo Xsux Yezi Yiii Zanb Zinh Zyyy";

/// A set of scripts, one bit per code of [`SCRIPT_CODES`]. The sets the rules name are
/// constants ([`ScriptSet::of`]), made when compiling: the worker carries no look-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptSet([u64; 3]);

impl ScriptSet {
    /// Every script of the list.
    pub const ALL: ScriptSet = {
        let count = (SCRIPT_CODES.len() + 1) / 5;
        ScriptSet([u64::MAX, u64::MAX, (1 << (count - 128)) - 1])
    };

    /// The set of the scripts with these codes (a code not listed fails the build).
    pub const fn of(codes: &[&str]) -> ScriptSet {
        let mut set = ScriptSet([0; 3]);
        let mut i = 0;
        while i < codes.len() {
            let at = position(codes[i].as_bytes());
            set.0[at / 64] |= 1 << (at % 64);
            i += 1;
        }
        set
    }

    /// Adds the script at this position of [`SCRIPT_CODES`].
    pub fn insert(&mut self, at: usize) {
        self.0[at / 64] |= 1 << (at % 64);
    }

    /// The set of the scripts at these positions of [`SCRIPT_CODES`].
    pub fn of_positions(positions: impl IntoIterator<Item = usize>) -> ScriptSet {
        let mut set = ScriptSet::default();
        for at in positions {
            set.insert(at);
        }
        set
    }

    /// The set of the scripts with these codes; a code not listed adds nothing.
    pub fn of_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> ScriptSet {
        ScriptSet::of_positions(
            codes.into_iter().filter_map(|code| SCRIPT_CODES.split(' ').position(|listed| listed == code)),
        )
    }

    pub fn intersection(self, other: ScriptSet) -> ScriptSet {
        ScriptSet([self.0[0] & other.0[0], self.0[1] & other.0[1], self.0[2] & other.0[2]])
    }

    pub fn without(self, other: ScriptSet) -> ScriptSet {
        ScriptSet([self.0[0] & !other.0[0], self.0[1] & !other.0[1], self.0[2] & !other.0[2]])
    }

    pub fn is_empty(self) -> bool {
        self.0 == [0; 3]
    }

    pub fn meets(self, other: ScriptSet) -> bool {
        !self.intersection(other).is_empty()
    }
}

/// Where a four-letter code is in the list, whose codes are four letters and a space.
const fn position(code: &[u8]) -> usize {
    let list = SCRIPT_CODES.as_bytes();
    let mut at = 0;
    while at * 5 + 4 <= list.len() {
        let i = at * 5;
        if code.len() == 4
            && list[i] == code[0]
            && list[i + 1] == code[1]
            && list[i + 2] == code[2]
            && list[i + 3] == code[3]
        {
            return at;
        }
        at += 1;
    }
    panic!("a script code that is not listed")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use unicode_script::UnicodeScript;

    use super::*;

    /// The list is every script `unicode-script` gives a character but Unicode 18's three,
    /// which the runtime does not know yet; and each code names its own bit.
    #[test]
    fn the_list_is_every_script_unicode_knows_up_to_the_runtimes_version() {
        let known: BTreeSet<&str> = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .flat_map(|c| c.script_extension().iter())
            .map(|script| script.short_name())
            .filter(|&code| code != "Zzzz")
            .collect();
        let listed: BTreeSet<&str> = SCRIPT_CODES.split(' ').collect();
        let newer: Vec<&str> = known.difference(&listed).copied().collect();
        assert_eq!(newer, ["Jurc", "Pcun", "Seal"]);
        assert!(listed.is_subset(&known), "{:?}", listed.difference(&known).collect::<Vec<_>>());
        assert_eq!(listed.len(), SCRIPT_CODES.split(' ').count(), "a code listed twice");
        assert!(SCRIPT_CODES.split(' ').all(|code| code.len() == 4), "four letters and a space each");
        let count = SCRIPT_CODES.split(' ').count();
        assert!(count > 128 && count <= 3 * 64, "ALL fills the third word in part");
        for (at, code) in SCRIPT_CODES.split(' ').enumerate() {
            let one = ScriptSet::of(&[code]);
            assert_eq!((one, ScriptSet::of_codes([code])), (ScriptSet::of_positions([at]), one), "{code}");
            assert_eq!(one.intersection(ScriptSet::ALL), one, "{code}");
        }
        assert_eq!(ScriptSet::ALL, ScriptSet::of_positions(0..count));
    }

    #[test]
    fn sets_meet_where_they_share_a_script() {
        let japanese = ScriptSet::of(&["Hani", "Hira", "Kana"]);
        assert!(japanese.meets(ScriptSet::of(&["Kana", "Latn"])));
        assert!(!japanese.meets(ScriptSet::of(&["Latn"])));
        assert_eq!(japanese.without(ScriptSet::of(&["Hani"])), ScriptSet::of(&["Hira", "Kana"]));
        assert!(ScriptSet::of_codes(["Xxxx"]).is_empty(), "a code not listed is no script");
    }
}
