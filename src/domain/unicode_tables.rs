//! The two Unicode properties account names need that JavaScript does not expose: the
//! Bidi class (for the Bidi Rule) and the joining type (for a zero width non-joiner).
//! The data is `unicode-bidi`'s and `unicode-joining-type`'s, which `build.rs` writes as
//! runs: one `u32` a run of code points, its first code point above [`VALUE_BITS`] bits
//! of value. Where the crates keep 12-byte ranges and a trie, this is less gzipped wasm
//! (docs/performance.md, "Unicode tables as runs"); the test below holds it to them on
//! every code point.

// BIDI_RUNS, JOINING_RUNS and VALUE_BITS.
include!(concat!(env!("OUT_DIR"), "/unicode_runs.rs"));

/// The Bidi classes RFC 5893's rule names; the others are [`Bidi::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bidi {
    L,
    R,
    AL,
    AN,
    EN,
    ES,
    CS,
    ET,
    ON,
    BN,
    NSM,
    Other,
}

/// Joining_Type, as ArabicShaping.txt gives it (U for the unlisted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joining {
    NonJoining,
    Dual,
    Left,
    Right,
    Transparent,
    Causing,
}

pub fn bidi_class(c: char) -> Bidi {
    use Bidi::*;
    // In build.rs's order of codes.
    const BY_CODE: [Bidi; 12] = [L, R, AL, AN, EN, ES, CS, ET, ON, BN, NSM, Other];
    BY_CODE[run_value(&BIDI_RUNS, c)]
}

pub fn joining_type(c: char) -> Joining {
    use Joining::*;
    const BY_CODE: [Joining; 6] = [NonJoining, Dual, Left, Right, Transparent, Causing];
    BY_CODE[run_value(&JOINING_RUNS, c)]
}

/// The value of the run `c` falls in (the first run starts at U+0000).
fn run_value(runs: &[u32], c: char) -> usize {
    let within = runs.partition_point(|&run| run >> VALUE_BITS <= c as u32);
    (runs[within - 1] & ((1 << VALUE_BITS) - 1)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_agree_with_the_crates_on_every_code_point() {
        use unicode_bidi::BidiClass as B;
        use unicode_joining_type::JoiningType as J;
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let bidi = match unicode_bidi::bidi_class(c) {
                B::L => Bidi::L,
                B::R => Bidi::R,
                B::AL => Bidi::AL,
                B::AN => Bidi::AN,
                B::EN => Bidi::EN,
                B::ES => Bidi::ES,
                B::CS => Bidi::CS,
                B::ET => Bidi::ET,
                B::ON => Bidi::ON,
                B::BN => Bidi::BN,
                B::NSM => Bidi::NSM,
                _ => Bidi::Other,
            };
            assert_eq!(bidi_class(c), bidi, "Bidi class of U+{:04X}", c as u32);
            let joining = match unicode_joining_type::get_joining_type(c) {
                J::DualJoining => Joining::Dual,
                J::LeftJoining => Joining::Left,
                J::RightJoining => Joining::Right,
                J::Transparent => Joining::Transparent,
                J::JoinCausing => Joining::Causing,
                _ => Joining::NonJoining,
            };
            assert_eq!(joining_type(c), joining, "joining type of U+{:04X}", c as u32);
        }
    }

    #[test]
    fn known_letters_have_their_classes() {
        assert_eq!(bidi_class('a'), Bidi::L);
        assert_eq!(bidi_class('א'), Bidi::R);
        assert_eq!(bidi_class('ب'), Bidi::AL);
        assert_eq!(bidi_class('٣'), Bidi::AN);
        assert_eq!(bidi_class('7'), Bidi::EN);
        assert_eq!(bidi_class(' '), Bidi::Other);
        assert_eq!(joining_type('ب'), Joining::Dual);
        assert_eq!(joining_type('ا'), Joining::Right);
        assert_eq!(joining_type('\u{064b}'), Joining::Transparent);
        assert_eq!(joining_type('a'), Joining::NonJoining);
    }
}
