//! Lines and characters of a text, indexed once so that every lookup is cheap.
//!
//! Error positions are lines and columns counted in characters, while the loader works in
//! byte offsets (and the YAML parser in character offsets). Walking the text from its start
//! for every error made 4,000 errors cost seconds; a [`TextIndex`] is built in one pass and
//! answers each question in logarithmic time plus at most [`CHECKPOINT`] characters.

use crate::sources::Position;

/// Characters between two checkpoints of a non-ASCII text.
const CHECKPOINT: usize = 64;

/// Where the lines of a text start, and (for non-ASCII text) the byte offset of every
/// [`CHECKPOINT`]-th character.
#[derive(Clone, Debug, Default)]
pub(crate) struct TextIndex {
    /// The byte offset where each line starts; the first is 0.
    line_starts: Vec<usize>,
    /// `None` for ASCII text (characters are bytes); otherwise the byte offset of characters
    /// 0, `CHECKPOINT`, `2 * CHECKPOINT`...
    checkpoints: Option<Vec<usize>>,
    /// The text's length in bytes.
    len: usize,
}

impl TextIndex {
    /// Indexes `text` in one pass.
    pub(crate) fn new(text: &str) -> TextIndex {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|newline| newline + 1));
        let checkpoints = (!text.is_ascii()).then(|| {
            text.char_indices()
                .step_by(CHECKPOINT)
                .map(|(offset, _)| offset)
                .collect()
        });
        TextIndex {
            line_starts,
            checkpoints,
            len: text.len(),
        }
    }

    /// The byte offset of character `index` of `text` (clamped to the end).
    pub(crate) fn byte_of_char(&self, text: &str, index: usize) -> usize {
        let Some(checkpoints) = &self.checkpoints else {
            return index.min(self.len);
        };
        let Some(&base) = checkpoints.get(index / CHECKPOINT) else {
            return self.len;
        };
        let rest = index % CHECKPOINT;
        text.get(base..)
            .and_then(|tail| tail.char_indices().nth(rest))
            .map_or(self.len, |(offset, _)| base + offset)
    }

    /// The number of characters before byte `offset` of `text`.
    pub(crate) fn char_of_byte(&self, text: &str, offset: usize) -> usize {
        let offset = floor_char_boundary(text, offset.min(self.len));
        let Some(checkpoints) = &self.checkpoints else {
            return offset;
        };
        let slot = checkpoints.partition_point(|&start| start <= offset) - 1;
        let base = checkpoints.get(slot).copied().unwrap_or(0);
        slot * CHECKPOINT + text.get(base..offset).map_or(0, |t| t.chars().count())
    }

    /// The line (from 1) holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// The line and column (characters, from 1) of byte `offset` of `text`.
    pub(crate) fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(self.len);
        let line = self.line_of(offset);
        let start = self.line_start(line).unwrap_or(0);
        let column = self.char_of_byte(text, offset) - self.char_of_byte(text, start) + 1;
        Position { line, column }
    }

    /// The byte offset where line `line` (from 1) starts.
    pub(crate) fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }

    /// The byte range of line `line` (from 1), without its line break.
    pub(crate) fn line_range(&self, text: &str, line: usize) -> Option<(usize, usize)> {
        let start = self.line_start(line)?;
        let next = self.line_start(line + 1).unwrap_or(self.len);
        let line_text = text.get(start..next)?;
        let trimmed = line_text
            .strip_suffix('\n')
            .map_or(line_text, |t| t.strip_suffix('\r').unwrap_or(t));
        Some((start, start + trimmed.len()))
    }
}

/// The largest character boundary of `text` at or before `offset`.
pub(crate) fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The smallest character boundary of `text` at or after `offset`.
pub(crate) fn ceil_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_agree_with_a_walk_from_the_start() {
        let text = "ab\ncé\r\n\nÿ日本語x\nlast";
        let index = TextIndex::new(text);
        for (offset, _) in text.char_indices() {
            assert_eq!(
                index.position(text, offset),
                Position::of_offset(text, offset),
                "{offset}"
            );
        }
        assert_eq!(index.line_range(text, 2), Some((3, 6)));
        assert_eq!(
            index.line_range(text, 5),
            Some((text.len() - 4, text.len()))
        );
        assert_eq!(index.line_range(text, 6), None);
    }

    #[test]
    fn characters_and_bytes_convert_both_ways() {
        let text: String = "aé日".repeat(100);
        let index = TextIndex::new(&text);
        for (char_index, (byte, _)) in text.char_indices().enumerate() {
            assert_eq!(index.byte_of_char(&text, char_index), byte);
            assert_eq!(index.char_of_byte(&text, byte), char_index);
        }
        assert_eq!(index.byte_of_char(&text, 10_000), text.len());
        let ascii = TextIndex::new("plain");
        assert_eq!(ascii.byte_of_char("plain", 3), 3);
    }
}
