//! Word counts for Unicode text.

use std::collections::HashMap;

use unicode_segmentation::UnicodeSegmentation;

use crate::error::Error;

/// Counts the words of `text` and encodes them into `out`, returning the
/// encoded length; see `on_token_counts` for the format.
///
/// Words are UAX #29 word segments that contain at least one alphanumeric
/// character (`unicode_words`), lowercased with `str::to_lowercase`, which
/// handles multi-char mappings and the final sigma.
pub fn token_counts(text: &str, out: &mut [u8]) -> Result<usize, Error> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for word in text.unicode_words() {
        *counts.entry(word.to_lowercase()).or_default() += 1;
    }
    let mut terms: Vec<(String, u64)> = counts.into_iter().collect();
    terms.sort_unstable_by(|(term_a, count_a), (term_b, count_b)| {
        count_b.cmp(count_a).then_with(|| term_a.as_bytes().cmp(term_b.as_bytes()))
    });

    let term_count = u32_field(terms.len(), "the number of distinct terms")?;
    let mut needed = 4;
    for (term, _) in &terms {
        u32_field(term.len(), "a term's byte length")?;
        needed += 4 + term.len() + 8;
    }
    if needed > out.len() {
        return Err(Error::BufferTooSmall {
            needed,
            message: format!("out holds {} bytes but the term counts need {needed}", out.len()),
        });
    }

    let mut rest = &mut out[..needed];
    put(&mut rest, &term_count.to_le_bytes());
    for (term, count) in &terms {
        put(&mut rest, &(term.len() as u32).to_le_bytes());
        put(&mut rest, term.as_bytes());
        put(&mut rest, &count.to_le_bytes());
    }
    Ok(needed)
}

fn u32_field(value: usize, what: &str) -> Result<u32, Error> {
    u32::try_from(value)
        .map_err(|_| Error::InvalidArgument(format!("{what} ({value}) does not fit the format's u32 field")))
}

/// Copies `bytes` to the front of `rest` and advances it past them.
fn put(rest: &mut &mut [u8], bytes: &[u8]) {
    let (head, tail) = std::mem::take(rest).split_at_mut(bytes.len());
    head.copy_from_slice(bytes);
    *rest = tail;
}
