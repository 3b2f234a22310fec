//! `on_token_counts`: UAX #29 words, lowercased and counted, in the
//! documented binary format.

mod common;

use std::ptr::{null, null_mut};

use common::{assert_error, call};
use open_native::*;

/// Status, message and `*out_len`, with the output buffer.
fn token_counts_raw(text: &[u8], out_cap: usize) -> (i32, String, usize, Vec<u8>) {
    let mut out = vec![0u8; out_cap];
    let mut out_len = usize::MAX;
    let (status, message) = call(|err, cap| unsafe {
        on_token_counts(text.as_ptr(), text.len(), out.as_mut_ptr(), out.len(), &mut out_len, err, cap)
    });
    (status, message, out_len, out)
}

/// Counts in output order, sizing the buffer the way a caller would: probe
/// with no buffer, then retry with the size reported.
fn token_counts(text: &str) -> Vec<(String, u64)> {
    let (status, _, needed, _) = token_counts_raw(text.as_bytes(), 0);
    assert_eq!(status, BUFFER_TOO_SMALL);
    let (status, message, out_len, out) = token_counts_raw(text.as_bytes(), needed);
    assert_eq!((status, out_len), (OK, needed), "{message}");
    decode(&out)
}

fn decode(mut bytes: &[u8]) -> Vec<(String, u64)> {
    let mut take = |n: usize| {
        let (head, tail) = bytes.split_at(n);
        bytes = tail;
        head
    };
    let terms = u32::from_le_bytes(take(4).try_into().unwrap());
    let decoded = (0..terms)
        .map(|_| {
            let len = u32::from_le_bytes(take(4).try_into().unwrap()) as usize;
            let term = String::from_utf8(take(len).to_vec()).unwrap();
            (term, u64::from_le_bytes(take(8).try_into().unwrap()))
        })
        .collect();
    assert!(bytes.is_empty(), "trailing bytes");
    decoded
}

fn counts(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|&(t, c)| (t.to_owned(), c)).collect()
}

#[test]
fn mixed_script_text_follows_uax29() {
    // Lowercasing keeps ß (only case folding maps it to "ss"), UAX #29 keeps
    // "don't" whole and, without a dictionary, splits 東京 into characters;
    // punctuation-only segments are dropped.
    let got = token_counts("Straße STRASSE naïve café, CAFÉ! 東京 123 don't");
    let expected = counts(&[
        ("café", 2),
        ("123", 1),
        ("don't", 1),
        ("naïve", 1),
        ("strasse", 1),
        ("straße", 1),
        ("京", 1), // U+4EAC sorts before U+6771 in UTF-8 byte order
        ("東", 1),
    ]);
    assert_eq!(got, expected);
}

#[test]
fn terms_are_ordered_by_count_then_bytes() {
    // UAX #29 splits at hyphens but keeps "3.14" whole; the final capital
    // sigma lowercases to the word-final form ς.
    let got = token_counts("b a c b a b. A-b-C; e-mail 3.14 ΟΔΟΣ");
    let expected = counts(&[("b", 4), ("a", 3), ("c", 2), ("3.14", 1), ("e", 1), ("mail", 1), ("οδο\u{3C2}", 1)]);
    assert_eq!(got, expected);
}

#[test]
fn text_without_words_encodes_zero_terms() {
    for text in ["", "  ,.;!? -- \n"] {
        let (status, _, out_len, out) = token_counts_raw(text.as_bytes(), 16);
        assert_eq!((status, out_len, &out[..4]), (OK, 4, &[0u8; 4][..]));
    }
    let mut out_len = 0;
    let result = call(|err, cap| unsafe { on_token_counts(null(), 0, null_mut(), 0, &mut out_len, err, cap) });
    assert_error(result, BUFFER_TOO_SMALL, "out holds 0 bytes but the term counts need 4");
    assert_eq!(out_len, 4);
}

#[test]
fn a_buffer_one_byte_short_reports_the_exact_size() {
    let text = b"one two two";
    let needed = 4 + (4 + 3 + 8) * 2;
    let (status, message, out_len, _) = token_counts_raw(text, needed - 1);
    assert_error((status, message), BUFFER_TOO_SMALL, &format!("need {needed}"));
    assert_eq!(out_len, needed);
    assert_eq!(token_counts_raw(text, needed).0, OK);
}

#[test]
fn invalid_utf8_names_the_byte_offset() {
    let (status, message, ..) = token_counts_raw(b"valid \xC3\x28 then", 100);
    assert_error((status, message), INVALID_ARGUMENT, "text is not valid UTF-8 at byte offset 6");
}
